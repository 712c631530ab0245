package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/hactl/hactl/internal/sim/web"
	"github.com/hactl/hactl/providers/compose"
	"github.com/hactl/hactl/test/images"
)

// newWebdataEnv is the compose example for version under a project and
// volume of this test's own (other compose tests run the example at the same
// time), with the webserver block changed by edit.
func newWebdataEnv(t *testing.T, version, project string, edit func(webserver string) string) *composeEnv {
	t.Helper()
	if os.Getenv("HACTL_E2E") == "skip" {
		t.Skip("HACTL_E2E=skip")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(here), "..", ".."))
	bin := t.TempDir()
	e := &composeEnv{t: t, root: root, hactl: filepath.Join(bin, "hactl"), project: project, volume: project + "-registry"}
	src, err := os.ReadFile(filepath.Join(root, "examples", "compose", "cluster.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), `"`+composeExampleVersion+`"`, `"`+version+`"`, 1)
	text = strings.ReplaceAll(text, `"`+composeVolume+`"`, `"`+e.volume+`"`)
	text = strings.Replace(text, `name          = "`+composeProject+`"`, `name          = "`+project+`"`, 1)
	i := strings.Index(text, "\nwebserver {")
	j := i + strings.Index(text[i:], "\n}\n") + 3
	if i < 0 || !strings.Contains(text, `"`+project+`"`) || !strings.Contains(text, `"`+e.volume+`"`) {
		t.Fatalf("cannot derive this test's variant of the compose example")
	}
	e.example = filepath.Join(t.TempDir(), "cluster.hcl")
	e.writeExample(text[:i+1] + edit(text[i+1:j]) + text[j:])
	for _, b := range []struct{ out, pkg string }{{e.hactl, "./cmd/hactl"}, {filepath.Join(bin, "dbgpt-sim"), "./cmd/dbgpt-sim"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", b.out, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	imgs, err := images.Ensure(ctx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := images.EnsureSim(ctx, filepath.Join(bin, "dbgpt-sim"), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if sim, err = composeImageWithModels(ctx, sim, version); err != nil {
		t.Fatal(err)
	}
	e.env = append(os.Environ(), "HOME="+t.TempDir(), "NO_COLOR=1", "HACTL_PROVIDER=compose",
		"HACTL_VAR_dbgpt_image="+sim, "HACTL_VAR_database_image="+imgs.DB,
		"HACTL_VAR_registry_password="+composeSecret, "HACTL_VAR_openai_api_key="+composeAPIKey)
	sweep := func() {
		composeSweep(t, e.project, e.volume)
		_ = exec.Command("docker", "volume", "rm", e.project+"_"+compose.WebserverDataVolume).Run()
	}
	sweep()
	t.Cleanup(sweep)
	return e
}

func (e *composeEnv) writeExample(text string) {
	e.t.Helper()
	if err := os.WriteFile(e.example, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// containerIP is the address of a service's container on the project network.
func containerIP(t *testing.T, project, svc string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "--format",
		`{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}`, containerID(t, project, svc)).Output()
	if f := strings.Fields(string(out)); err != nil || len(f) == 0 {
		t.Fatalf("address of %s: %q %v", svc, out, err)
	}
	return strings.Fields(string(out))[0]
}

// dialogue calls a chat-history route of the webserver and returns the
// answer's data; it fails the test on anything but a successful Result.
func dialogue(t *testing.T, project, method, route string) json.RawMessage {
	t.Helper()
	u := "http://" + net.JoinHostPort(containerIP(t, project, "webserver"), "5670") + route
	req, _ := http.NewRequest(method, u, nil)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, route, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil || !r.Success {
		t.Fatalf("%s %s: HTTP %d %s", method, route, resp.StatusCode, body)
	}
	return r.Data
}

// createChatHistory stands in for what DB-GPT asks of an operator with a
// MySQL meta database (it creates its tables only in SQLite): the schema
// script, here the one table the sim uses, run as the registry user.
func createChatHistory(t *testing.T, project string) {
	t.Helper()
	c := mysql.NewConfig()
	c.User, c.Passwd, c.DBName = "root", composeSecret, "dbgpt"
	c.Net, c.Addr = "tcp", net.JoinHostPort(containerIP(t, project, "registry-db"), "3306")
	c.Timeout = 10 * time.Second
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(web.ChatHistoryDDL("mysql")); err != nil {
		t.Fatalf("creating chat_history in the registry database: %v", err)
	}
}

// Issue 15, must show 3: a webserver replaced by apply keeps its metadata:
// a conversation written before is listed after, with the meta database in
// the registry's MySQL and in the default SQLite file on the webserver's
// data volume; destroy keeps the volume, --purge-registry removes it.
func TestComposeWebserverDataKept(t *testing.T) {
	for _, tc := range []struct{ name, project, meta string }{
		{"registry", "webdata-registry", `  meta_database     = "registry"` + "\n"},
		{"sqlite", "webdata-sqlite", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newWebdataEnv(t, composeExampleVersion, tc.project, func(ws string) string {
				return strings.Replace(ws, "\n}\n", "\n"+tc.meta+"}\n", 1)
			})
			dataVolume := e.project + "_" + compose.WebserverDataVolume
			start := time.Now()
			e.must(10*time.Minute, "apply", "-auto-approve")
			t.Logf("compose apply from nothing (meta database %s): %s", tc.name, time.Since(start).Round(100*time.Millisecond))
			if !dockerOK("volume", "inspect", dataVolume) {
				t.Fatalf("no volume %s after apply", dataVolume)
			}
			if tc.name == "registry" {
				createChatHistory(t, e.project)
			}
			var conv struct {
				ConvUID string `json:"conv_uid"`
			}
			if err := json.Unmarshal(dialogue(t, e.project, "POST", "/api/v1/chat/dialogue/new?chat_mode=chat_normal&user_name=e2e"), &conv); err != nil || conv.ConvUID == "" {
				t.Fatalf("dialogue/new: %+v %v", conv, err)
			}
			before := containerID(t, e.project, "webserver")

			// A changed webserver setting: apply replaces the container.
			src, err := os.ReadFile(e.example)
			if err != nil {
				t.Fatal(err)
			}
			e.writeExample(strings.Replace(string(src), "  default_llm       = model.gpt-4o\n", "  default_llm       = model.gpt-4o\n  log_level         = \"DEBUG\"\n", 1))
			if out, code := e.run(2*time.Minute, "plan", "-detailed-exitcode"); code != 2 || !strings.Contains(out, "webserver") {
				t.Fatalf("plan after the change: exit %d\n%s", code, out)
			}
			start = time.Now()
			e.must(10*time.Minute, "apply", "-auto-approve")
			t.Logf("compose apply replacing the webserver: %s", time.Since(start).Round(100*time.Millisecond))
			if after := containerID(t, e.project, "webserver"); after == before {
				t.Fatalf("the webserver container was not replaced (%s)", after)
			}
			var list []struct {
				ConvUID  string `json:"conv_uid"`
				UserName string `json:"user_name"`
			}
			if err := json.Unmarshal(dialogue(t, e.project, "GET", "/api/v1/chat/dialogue/list?user_name=e2e"), &list); err != nil ||
				len(list) != 1 || list[0].ConvUID != conv.ConvUID {
				t.Fatalf("after the replacement the conversations are %+v (%v), want %s", list, err, conv.ConvUID)
			}

			out := e.must(5*time.Minute, "destroy", "-auto-approve")
			if !dockerOK("volume", "inspect", dataVolume) {
				t.Fatalf("destroy removed %s:\n%s", dataVolume, out)
			}
			if tc.name == "sqlite" && !strings.Contains(out, dataVolume) {
				t.Errorf("destroy does not say it kept %s:\n%s", dataVolume, out)
			}
			out = e.must(5*time.Minute, "destroy", "-auto-approve", "--purge-registry")
			if dockerOK("volume", "inspect", dataVolume) || dockerOK("volume", "inspect", e.volume) {
				t.Errorf("volumes left after destroy --purge-registry:\n%s", out)
			}
		})
	}
}
