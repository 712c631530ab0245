package ssh

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// Files of a component directory <deploy_dir>/<cluster>/<address>/ that
// hactl owns.
const (
	fileManifest   = "manifest.json"
	fileOwner      = ".hactl-owner" // the cluster's name, written before anything else
	fileEnv        = "env"          // non-secret environment, sourced by start.sh
	fileSecretEnv  = "secret.env"   // secret environment, mode 0600
	fileStart      = "start.sh"     // cd, source env files, exec dbgpt
	fileRun        = "run.sh"       // supervisor loop
	fileLog        = "log"
	fileLogOld     = "log.1" // the log before its last rotation (see shRotate)
	fileRestarts   = "restarts"
	fileSupervisor = "supervisor.pid"
	fileChild      = "child.pid"
	fileStartedAt  = "started_at" // epoch seconds of the current process's start
	fileUnit       = "unit"       // name of the systemd unit, when one is used
	fileExits      = "exits"      // run.sh: "<epoch> <status> <uptime s>" of the last 10 exits
	fileAttempts   = "attempts"   // how many times start.sh ran since the deploy
	dirData        = "data"       // the component's data (the webserver's meta database): kept
)

var reserved = map[string]bool{
	fileManifest: true, fileEnv: true, fileSecretEnv: true, fileStart: true, fileRun: true,
	fileLog: true, fileOwner: true, fileRestarts: true, fileSupervisor: true, fileChild: true, fileStartedAt: true, fileUnit: true,
	fileExits: true, fileExits + ".tmp": true, fileAttempts: true, fileLogOld: true, fileLogOld + ".tmp": true,
}

// Supervisor kinds recorded in the manifest.
const (
	supervisorProcess = "process"
	supervisorSystemd = "systemd"
)

// Manifest is what hactl leaves next to each component so the next plan sees
// the real state.
type Manifest struct {
	Format     int               `json:"hactl_manifest"`
	Cluster    string            `json:"cluster"`
	Address    string            `json:"address"`
	Role       string            `json:"role"`
	Name       string            `json:"name,omitempty"`
	Server     string            `json:"server"`
	Port       int               `json:"port"`
	Hash       string            `json:"hash"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Supervisor string            `json:"supervisor"`
	Unit       string            `json:"unit,omitempty"`
	DeployedAt time.Time         `json:"deployed_at"`
}

var addressRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// componentDir is <deploy_dir>/<cluster>/<address>: unique per cluster,
// so clusters sharing a deploy directory never share a component
// directory. Cluster and address must be plain names.
func componentDir(s *schema.Server, cluster, address string) (string, error) {
	for _, n := range []string{cluster, address} {
		if !addressRe.MatchString(n) || strings.Contains(n, "..") || len(n) > 200 {
			return "", fmt.Errorf("%q cannot name a directory (letters, digits, '.', '_', '-' only)", n)
		}
	}
	if !strings.HasPrefix(s.DeployDir, "/") {
		return "", fmt.Errorf("server %s: deploy_dir %q is not absolute", s.Name, s.DeployDir)
	}
	return path.Join(s.DeployDir, cluster, address), nil
}

// legacyDir is where hactl before per-cluster directories kept a
// component: <deploy_dir>/<address>. Observe still reads it (when its
// manifest is this cluster's), plan shows such a component as an update
// and the next Deploy moves it (its process stopped, its log kept, the old
// directory removed); Remove removes it.
func legacyDir(s *schema.Server, address string) string {
	return path.Join(s.DeployDir, address)
}

// manifestOf is the shell test that the manifest in directory $1 is
// cluster's (json.Marshal writes `"cluster":"NAME"` with no space; names
// are plain).
func manifestOf(cluster string) string {
	return `grep -qF ` + host.Quote(`"cluster":"`+cluster+`"`) + ` "$1/` + fileManifest + `" 2>/dev/null`
}

// shOwned defines owned DIR: DIR is absent, empty, or holds this cluster's
// manifest or owner mark: hactl may clear it.
func shOwned(cluster string) string {
	return `owned() {
	[ -d "$1" ] || return 0
	[ -z "$(ls -A "$1" 2>/dev/null)" ] && return 0
	` + manifestOf(cluster) + ` && return 0
	[ "$(cat "$1/` + fileOwner + `" 2>/dev/null)" = ` + host.Quote(cluster) + ` ]
}
ours_manifest() {
	` + manifestOf(cluster) + `
}
`
}

// settingsFileName checks a Launch.Files name: relative, inside the
// component directory, not one of hactl's own files.
func settingsFileName(name string) error {
	clean := path.Clean(name)
	if name == "" || clean != name || strings.HasPrefix(name, "/") || clean == "." ||
		strings.HasPrefix(clean, "../") || clean == ".." || strings.Contains(name, "\x00") {
		return fmt.Errorf("settings file name %q must be a clean relative path inside the component directory", name)
	}
	if reserved[strings.SplitN(clean, "/", 2)[0]] {
		return fmt.Errorf("settings file name %q is reserved by hactl", name)
	}
	return nil
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envFile renders NAME='value' lines, sorted, for `set -a; . ./env`.
func envFile(env map[string]string) ([]byte, error) {
	names := make([]string, 0, len(env))
	for n := range env {
		if !envNameRe.MatchString(n) {
			return nil, fmt.Errorf("environment variable name %q is not valid", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# written by hactl; overwritten on every deploy\n")
	for _, n := range names {
		b.WriteString(n + "=" + host.Quote(env[n]) + "\n")
	}
	return []byte(b.String()), nil
}

// unitName is the systemd unit of a component.
func unitName(cluster, address string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return '_'
		}, s)
	}
	return "hactl-" + clean(cluster) + "-" + clean(address) + ".service"
}

func encodeManifest(m Manifest) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
