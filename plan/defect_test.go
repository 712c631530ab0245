package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testDefect = "its heartbeat checker thread died (sqlalchemy.exc.OperationalError: (2003, \"Can't connect\")): stale rows are never marked unhealthy until it restarts"

func TestCheckerDefectText(t *testing.T) {
	got := CheckerDefect(`sqlalchemy.exc.OperationalError: (2003, "Can't connect")`)
	want := `its heartbeat checker thread died (sqlalchemy.exc.OperationalError: (2003, "Can't connect")): stale rows are never marked unhealthy until it restarts`
	if got != want {
		t.Errorf("CheckerDefect = %q, want %q", got, want)
	}
	if got := CheckerDefect(""); !strings.Contains(got, "died (an exception)") {
		t.Errorf("CheckerDefect(\"\") = %q", got)
	}
}

// An unchanged running controller with a Defect is replaced where it
// runs: apply deploys (restarts) it and removes nothing.
func TestDefectIsAReplaceInPlace(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)
	obs := deployed(base)
	if obs[1].Address != "controller.ctrl2" {
		t.Fatalf("observed[1] = %s", obs[1].Address)
	}
	obs[1].Defect = testDefect
	p := Diff(c, base, obs, regPresent())
	if actions(p) != "replace controller.ctrl2" {
		t.Fatalf("actions = %s", actions(p))
	}
	ch := p.Changes[0]
	if ch.Reason != testDefect || ch.Server != "server2" || len(ch.OldServers) != 1 || ch.OldServers[0] != "server2" {
		t.Errorf("change = reason %q, server %s, old servers %v", ch.Reason, ch.Server, ch.OldServers)
	}
	// apply removes a replace's Observed after the new copy is healthy:
	// here that would remove the restarted controller.
	if len(ch.Observed) != 0 {
		t.Errorf("a replace in place acts on observed copies %+v: apply would remove the restarted process", ch.Observed)
	}
	if ch.Desired == nil || ch.DesiredHash != ch.ObservedHash || ch.Before == nil {
		t.Errorf("desired %v, hashes %s / %s, before %v", ch.Desired != nil, ch.DesiredHash, ch.ObservedHash, ch.Before)
	}
	if s := p.Summary(); s != (Summary{Add: 1, Destroy: 1}) {
		t.Errorf("summary = %+v", s)
	}
	for _, u := range p.Unchanged {
		if u.Address == "controller.ctrl2" {
			t.Error("the defective controller is also unchanged")
		}
	}
	var buf bytes.Buffer
	Renderer{W: &buf}.Text(p)
	out := buf.String()
	for _, want := range []string{
		"# controller.ctrl2 must be replaced (" + testDefect + ")",
		"+/- controller \"ctrl2\" {",
		"# (its settings are unchanged: its process will be restarted where it is)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan text lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	Renderer{W: &buf}.JSON(p)
	if !strings.Contains(buf.String(), `"reason":"its heartbeat checker thread died (`) {
		t.Errorf("plan JSON lacks the reason:\n%s", buf.String())
	}
}

// The other rules come first: a defect changes nothing they decide.
func TestDefectYieldsToOtherRules(t *testing.T) {
	c := testCluster(t)
	base := desired(t, c)
	for _, tc := range []struct {
		name   string
		mod    func(o *Observed)
		action string
		reason string
	}{
		{"not running", func(o *Observed) { o.Running = false }, "update controller.ctrl1", "not running"},
		{"settings changed", func(o *Observed) { o.Hash = "sha256:old" }, "update controller.ctrl1", "settings changed"},
		{"other server", func(o *Observed) { o.Server = "server3" }, "replace controller.ctrl1", "server changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := deployed(base)
			obs[0].Defect = testDefect
			tc.mod(&obs[0])
			p := Diff(c, base, obs, regPresent())
			if actions(p) != tc.action || p.Changes[0].Reason != tc.reason {
				t.Errorf("actions = %s (%s), want %s (%s)", actions(p), p.Changes[0].Reason, tc.action, tc.reason)
			}
		})
	}
}

// A defect seen or gone since a saved plan makes it stale; a plan file
// without defects keeps its fingerprint.
func TestDefectInPlanFile(t *testing.T) {
	dir := t.TempDir()
	clusterFile := filepath.Join(dir, "cluster.hcl")
	if err := os.WriteFile(clusterFile, []byte("# cluster\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := testCluster(t)
	base := desired(t, c)
	clean := deployed(base)
	if a, b := Fingerprint(clean, nil), Fingerprint(deployed(base), nil); a != b {
		t.Fatal("fingerprint not stable")
	}
	sick := deployed(base)
	sick[0].Defect = testDefect
	if Fingerprint(clean, nil) == Fingerprint(sick, nil) {
		t.Error("a defect does not change the fingerprint")
	}
	// Without a defect the line is the one of earlier hactl versions.
	if got := observedLine(clean[0]); strings.Contains(got, "defect") || strings.Count(got, "|") != 5 {
		t.Errorf("observed line %q", got)
	}

	path := filepath.Join(dir, "tfplan")
	f, err := NewFile(c.Name, clusterFile, Diff(c, base, clean, regPresent()))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = back.Check(path, Diff(c, desired(t, c), sick, regPresent()))
	var stale *StaleError
	if !errors.As(err, &stale) || !strings.Contains(err.Error(), "controller.ctrl1 on server1: "+testDefect) {
		t.Fatalf("a defect since the plan not refused clearly: %v", err)
	}

	// Saved with the defect: the file keeps it, and the check passes as
	// long as it is there.
	f, err = NewFile(c.Name, clusterFile, Diff(c, base, sick, regPresent()))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	var doc struct {
		Observed []Observed `json:"observed"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range doc.Observed {
		if o.Defect != "" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("plan file holds %d defects, want 1:\n%s", n, raw)
	}
	back, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Check(path, Diff(c, desired(t, c), sick, regPresent())); err != nil {
		t.Errorf("unchanged plan with a defect refused: %v", err)
	}
	if err := back.Check(path, Diff(c, desired(t, c), clean, regPresent())); err == nil || !strings.Contains(err.Error(), "controller.ctrl1 on server1 was restarted") {
		t.Errorf("defect gone since the plan: %v", err)
	}
}
