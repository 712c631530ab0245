package dbgpt

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
