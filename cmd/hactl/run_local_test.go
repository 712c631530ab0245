package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// plan -out, apply PLANFILE, status, logs and destroy run in-process
// through run() on a real local cluster (transport local, dbgpt-sim), as
// TestLocalApplyPlanDestroy runs them through the binary. One generation,
// short: the command bodies, not the engine, are under test here.
func TestInProcessLocalCluster(t *testing.T) {
	_, sim := buildBins(t)
	t.Setenv("NO_COLOR", "1")
	root := t.TempDir()
	dbgpt := simRoot(t, root, sim, "0.6.3")
	ports := freePorts(t, 6)
	src := fmt.Sprintf(localCluster, "0.6.3", root, dbgpt, ports[0], ports[1], ports[2], ports[3], 60, ports[4])
	file := writeFile(t, filepath.Join(root, "cluster.hcl"), src)
	const secret = "sk-inprocess-secret"
	key := "api_key=" + secret
	t.Cleanup(func() { runIn(t, "destroy", "-auto-approve", "-f", file, "-var", key) })

	must := func(code int, args ...string) runResult {
		t.Helper()
		r := runIn(t, args...)
		if r.code != code {
			t.Fatalf("hactl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("hactl %s printed the API key:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
		return r
	}

	planFile := filepath.Join(root, "first plan.tfplan")
	r := must(2, "plan", "-detailed-exitcode", "-f", file, "-var", key, "-out", planFile)
	for _, want := range []string{
		"Plan: 6 to add, 0 to change, 0 to destroy.",
		"\nSaved the plan to: " + planFile + "\n\nTo perform exactly these actions, run:\n",
		"    hactl apply -var api_key=... '" + planFile + "'\n",
		"  (replace ... with the value of the sensitive variable api_key, or drop that -var and set HACTL_VAR_api_key)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan -out lacks %q:\n%s", want, r.stdout)
		}
	}
	// The saved plan with another value of the variable: refused before
	// any change, naming the variable but not its values.
	r = must(1, "apply", planFile, "-var", "api_key=zz-different-value")
	if !strings.Contains(r.stderr, "api_key") || strings.Contains(r.stderr, "zz-different-value") || !strings.Contains(r.stderr, "other variable values: api_key") {
		t.Errorf("apply of a plan with another value:\n%s", r.stderr)
	}
	// The plan binds the bytes of its cluster file: another file of the same
	// cluster (here one that would trust any host key) is refused, naming
	// both, before anything is contacted.
	edited := writeFile(t, filepath.Join(root, "edited.hcl"), strings.Replace(src, `transport     = "local"`, "transport     = \"local\"\n  host_key_policy = \"insecure\"", 1))
	r = must(1, "apply", planFile, "-f", edited, "-var", key)
	if !strings.Contains(r.stderr, "it was made from the cluster file "+file+", not "+edited+" (whose content differs)") {
		t.Errorf("apply PLANFILE -f another file of the cluster:\n%s", r.stderr)
	}
	r = must(0, "apply", planFile, "-var", key)
	if !strings.Contains(r.stdout, "Apply complete! Resources: 6 added, 0 changed, 0 destroyed.") {
		t.Fatalf("apply PLANFILE:\n%s", r.stdout)
	}
	// The plan names its cluster: another cluster's file is refused.
	other := writeFile(t, filepath.Join(root, "other.hcl"), strings.Replace(src, `"local-e2e"`, `"other"`, 1))
	r = must(1, "apply", planFile, "-f", other, "-var", key)
	if !strings.Contains(r.stderr, `plan `+planFile+` is for cluster "local-e2e", but `+other+` declares cluster "other"`) {
		t.Errorf("apply PLANFILE -f another cluster:\n%s", r.stderr)
	}

	r = must(0, "plan", "-detailed-exitcode", "-f", file, "-var", key)
	if !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("plan of the applied cluster:\n%s", r.stdout)
	}
	r = must(0, "apply", "-f", file, "-var", key) // nothing to approve
	if !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("apply of the applied cluster:\n%s", r.stdout)
	}
	r = must(0, "apply", "-json", "-auto-approve", "-f", file, "-var", key)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var last struct {
		Type    string
		Changes map[string]any
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Type != "change_summary" || fmt.Sprint(last.Changes["add"]) != "0" {
		t.Errorf("apply -json of the applied cluster: %v\n%s", err, r.stdout)
	}

	r = must(0, "status", "--check", "-f", file, "-var", key)
	if !strings.HasSuffix(r.stdout, "\nCheck: healthy.\n") || !strings.Contains(r.stdout, "controller.c1") {
		t.Errorf("status --check:\n%s", r.stdout)
	}
	var rep struct {
		Components []map[string]any `json:"components"`
	}
	r = must(0, "status", "--json", "-f", file, "-var", key)
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Components) != 5 {
		t.Errorf("status --json: %v, %d components\n%s", err, len(rep.Components), r.stdout)
	}
	extra := fmt.Sprintf("\nworker \"llm2\" {\n  server = server.local\n  model  = model.glm-4-9b-chat\n  port   = %d\n}\n", ports[5])
	degraded := writeFile(t, filepath.Join(root, "degraded.hcl"), src+extra)
	r = must(2, "status", "--check", "-f", degraded, "-var", key)
	if !strings.Contains(r.stdout, "worker.llm2") || !strings.HasSuffix(r.stdout, "\nCheck: degraded (2 problems).\n") {
		t.Errorf("status --check, a worker not deployed:\n%s", r.stdout)
	}
	must(2, "status", "--check", "--json", "-f", degraded, "-var", key)
	must(0, "status", "-f", degraded, "-var", key)

	r = must(0, "logs", "controller.c1", "-n", "2", "--file", file, "-var", key)
	if n := strings.Count(r.stdout, "\n"); n != 2 {
		t.Errorf("logs -n 2: %d lines:\n%s", n, r.stdout)
	}
	r = must(1, "logs", "nope", "--file", file, "-var", key)
	if !strings.HasPrefix(r.stderr, "Error: ") || !strings.Contains(r.stderr, "nope") {
		t.Errorf("logs of an unknown component: %q", r.stderr)
	}

	r = must(0, "destroy", "-auto-approve", "-purge-registry", "-f", file, "-var", key)
	if !strings.Contains(r.stdout, "--purge-registry") || !strings.Contains(r.stdout, "Destroy complete! Resources: 5 destroyed.") {
		t.Errorf("destroy:\n%s", r.stdout)
	}
	r = must(0, "destroy", "-auto-approve", "-f", file, "-var", key)
	if !strings.Contains(r.stdout, "No changes. No hactl component is deployed for this cluster.") {
		t.Errorf("destroy of nothing:\n%s", r.stdout)
	}
	r = must(0, "destroy", "-json", "-auto-approve", "-f", file, "-var", key)
	if !strings.Contains(r.stdout, `"type":"change_summary"`) {
		t.Errorf("destroy -json of nothing:\n%s", r.stdout)
	}
}
