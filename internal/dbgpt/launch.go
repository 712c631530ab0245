package dbgpt

import "strings"

// Launch is everything needed to start one DB-GPT process, independent of how
// a host is reached. The process runs with its component directory as the
// working directory, so Files and relative paths in Args resolve there.
type Launch struct {
	// Args follow the dbgpt command, e.g. ["start", "controller", "--port", "8000"].
	// They never hold a secret: ps shows them to every local user.
	Args []string
	// Env is the non-secret environment of the process.
	Env map[string]string
	// SecretEnv is written only to a file of mode 0600 and read by the supervisor.
	SecretEnv map[string]string
	// Files are written into the component directory (name → content). A file
	// that may hold a secret has Secret set and is written with mode 0600.
	Files map[string]File
}

// File is one settings file of a component.
type File struct {
	Content []byte
	Secret  bool
}

// ComponentDir stands for the component's directory on its host (or in its
// container) wherever a setting needs an absolute path: DB-GPT 0.7's
// webserver resolves relative paths against its install root, not its
// working directory. Providers replace it with In before writing anything.
const ComponentDir = "@HACTL_COMPONENT_DIR@"

// In returns the launch with ComponentDir replaced by dir in Args, Env and
// Files (in files as a TOML basic string's content, the only kind of file
// rendered: the directory is escaped as such).
func (l Launch) In(dir string) Launch {
	out := Launch{Env: map[string]string{}, SecretEnv: l.SecretEnv, Files: map[string]File{}}
	for _, a := range l.Args {
		out.Args = append(out.Args, strings.ReplaceAll(a, ComponentDir, dir))
	}
	for k, v := range l.Env {
		out.Env[k] = strings.ReplaceAll(v, ComponentDir, dir)
	}
	inTOML := tomlString(dir)
	inTOML = inTOML[1 : len(inTOML)-1]
	for n, f := range l.Files {
		f.Content = []byte(strings.ReplaceAll(string(f.Content), ComponentDir, inTOML))
		out.Files[n] = f
	}
	return out
}
