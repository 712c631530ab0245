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

// Files of a component directory <deploy_dir>/<address>/ that hactl owns.
const (
	fileManifest   = "manifest.json"
	fileEnv        = "env"        // non-secret environment, sourced by start.sh
	fileSecretEnv  = "secret.env" // secret environment, mode 0600
	fileStart      = "start.sh"   // cd, source env files, exec dbgpt
	fileRun        = "run.sh"     // supervisor loop
	fileLog        = "log"
	fileRestarts   = "restarts"
	fileSupervisor = "supervisor.pid"
	fileChild      = "child.pid"
	fileStartedAt  = "started_at" // epoch seconds of the current process's start
	fileUnit       = "unit"       // name of the systemd unit, when one is used
)

var reserved = map[string]bool{
	fileManifest: true, fileEnv: true, fileSecretEnv: true, fileStart: true, fileRun: true,
	fileLog: true, fileRestarts: true, fileSupervisor: true, fileChild: true, fileStartedAt: true, fileUnit: true,
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

// componentDir is <deploy_dir>/<address>; the address must be a plain name.
func componentDir(s *schema.Server, address string) (string, error) {
	if !addressRe.MatchString(address) || strings.Contains(address, "..") || len(address) > 200 {
		return "", fmt.Errorf("component address %q cannot name a directory (letters, digits, '.', '_', '-' only)", address)
	}
	if !strings.HasPrefix(s.DeployDir, "/") {
		return "", fmt.Errorf("server %s: deploy_dir %q is not absolute", s.Name, s.DeployDir)
	}
	return path.Join(s.DeployDir, address), nil
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
