package schema

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

func BenchmarkLoadHAExample(b *testing.B) {
	src, err := os.ReadFile("../examples/ha-three-servers/cluster.hcl")
	if err != nil {
		b.Fatal(err)
	}
	opts := LoadOptions{Vars: []string{"registry_password=pw"}}
	for b.Loop() {
		if _, diags, _ := Decode("cluster.hcl", src, opts); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

// A large cluster: 50 servers, 100 models and workers.
func BenchmarkLoadLarge(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("cluster {\n  name = \"big\"\n}\n\nregistry \"mysql\" {\n  host     = \"10.0.0.1\"\n  database = \"d\"\n  user     = \"u\"\n  password = var.pw\n}\n\nvariable \"pw\" {\n  sensitive = true\n  default   = \"p\"\n}\n\n")
	for i := range 50 {
		fmt.Fprintf(&sb, "server \"s%d\" {\n  address = \"10.1.%d.%d\"\n}\n\n", i, i/200, i%200+1)
	}
	for i := range 2 {
		fmt.Fprintf(&sb, "controller \"c%d\" {\n  server = server.s%d\n}\n\n", i, i)
	}
	for i := range 100 {
		fmt.Fprintf(&sb, "model \"m%d\" {\n  type = \"llm\"\n  path = \"/models/m%d\"\n}\n\n", i, i)
		fmt.Fprintf(&sb, "worker \"w%d\" {\n  server = server.s%d\n  model  = model.m%d\n  port   = %d\n}\n\n", i, 2+i%48, i, 8001+i/48)
	}
	src := []byte(sb.String())
	for b.Loop() {
		if _, diags, _ := Decode("cluster.hcl", src, LoadOptions{}); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}
