package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
	"github.com/hactl/hactl/test/e2e/testcluster"
)

// Short heartbeats keep the test fast: workers beat every 2 s, controllers
// check every 2 s and mark rows older than 10 s unhealthy. The timeout leaves
// room for beats lost while a worker notices server1 is gone (a heartbeat may
// still go to server1 until the next health-probe round); on the project
// machine the oldest heartbeat seen during the failover is 1–2 s.
const (
	heartbeatInterval = 2
	heartbeatTimeout  = 10
	guideDir          = "/opt/ha-guide"
)

// TestHAGuideByHand performs the DB-GPT HA guide's steps by hand over SSH on
// the test cluster (no hactl): the registry table in MariaDB, controllers on
// server1 and server2 sharing it, an LLM and an embedding worker on server3,
// a light webserver with remote embedding on server3. It checks the guide's
// promise: both controllers list the same healthy instances, and after
// server1 dies the workers stay healthy through server2 for more than one
// heartbeat timeout. A worker killed without notice then turns unhealthy,
// which shows the check above can fail.
func TestHAGuideByHand(t *testing.T) {
	for _, gen := range []schema.Generation{schema.GenerationFlags, schema.GenerationTOML} {
		t.Run("dbgpt-"+string(gen), func(t *testing.T) {
			t.Parallel()
			haGuide(t, gen)
		})
	}
}

// row is what the test compares of a registry instance.
type row struct {
	Model   string `json:"model_name"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Healthy bool   `json:"healthy"`
	Beat    string `json:"last_heartbeat"`
}

func haGuide(t *testing.T, gen schema.Generation) {
	c := testcluster.Start(t, testcluster.Options{Generation: gen, NoDatabase: true, SimEnv: map[string]string{
		"DBGPT_SIM_PROBE_INTERVAL":    "1s",
		"DBGPT_SIM_MANAGER_HEARTBEAT": fmt.Sprintf("%ds", heartbeatInterval),
	}})
	s3 := c.IP(testcluster.Server3)
	controllers := "http://server1:8000,http://server2:8000" // the guide's addresses, resolved on the hosts

	// The guide's schema step: the database and the registry table.
	admin := c.OpenDB("")
	if _, err := admin.Exec("CREATE DATABASE IF NOT EXISTS " + testcluster.Database); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DB().Exec(dbgpt.MySQLRegistryDDL); err != nil {
		t.Fatalf("registry DDL: %v", err)
	}

	secret := map[string]string{"CONTROLLER_REGISTRY_DB_PASSWORD": c.DBPassword}
	for _, h := range []string{testcluster.Server1, testcluster.Server2} {
		if gen == schema.GenerationFlags {
			launch(t, c, h, "controller", secret, nil,
				"start", "controller", "--host", "0.0.0.0", "--port", "8000",
				"--registry_type", "database", "--registry_db_type", "mysql", "--registry_db_name", testcluster.Database,
				"--registry_db_host", "db", "--registry_db_port", "3306", "--registry_db_user", testcluster.DBUser,
				"--heartbeat_interval_secs", fmt.Sprint(heartbeatInterval), "--heartbeat_timeout_secs", fmt.Sprint(heartbeatTimeout))
		} else {
			launch(t, c, h, "controller", secret, map[string]string{"controller.toml": fmt.Sprintf(`[service.model.controller]
host = "0.0.0.0"
port = 8000
heartbeat_interval_secs = %d
heartbeat_timeout_secs = %d

[service.model.controller.registry.database]
type = "mysql"
host = "db"
port = 3306
database = %q
user = %q
password = "${env:CONTROLLER_REGISTRY_DB_PASSWORD}"
`, heartbeatInterval, heartbeatTimeout, testcluster.Database, testcluster.DBUser)},
				"start", "controller", "-c", "controller.toml")
		}
	}
	for _, h := range []string{testcluster.Server1, testcluster.Server2} {
		waitFor(t, 20*time.Second, h+"'s controller to serve its registry", func() error {
			_, err := listModels(c.URL(h, 8000) + "/api/controller/models")
			return err
		})
	}

	workers := []struct{ name, typ, path, section string }{
		{"glm-4-9b-chat", "llm", "/app/models/glm-4-9b-chat", "llms"},
		{"text2vec", "text2vec", "/app/models/text2vec-large-chinese", "embeddings"},
	}
	ports := []int{8001, 8003}
	for i, w := range workers {
		if gen == schema.GenerationFlags {
			launch(t, c, testcluster.Server3, "worker-"+w.name, nil, nil,
				"start", "worker", "--model_name", w.name, "--model_path", w.path, "--worker_type", w.typ,
				"--host", "0.0.0.0", "--port", fmt.Sprint(ports[i]), "--controller_addr", controllers,
				"--worker_register_host", s3, "--heartbeat_interval", fmt.Sprint(heartbeatInterval))
		} else {
			launch(t, c, testcluster.Server3, "worker-"+w.name, nil, map[string]string{"worker.toml": fmt.Sprintf(`[service.model.worker]
host = "0.0.0.0"
port = %d
worker_type = %q
controller_addr = %q
worker_register_host = %q
heartbeat_interval = %d

[[models.%s]]
name = %q
provider = "hf"
path = %q
`, ports[i], w.typ, controllers, s3, heartbeatInterval, w.section, w.name, w.path)},
				"start", "worker", "-c", "worker.toml")
		}
	}
	web := map[string]string{"LLM_MODEL": "glm-4-9b-chat", "EMBEDDING_MODEL": "text2vec"}
	if gen == schema.GenerationFlags {
		launch(t, c, testcluster.Server3, "webserver", web, nil,
			"start", "webserver", "--host", "0.0.0.0", "--port", "5670", "--light", "--remote_embedding", "--controller_addr", controllers)
	} else {
		launch(t, c, testcluster.Server3, "webserver", nil, map[string]string{"webserver.toml": fmt.Sprintf(`[service.web]
host = "0.0.0.0"
port = 5670
light = true
remote_embedding = true
controller_addr = %q

[service.web.database]
type = "sqlite"
path = %q

[models]
default_llm = "glm-4-9b-chat"
default_embedding = "text2vec"
`, controllers, guideDir+"/webserver/meta_data/dbgpt.db")},
			// DB-GPT 0.7's webserver resolves a relative config path (and
			// relative paths in it) against its install root, not its working
			// directory (DBGPT-PROTOCOL.md): the guide's reader gives absolute ones.
			"start", "webserver", "-c", guideDir+"/webserver/webserver.toml")
	}

	want := []row{
		{Model: "WorkerManager@service", Host: s3, Port: 8001, Healthy: true},
		{Model: "WorkerManager@service", Host: s3, Port: 8003, Healthy: true},
		{Model: "glm-4-9b-chat@llm", Host: s3, Port: 8001, Healthy: true},
		{Model: "text2vec@text2vec", Host: s3, Port: 8003, Healthy: true},
	}
	// The guide's promise, part one: both controllers list the same healthy instances.
	sources := map[string]string{
		"controller on server1": c.URL(testcluster.Server1, 8000) + "/api/controller/models",
		"controller on server2": c.URL(testcluster.Server2, 8000) + "/api/controller/models",
		"webserver on server3":  c.URL(testcluster.Server3, 5670) + "/api/controller/models",
	}
	for name, url := range sources {
		waitFor(t, 30*time.Second, name+" to list the four healthy instances", func() error {
			got, err := listModels(url)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(shape(got), want) {
				return fmt.Errorf("got %v", got)
			}
			return nil
		})
	}
	if got := getJSON(t, c.URL(testcluster.Server3, 5670)+"/api/health"); got["status"] != "ok" {
		t.Errorf("webserver /api/health = %v", got)
	}
	out := c.MustSSH(testcluster.Server1, "CONTROLLER_ADDRESS=http://server2:8000 dbgpt model list")
	for _, s := range []string{"Model Name", "Last Heartbeat", "glm-4-9b-chat", "text2vec", "WorkerManager"} {
		if !strings.Contains(out, s) {
			t.Errorf("dbgpt model list lacks %q:\n%s", s, out)
		}
	}
	// The password reached the controllers through the environment only.
	for _, h := range []string{testcluster.Server1, testcluster.Server2} {
		if ps := c.MustSSH(h, "ps -eo args"); strings.Contains(ps, c.DBPassword) || !strings.Contains(ps, "start controller") {
			t.Errorf("%s: registry password on a command line, or no controller:\n%s", h, ps)
		}
	}

	// Part two: server1 dies. For more than one heartbeat timeout every row
	// stays healthy through server2, with heartbeats fresh in the database.
	if err := c.Kill(testcluster.Server1); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	hold := time.Duration(heartbeatTimeout+2*heartbeatInterval) * time.Second
	server2 := sources["controller on server2"]
	maxAge := 0
	for time.Since(killed) < hold {
		time.Sleep(time.Second)
		got, err := listModels(server2)
		if err != nil {
			t.Fatalf("%.0fs after server1 died: server2: %v", time.Since(killed).Seconds(), err)
		}
		if !reflect.DeepEqual(shape(got), want) {
			t.Fatalf("%.0fs after server1 died: server2 lists %v, want %v", time.Since(killed).Seconds(), got, want)
		}
		stale, age := staleRows(t, c)
		if len(stale) > 0 {
			t.Fatalf("%.0fs after server1 died: stale heartbeats in the registry: %v", time.Since(killed).Seconds(), stale)
		}
		maxAge = max(maxAge, age)
	}
	t.Logf("server2 kept all four rows healthy for %s after server1 died; oldest heartbeat seen: %d s (timeout %d s)",
		time.Since(killed).Round(time.Second), maxAge, heartbeatTimeout)
	if got, err := listModels(sources["webserver on server3"]); err != nil || !reflect.DeepEqual(shape(got), want) {
		t.Errorf("webserver after server1 died: %v %v", got, err)
	}

	// Control: a worker killed without notice turns unhealthy through server2.
	c.MustSSH(testcluster.Server3, "kill -9 $(cat "+guideDir+"/worker-glm-4-9b-chat/pid)")
	waitFor(t, time.Duration(heartbeatTimeout+3*heartbeatInterval)*time.Second, "the killed LLM worker's rows to turn unhealthy", func() error {
		got, err := listModels(server2)
		if err != nil {
			return err
		}
		for _, r := range shape(got) {
			if r.Port == 8001 && r.Healthy {
				return fmt.Errorf("still healthy: %v", r)
			}
			if r.Port == 8003 && !r.Healthy {
				return fmt.Errorf("the living text2vec worker turned unhealthy: %v", r)
			}
		}
		return nil
	})
}

// launch starts `dbgpt args...` on host in the background as the guide's
// operator would: its own directory, settings files, a mode-0600 environment
// file for secrets, a log file, and a pid file.
func launch(t *testing.T, c *testcluster.Cluster, host, name string, env, files map[string]string, args ...string) {
	t.Helper()
	dir := guideDir + "/" + name
	c.MustSSH(host, "mkdir -p "+quote(dir))
	var envFile strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		envFile.WriteString(k + "=" + quote(env[k]) + "\n")
	}
	files = mergeFiles(files, map[string]string{"env": envFile.String()})
	for _, f := range slices.Sorted(maps.Keys(files)) {
		if _, err := c.SSH(host, "umask 077 && cat > "+quote(dir+"/"+f), []byte(files[f])); err != nil {
			t.Fatal(err)
		}
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = quote(a)
	}
	// The background job is only the setsid command, with every stream
	// redirected: the SSH session then ends at once and $! is dbgpt's pid.
	cmd := "cd " + quote(dir) + " || exit 1; setsid nohup sh -c 'set -a; . ./env; set +a; exec dbgpt \"$@\"' dbgpt " +
		strings.Join(quoted, " ") + " >log 2>&1 </dev/null & echo $! > pid"
	c.MustSSH(host, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			if out, err := c.Exec(host, "tail -n 25 "+quote(dir+"/log")); err == nil {
				t.Logf("%s on %s, last lines of its log:\n%s", name, host, out)
			}
		}
	})
}

func listModels(url string) ([]row, error) {
	cl := http.Client{Timeout: 3 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	var rows []row
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("GET %s: %v: %s", url, err, body)
	}
	return rows, nil
}

func getJSON(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return m
}

// shape drops the heartbeat time and sorts, for comparison.
func shape(rows []row) []row {
	out := make([]row, len(rows))
	for i, r := range rows {
		r.Beat = ""
		out[i] = r
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Model != out[j].Model {
			return out[i].Model < out[j].Model
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// staleRows returns registry rows whose last heartbeat is older than the
// heartbeat timeout, by the database's clock, and the oldest age seen.
func staleRows(t *testing.T, c *testcluster.Cluster) ([]string, int) {
	t.Helper()
	rs, err := c.DB().Query("SELECT model_name, port, TIMESTAMPDIFF(SECOND, last_heartbeat, NOW()) FROM " + dbgpt.RegistryTable)
	if err != nil {
		t.Fatalf("registry: %v", err)
	}
	defer rs.Close()
	var stale []string
	oldest := 0
	for rs.Next() {
		var model string
		var port int
		var age *int
		if err := rs.Scan(&model, &port, &age); err != nil {
			t.Fatal(err)
		}
		if age != nil {
			oldest = max(oldest, *age)
		}
		if age == nil || *age > heartbeatTimeout { // the stored time is truncated to the second
			stale = append(stale, fmt.Sprintf("%s:%d (age %v s)", model, port, deref(age)))
		}
	}
	return stale, oldest
}

func deref(p *int) any {
	if p == nil {
		return "NULL"
	}
	return *p
}

func waitFor(t *testing.T, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %s for %s: %v", d, what, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func mergeFiles(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
