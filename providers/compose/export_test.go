package compose

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"

	"github.com/hactl/hactl/schema"
)

// The HA example itself, exported: compose-go loads it back and the
// docker-compose CLI accepts it (issue 5, must show 5).
func TestExportHAExample(t *testing.T) {
	// The example's proxy models take their key from this variable (by
	// environment, so the test also loads an example that lacks it).
	c, err := schema.Load(filepath.Join("..", "..", "examples", "compose", "cluster.hcl"),
		schema.LoadOptions{Vars: []string{"registry_password=ex'ample$pw"}, Environ: []string{"HACTL_VAR_openai_api_key=sk-example'key"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Export(c, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, ComposeFile)
	if err := p.Write(file); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	details, err := loader.LoadConfigFiles(ctx, []string{file}, dir)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := loader.LoadWithContext(ctx, *details, func(o *loader.Options) { o.SetProjectName(p.Name, true) })
	if err != nil {
		t.Fatalf("compose-go loader: %v", err)
	}
	var names []string
	for n := range proj.Services {
		names = append(names, n)
	}
	if len(proj.Services) != 6 {
		t.Errorf("services: %v", names)
	}
	for _, s := range proj.Services {
		if s.Labels[LabelRole] == "worker" && !strings.Contains(strings.Join(s.Command, " "), s.Name) {
			t.Errorf("%s does not register with its service name: %v", s.Name, s.Command)
		}
	}
	if y, err := os.ReadFile(file); err != nil || strings.Contains(string(y), "sk-example") {
		t.Errorf("the API key in the project file (%v)", err)
	}
	if bin, err := exec.LookPath("docker-compose"); err == nil {
		cmd := exec.Command(bin, "config", "-q")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker-compose config: %v\n%s", err, out)
		}
	}
}
