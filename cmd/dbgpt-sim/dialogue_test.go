package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hactl/hactl/internal/sim/web"
	"github.com/hactl/hactl/internal/testdb"
)

const (
	dialogueNew  = "/api/v1/chat/dialogue/new"
	dialogueList = "/api/v1/chat/dialogue/list"
)

// newDialogue creates a conversation and returns its conv_uid.
func newDialogue(t *testing.T, base, user string) string {
	t.Helper()
	code, b := do(t, "POST", base+dialogueNew+"?chat_mode=chat_normal&user_name="+user, nil)
	var r struct {
		Success bool    `json:"success"`
		ErrCode *string `json:"err_code"`
		Data    struct {
			ConvUID  string `json:"conv_uid"`
			ChatMode string `json:"chat_mode"`
			UserName string `json:"user_name"`
		} `json:"data"`
	}
	if code != 200 || json.Unmarshal([]byte(b), &r) != nil || !r.Success || r.ErrCode != nil || r.Data.ConvUID == "" ||
		r.Data.ChatMode != "chat_normal" || r.Data.UserName != user {
		t.Fatalf("dialogue/new: %d %s", code, b)
	}
	return r.Data.ConvUID
}

// dialogues lists the conv_uids of user's conversations.
func dialogues(t *testing.T, base, user string) []string {
	t.Helper()
	code, b := do(t, "GET", base+dialogueList+"?user_name="+user, nil)
	var r struct {
		Success bool `json:"success"`
		Data    []struct {
			ConvUID string `json:"conv_uid"`
		} `json:"data"`
	}
	if code != 200 || json.Unmarshal([]byte(b), &r) != nil || !r.Success {
		t.Fatalf("dialogue/list: %d %s", code, b)
	}
	var out []string
	for _, d := range r.Data {
		out = append(out, d.ConvUID)
	}
	return out
}

// A conversation written through one webserver process is listed by the
// next one on the same SQLite file: 0.6 finds it at an absolute
// LOCAL_DB_NAME + ".db", 0.7 at [service.web.database] path.
func TestDialogueSQLiteKept(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file06 := filepath.Join(dir, "data06", "dbgpt")
	if err := os.MkdirAll(filepath.Dir(file06), 0o755); err != nil {
		t.Fatal(err)
	}
	file07 := filepath.Join(dir, "data07", "meta.db")
	toml := func(port int) string {
		return writeFile(t, "web.toml", "[service.web]\nhost = \"127.0.0.1\"\nport = "+itoa(port)+"\nlight = true\n"+
			"[service.web.database]\ntype = \"sqlite\"\npath = \""+file07+"\"\n")
	}
	for _, gen := range []struct {
		name  string
		start func(port int) *proc
		file  string
	}{
		{"0.6", func(port int) *proc {
			return start(t, []string{"LOCAL_DB_TYPE=sqlite", "LOCAL_DB_NAME=" + file06}, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(port))
		}, file06 + ".db"},
		{"0.7", func(port int) *proc {
			return start(t, []string{"DBGPT_SIM_VERSION=0.7.0"}, "start", "webserver", "-c", toml(port))
		}, file07},
	} {
		port := freePort(t)
		p := gen.start(port)
		waitUp(t, p, url(port))
		id := newDialogue(t, url(port), "alice")
		p.signal(15)
		p.wait(patience)
		if _, err := os.Stat(gen.file); err != nil {
			t.Fatalf("%s: meta database not at %s: %v", gen.name, gen.file, err)
		}
		port = freePort(t)
		p = gen.start(port)
		waitUp(t, p, url(port))
		if got := dialogues(t, url(port), "alice"); len(got) != 1 || got[0] != id {
			t.Errorf("%s: after a restart the list is %q, want [%s]", gen.name, got, id)
		}
		if got := dialogues(t, url(port), "bob"); len(got) != 0 {
			t.Errorf("%s: bob's list %q, want none", gen.name, got)
		}
	}
}

// With a MySQL meta database the webserver creates the database when it is
// missing but not its tables (as DB-GPT: the operator runs its schema
// script): the dialogue routes fail with E0003 until the table is there.
func TestDialogueMySQL(t *testing.T) {
	t.Parallel()
	srv := testdb.Start(t)
	name := "meta_" + strings.ReplaceAll(t.Name(), "/", "_")
	env06 := []string{"LOCAL_DB_TYPE=mysql", "LOCAL_DB_HOST=" + srv.Host, "LOCAL_DB_PORT=" + itoa(srv.Port),
		"LOCAL_DB_USER=" + srv.User, "LOCAL_DB_PASSWORD=" + srv.Password, "LOCAL_DB_NAME=" + strings.ToLower(name)}
	port := freePort(t)
	p := start(t, env06, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(port))
	waitUp(t, p, url(port))
	if !strings.Contains(p.err.String(), "not support DDL init and upgrade") {
		t.Errorf("no warning about the missing schema:\n%s", p.err.String())
	}
	if code, b := do(t, "POST", url(port)+dialogueNew+"?user_name=alice", nil); code != 400 || !strings.Contains(b, `"E0003"`) || !strings.Contains(b, "chat_history") {
		t.Errorf("dialogue/new without a table: %d %s", code, b)
	}
	db := srv.Open(t, strings.ToLower(name))
	if _, err := db.Exec(web.ChatHistoryDDL("mysql")); err != nil {
		t.Fatal(err)
	}
	id := newDialogue(t, url(port), "alice")

	// 0.7 reads the same database from its TOML file; the password by env.
	port7 := freePort(t)
	cfg := writeFile(t, "web.toml", "[service.web]\nhost = \"127.0.0.1\"\nport = "+itoa(port7)+"\nlight = true\n"+
		"[service.web.database]\ntype = \"mysql\"\nhost = \""+srv.Host+"\"\nport = "+itoa(srv.Port)+"\ndatabase = \""+strings.ToLower(name)+"\"\n"+
		"user = \""+srv.User+"\"\npassword = \"${env:HACTL_REGISTRY_PASSWORD}\"\n")
	p7 := start(t, []string{"DBGPT_SIM_VERSION=0.7.0", "HACTL_REGISTRY_PASSWORD=" + srv.Password}, "start", "webserver", "-c", cfg)
	waitUp(t, p7, url(port7))
	if got := dialogues(t, url(port7), "alice"); len(got) != 1 || got[0] != id {
		t.Errorf("0.7 lists %q, want [%s]", got, id)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM chat_history WHERE conv_uid = ? AND user_name = 'alice'", id).Scan(&n); err != nil || n != 1 {
		t.Errorf("row in chat_history: %d %v", n, err)
	}

	// A wrong password fails the start, as DB-GPT's engine.connect() does.
	bad := append(append([]string{}, env06...), "LOCAL_DB_PASSWORD=wrong")
	pb := start(t, bad, "start", "webserver", "--light", "--host", "127.0.0.1", "--port", itoa(freePort(t)))
	if code := pb.wait(patience); code == 0 {
		t.Errorf("a wrong meta database password started: exit %d", code)
	}
}
