// Command hactl-e2e-images builds (or finds cached) the test cluster's images
// and prints their references: `make images`, or `go run ./test/images/cmd/hactl-e2e-images`.
// With -sim PATH it also builds the dbgpt-sim image from that static binary;
// -prune removes older hash tags (with -sim, the dbgpt-sim image's too).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/hactl/hactl/test/images"
)

func main() {
	sim := flag.String("sim", "", "also build the dbgpt-sim image from this static binary")
	prune := flag.Bool("prune", false, "remove older hash tags of the test images (those no container uses)")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()
	logf := func(format string, args ...any) { log.Printf(format, args...) }
	start := time.Now()
	imgs, err := images.Ensure(ctx, logf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("base    %s\nhost    %s\nsystemd %s\ndb      %s\n", imgs.Base, imgs.Host, imgs.Systemd, imgs.DB)
	keep := []string{imgs.Base, imgs.Host, imgs.Systemd, imgs.DB}
	if *sim != "" {
		ref, err := images.EnsureSim(ctx, *sim, logf)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("sim     %s\n", ref)
		keep = append(keep, ref)
	}
	if *prune {
		images.Prune(ctx, keep, logf)
	}
	fmt.Fprintf(os.Stderr, "images ready in %s\n", time.Since(start).Round(100*time.Millisecond))
}
