package schema

import (
	"strings"
	"testing"
)

// Sensitive values may go in a model's params and api_key (hactl passes
// them through the environment); they are then secrets of the cluster.
func TestSensitiveModelValuesAllowed(t *testing.T) {
	src := `cluster { name = "t" }
variable "k" {
  sensitive = true
  default   = "sk-secret-1"
}
server "s1" { address = "10.0.0.1" }
model "gpt-4o" {
  type     = "llm"
  provider = "proxy/openai"
  api_key  = var.k
}
model "m" {
  type   = "llm"
  path   = "/m"
  params = { hf_token = var.k, max_context_size = "4096" }
}
controller "c" { server = server.s1 }
worker "a" {
  server = server.s1
  model  = model.gpt-4o
}
worker "b" {
  server = server.s1
  model  = model.m
  port   = 8002
}
`
	c, diags, _ := Decode("cluster.hcl", []byte(src), LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	m := c.ModelByName("m")
	if m.Params["hf_token"] != "sk-secret-1" || m.ParamRanges["hf_token"].Start.Line != 15 {
		t.Errorf("params %v ranges %v", m.Params, m.ParamRanges)
	}
	if c.ModelByName("gpt-4o").APIKey.Reveal() != "sk-secret-1" || !strings.Contains(strings.Join(c.Secrets(), ","), "sk-secret-1") {
		t.Error("api_key not a secret of the cluster")
	}
	for _, d := range diags {
		t.Errorf("unexpected diagnostic %s", d.Error())
	}
}
