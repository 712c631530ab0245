package ssh

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hactl/hactl/schema"
)

func TestParseProcNetTCP(t *testing.T) {
	// Real lines: a LISTEN on 0.0.0.0:8000, an ESTABLISHED one, a tcp6 LISTEN on :::5670.
	in := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 412345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F40 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 412399 1 0000000000000000 20 4 30 10 -1
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1626 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 55555 1 0000000000000000 100 0 0 10 0
garbage line
`
	got := parseProcNetTCP(in)
	if len(got) != 2 || got[0].Port != 8000 || got[0].Inode != "412345" || got[1].Port != 5670 || got[1].Inode != "55555" {
		t.Fatalf("got %+v", got)
	}
	if ino, ok := parseSocketInodes("lrwx------ 1 root root 64 Nov 26 14:00 7 -> socket:[412345]"); !ok || ino != "412345" {
		t.Errorf("inode %q %v", ino, ok)
	}
	if _, ok := parseSocketInodes("lr-x------ 1 root root 64 Nov 26 14:00 3 -> /dev/null"); ok {
		t.Error("not a socket")
	}
}

func TestParseObserve(t *testing.T) {
	out := `@@component controller.ctrl1
@@manifest {"hactl_manifest":1,"cluster":"c","address":"controller.ctrl1","role":"controller","server":"server1","port":8000,"hash":"abc","attributes":{"port":"8000"},"supervisor":"process","deployed_at":"2026-11-26T14:00:00Z"}
@@supervisor 100 1
@@child 101 1
@@started 1795000000
@@restarts 2
@@component worker.llm
@@manifest {"cluster":"c","address":"worker.llm","role":"worker","server":"server1","port":8001,"hash":"def"}
@@supervisor 200 1
@@child 201 0
@@started
@@restarts
@@component webserver
@@manifest {"cluster":"c","address":"webserver","role":"webserver","server":"server1","port":5670,"hash":"x","unit":"hactl-c-webserver.service","supervisor":"systemd"}
@@supervisor 0 0
@@child 300 1
@@started 1795000000
@@restarts 0
@@unit active 300 4
`
	fs, err := parseObserve([]byte(out))
	if err != nil || len(fs) != 3 {
		t.Fatalf("%+v %v", fs, err)
	}
	o := fs[0].observed()
	if !o.Running || o.PID != 101 || o.Restarts != 2 || o.Hash != "abc" || o.Port != 8000 || o.Attributes["port"] != "8000" ||
		!o.StartedAt.Equal(time.Unix(1795000000, 0)) {
		t.Errorf("first: %+v", o)
	}
	o = fs[1].observed()
	if o.Running || o.PID != 0 || o.Restarts != 0 || !o.StartedAt.IsZero() {
		t.Errorf("second (child dead): %+v", o)
	}
	o = fs[2].observed()
	if !o.Running || o.PID != 300 || o.Restarts != 4 {
		t.Errorf("systemd: %+v", o)
	}
	// systemd restarted the process and start.sh has not written child.pid
	// yet: the unit's MainPID is the process; an inactive unit runs nothing.
	fs, _ = parseObserve([]byte("@@component c/x\n@@manifest {}\n@@supervisor 0 0\n@@child 300 0\n@@restarts 0\n@@unit active 412 5\n" +
		"@@component c/y\n@@manifest {}\n@@supervisor 0 0\n@@child 300 1\n@@unit activating 0 6\n"))
	if o := fs[0].observed(); !o.Running || o.PID != 412 || o.Restarts != 5 {
		t.Errorf("systemd, MainPID: %+v", o)
	}
	if o := fs[1].observed(); o.Running || o.PID != 0 || o.Restarts != 6 {
		t.Errorf("systemd, restarting: %+v", o)
	}
	if _, err := parseObserve([]byte("@@component x\n@@manifest {not json\n")); err == nil || !strings.Contains(err.Error(), "manifest of x") {
		t.Errorf("bad manifest: %v", err)
	}
}

func TestDetectGeneration(t *testing.T) {
	for _, tc := range []struct {
		rc      int
		version []string
		help    []string
		want    schema.Generation
	}{
		{0, []string{"dbgpt, version 0.6.3"}, nil, schema.GenerationFlags},
		{0, []string{"dbgpt, version 0.5.9"}, nil, schema.GenerationFlags},
		{0, []string{"dbgpt, version 0.7.0"}, nil, schema.GenerationTOML},
		{0, []string{"dbgpt, version 0.8.1"}, nil, schema.GenerationTOML},
		{1, []string{"Traceback ... PackageNotFoundError"}, []string{"  --registry_type TEXT  registry"}, schema.GenerationFlags},
		{1, nil, []string{"  -c, --config TEXT  config file"}, schema.GenerationTOML},
		{127, nil, nil, ""},
	} {
		if got, _ := detectGeneration(tc.rc, tc.version, tc.help); got != tc.want {
			t.Errorf("%v %v: got %q want %q", tc.version, tc.help, got, tc.want)
		}
	}
}

func TestLayoutValidation(t *testing.T) {
	s := &schema.Server{Name: "s", DeployDir: "/opt/hactl/c"}
	for _, bad := range []string{"", "../x", "a/b", "..", ".hidden", "a b", "x;rm -rf /", "$(id)"} {
		if _, err := componentDir(s, "c", bad); err == nil {
			t.Errorf("address %q accepted", bad)
		}
		if _, err := componentDir(s, bad, "worker.llm"); err == nil {
			t.Errorf("cluster name %q accepted", bad)
		}
	}
	if d, err := componentDir(s, "c", "worker.glm-4_9b"); err != nil || d != "/opt/hactl/c/c/worker.glm-4_9b" {
		t.Errorf("%q %v", d, err)
	}
	for _, bad := range []string{"", "/etc/passwd", "../x", "a/../../x", "manifest.json", "secret.env", "log", "./x"} {
		if err := settingsFileName(bad); err == nil {
			t.Errorf("file name %q accepted", bad)
		}
	}
	for _, good := range []string{"dbgpt.toml", "conf/x.toml"} {
		if err := settingsFileName(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	if _, err := envFile(map[string]string{"BAD-NAME": "x"}); err == nil {
		t.Error("bad env name accepted")
	}
	if got := unitName("my cluster", "worker.llm"); got != "hactl-my_cluster-worker.llm.service" {
		t.Errorf("unit %q", got)
	}
}

// TestEnvFileSourcing has a real sh source an env file of hostile values.
func TestEnvFileSourcing(t *testing.T) {
	env := map[string]string{"A": "it's", "B": "$(touch /tmp/hactl-pwned)", "C": "x\ny", "D": "`id`;echo"}
	b, err := envFile(env)
	if err != nil {
		t.Fatal(err)
	}
	script := "set -a\n" + string(b) + "set +a\nprintf '%s|' \"$A\" \"$B\" \"$C\" \"$D\""
	out, err := exec.Command("sh", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "it's|$(touch /tmp/hactl-pwned)|x\ny|`id`;echo|"; string(out) != want {
		t.Errorf("got %q want %q", out, want)
	}
}
