package main

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/testio"
)

// The first Ctrl-C says hactl is stopping and cancels the context (cause
// "interrupted"); the second exits at once, saying what may be half-done.
func TestInterruptTwice(t *testing.T) {
	var w testio.LockedBuffer
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	exited := make(chan struct{})
	stop := onSignals(&w, cancel, func() { close(exited) })
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		t.Fatal("the first SIGINT did not cancel the context")
	}
	if !errors.Is(context.Cause(ctx), errInterrupted) || !strings.Contains(w.String(), "stopping") {
		t.Fatalf("cause %v, said %q", context.Cause(ctx), w.String())
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatal("the second SIGINT did not exit")
	}
	if !strings.Contains(w.String(), "half-done") || !strings.Contains(w.String(), "repairs it") {
		t.Errorf("said %q", w.String())
	}
	stop()
}
