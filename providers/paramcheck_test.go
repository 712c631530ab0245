package providers

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/hactl/hactl/schema"
)

func TestWorkerHelpArgs(t *testing.T) {
	got := WorkerHelpArgs([]string{"start", "worker", "--model_name", "glm", "--model_path", "/m/glm", "--port", "8001"})
	want := []string{"start", "worker", "--model_name", "glm", "--model_path", "/m/glm", "--help"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
	if got := WorkerHelpArgs([]string{"start", "worker", "-c", "x.toml"}); got != nil {
		t.Errorf("no --model_path: got %q", got)
	}
}

// The help page is the shape click prints for a 0.6 worker of a proxy
// model (wrapped at 80 columns), with two option shapes added.
func TestClickOptions(t *testing.T) {
	b, err := os.ReadFile("testdata/worker-help-0.6.3.txt")
	if err != nil {
		t.Fatal(err)
	}
	opts := ClickOptions(strings.Split(string(b), "\n"))
	for _, o := range []string{"model_name", "model_path", "limit_model_concurrency", "log_level", "proxy_api_key", "max_context_size", "config", "verbose", "no-verbose", "help", "device"} {
		if !opts[o] {
			t.Errorf("option %q not read", o)
		}
	}
	for _, o := range []string{"c", "automatically", "TEXT", "default", "api.openai.com", ""} {
		if opts[o] {
			t.Errorf("%q read as an option", o)
		}
	}
	if len(opts) != 31 {
		t.Errorf("%d options read: %v", len(opts), opts)
	}
}

func TestParamProblems(t *testing.T) {
	opts := map[string]bool{"max_context_size": true, "proxy_server_url": true, "device": true}
	m := &schema.Model{Name: "glm", Params: map[string]string{"max_context_sise": "8", "device": "cpu", "temperature_zz": "1"},
		ParamRanges: map[string]hcl.Range{"max_context_sise": {Filename: "cluster.hcl", Start: hcl.Pos{Line: 12, Column: 5}}}}
	ps := ParamProblems("s1", "worker.llm", m, "0.6.3", opts)
	if len(ps) != 2 {
		t.Fatalf("problems %v", ps)
	}
	want := `model "glm": params key "max_context_sise" is not an option of DB-GPT 0.6.3's worker for this model (cluster.hcl:12,5); did you mean "max_context_size"?`
	if ps[0].What != want || ps[0].Server != "s1" || ps[0].Component != "worker.llm" {
		t.Errorf("got %+v\nwant %s", ps[0], want)
	}
	if strings.Contains(ps[1].What, "did you mean") || !strings.Contains(ps[1].What, `"temperature_zz"`) {
		t.Errorf("no near option: %s", ps[1].What)
	}
	if ps := ParamProblems("s1", "w", m, "0.6.3", nil); ps != nil {
		t.Errorf("no options read: no verdict, got %v", ps)
	}
}
