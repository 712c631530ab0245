package compose

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"
)

// YAML renders the project file. compose-go writes the current compose
// specification; the result is narrowed to what docker-compose v1.29 also
// accepts (no top-level name, no depends_on.required, env_file as plain
// paths, no bind.create_host_path), which means the same to compose v2.
func (p *Project) YAML() ([]byte, error) {
	raw, err := p.Compose.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("compose: marshalling project %s: %w", p.Name, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("compose: re-reading project %s: %w", p.Name, err)
	}
	delete(doc, "name")
	services, _ := doc["services"].(map[string]any)
	for _, sv := range services {
		s, ok := sv.(map[string]any)
		if !ok {
			continue
		}
		if deps, ok := s["depends_on"].(map[string]any); ok {
			for _, dv := range deps {
				if d, ok := dv.(map[string]any); ok {
					delete(d, "required")
					delete(d, "restart")
				}
			}
		}
		if ports, ok := s["ports"].([]any); ok {
			s["ports"] = shortPorts(ports)
		}
		if files, ok := s["env_file"].([]any); ok {
			var paths []any
			for _, f := range files {
				switch f := f.(type) {
				case map[string]any:
					paths = append(paths, f["path"])
				default:
					paths = append(paths, f)
				}
			}
			s["env_file"] = paths
		}
		if vols, ok := s["volumes"].([]any); ok {
			for _, vv := range vols {
				v, ok := vv.(map[string]any)
				if !ok {
					continue
				}
				if b, ok := v["bind"].(map[string]any); ok {
					delete(b, "create_host_path")
					if len(b) == 0 {
						delete(v, "bind")
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	buf.WriteString("# Written by hactl from " + "the cluster file; secrets are in the *.env files next to it (mode 0600).\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("compose: writing project %s: %w", p.Name, err)
	}
	return buf.Bytes(), nil
}

// shortPorts rewrites compose-go's long port syntax as the short
// "HOST_IP:PUBLISHED:TARGET" strings docker-compose v1.29 and compose v2
// both read the same (an IPv6 host address in brackets).
func shortPorts(ports []any) []any {
	out := make([]any, 0, len(ports))
	for _, pv := range ports {
		pm, ok := pv.(map[string]any)
		if !ok {
			out = append(out, pv)
			continue
		}
		ip, _ := pm["host_ip"].(string)
		if strings.Contains(ip, ":") {
			ip = "[" + ip + "]"
		}
		spec := fmt.Sprintf("%v:%v", pm["published"], pm["target"])
		if ip != "" {
			spec = ip + ":" + spec
		}
		if proto, _ := pm["protocol"].(string); proto != "" && proto != "tcp" {
			spec += "/" + proto
		}
		out = append(out, spec)
	}
	return out
}

// Write writes the project file at file and every side file next to it,
// creating the directory (mode 0700) when needed. Files holding secrets are
// mode 0600; existing files get their mode corrected.
func (p *Project) Write(file string) error {
	y, err := p.YAML()
	if err != nil {
		return err
	}
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	write := func(path string, content []byte, mode os.FileMode) error {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("compose: %w", err)
		}
		// Write to a temporary file of the final mode, then rename, so a
		// secret is never readable by others even for a moment.
		tmp, err := os.CreateTemp(filepath.Dir(path), ".hactl-*")
		if err != nil {
			return fmt.Errorf("compose: %w", err)
		}
		defer os.Remove(tmp.Name())
		if err := tmp.Chmod(mode); err != nil {
			tmp.Close()
			return fmt.Errorf("compose: %w", err)
		}
		if _, err := tmp.Write(content); err != nil {
			tmp.Close()
			return fmt.Errorf("compose: writing %s: %w", path, err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("compose: writing %s: %w", path, err)
		}
		if err := os.Rename(tmp.Name(), path); err != nil {
			return fmt.Errorf("compose: %w", err)
		}
		return nil
	}
	if old, err := os.ReadFile(filepath.Join(dir, ".env")); err == nil && !bytes.HasPrefix(old, []byte(dotEnvMarker)) {
		return fmt.Errorf("compose: %s exists and was not written by hactl; export into another directory", filepath.Join(dir, ".env"))
	}
	for _, f := range p.Files {
		if err := write(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Content, f.Mode); err != nil {
			return err
		}
	}
	return write(file, y, 0o644)
}
