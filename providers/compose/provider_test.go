package compose

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/images"
)

func needDocker(t *testing.T) {
	t.Helper()
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatal("docker is required (set HACTL_E2E=skip to skip)")
	}
}

// registryOnly is a cluster with a managed database and no component.
func registryOnly(t *testing.T, dbImage string) *schema.Cluster {
	name := fmt.Sprintf("hactl-ct-%d", time.Now().UnixNano()%1e9)
	return &schema.Cluster{
		Name: name, Generation: schema.GenerationFlags, Version: "0.6.3",
		Registry: &schema.Registry{Type: schema.RegistryMySQL, Host: "db", Port: 3306, Database: "dbgpt",
			User: "dbgpt", Password: schema.NewSecret("reg'pw$1"), CreateDatabase: true},
		Compose: &schema.Compose{DBGPTImage: "unused:latest", DatabaseImage: dbImage, ManagedDatabase: true,
			RootPassword: schema.NewSecret("root'pw$2")},
	}
}

// The managed database starts, turns healthy, and hactl creates the
// database, the registry user and table; a second run changes nothing;
// Teardown keeps the volume; Purge then removes it.
func TestEnsureRegistryManagedDatabase(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	c := registryOnly(t, imgs.DB)
	p, err := New(c, Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer ccancel()
		if err := p.Teardown(cctx, true); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	// Before: no database container, no volume: absent, and plan starts nothing.
	st, err := p.Registry(c).State(ctx)
	if err != nil || !st.Reachable || st.DatabaseExists || st.TableExists {
		t.Fatalf("state before: %+v %v", st, err)
	}
	if cs, _ := containers(ctx, LabelProject+"="+p.Project()); len(cs) != 0 {
		t.Fatalf("State started %d containers", len(cs))
	}
	start := time.Now()
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Ensure (start database, wait healthy, schema): %s", time.Since(start).Round(time.Millisecond))
	if st, err := p.Registry(c).State(ctx); err != nil || !st.Reachable || !st.DatabaseExists || !st.TableExists || len(st.MissingColumns) > 0 {
		t.Fatalf("state after: %+v %v", st, err)
	}
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatalf("second Ensure: %v", err)
	}
	rows, err := p.Registry(c).Rows(ctx)
	if err != nil || len(rows) != 0 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	// The secrets are in no container's command line or label.
	out, err := exec.Command("docker", "ps", "-a", "--no-trunc", "--filter", "label="+LabelProject+"="+p.Project(),
		"--format", "{{.Command}} {{.Labels}}").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "pw$") {
		t.Errorf("a secret shows in docker ps: %s", out)
	}
	// Teardown without purge keeps the volume.
	if err := p.Teardown(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("docker", "volume", "inspect", p.DatabaseVolume()).Run(); err != nil {
		t.Errorf("volume %s gone after teardown without purge", p.DatabaseVolume())
	}
	if err := exec.Command("docker", "network", "inspect", p.Project()+"_"+NetworkName).Run(); err == nil {
		t.Errorf("network left after teardown")
	}
	if _, err := os.Stat(p.WorkDir()); !os.IsNotExist(err) {
		t.Errorf("work directory left after teardown: %v", err)
	}
	// The volume is kept but the database does not run: unknown, not started.
	if st, err := p.Registry(c).State(ctx); err != nil || st.Reachable || !strings.Contains(st.Err, "the database service "+DatabaseService(p.c)+" is not running") {
		t.Errorf("state with the database stopped: %+v %v", st, err)
	}
	if cs, _ := containers(ctx, LabelProject+"="+p.Project()); len(cs) != 0 {
		t.Errorf("State started %d containers", len(cs))
	}
	// With no component left, purging the managed registry removes its volume.
	if _, err := p.Registry(c).Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("docker", "volume", "inspect", p.DatabaseVolume()).Run(); err == nil {
		t.Errorf("volume %s left after Purge", p.DatabaseVolume())
	}
}

// managed_database = false: the registry is an external MySQL reached
// directly; hactl creates the database and table there and starts nothing.
func TestEnsureRegistryExternalDatabase(t *testing.T) {
	needDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("hactl-ct-extdb-%d", time.Now().UnixNano()%1e9)
	cmd := exec.CommandContext(ctx, "docker", "run", "-d", "--name", name, "--label", images.Label+"=1",
		"-e", "MARIADB_ROOT_PASSWORD", imgs.DB)
	cmd.Env = append(os.Environ(), "MARIADB_ROOT_PASSWORD=ext-root-pw") // not on the command line
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", "-v", name).Run() })
	ipOut, err := exec.Command("docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	c := registryOnly(t, "")
	c.Compose.ManagedDatabase = false
	c.Registry.Host = strings.TrimSpace(string(ipOut))
	c.Registry.User = "root"
	c.Registry.Password = schema.NewSecret("ext-root-pw")
	p, err := New(c, Options{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// The server may still be starting: the registry's connection retries.
	if st, err := p.Registry(c).State(ctx); err != nil || !st.Reachable || st.DatabaseExists {
		t.Fatalf("state before: %+v %v", st, err)
	}
	if err := p.Registry(c).Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Registry(c).State(ctx); err != nil || !st.Reachable || !st.DatabaseExists || !st.TableExists {
		t.Fatalf("state after: %+v %v", st, err)
	}
	rows, err := p.Registry(c).Rows(ctx)
	if err != nil || len(rows) != 0 {
		t.Fatalf("rows = %v, %v", rows, err)
	}
	if cs, _ := containers(ctx, LabelProject+"="+p.Project()); len(cs) != 0 {
		t.Errorf("an external registry started %d containers", len(cs))
	}
}
