package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Environment knobs of the sim (not DB-GPT's).
const (
	EnvVersion          = "DBGPT_SIM_VERSION"           // version it claims, default 0.6.3
	EnvNoMetadata       = "DBGPT_SIM_NO_METADATA"       // non-empty: --version fails as without package metadata
	EnvLoadDelay        = "DBGPT_SIM_LOAD_DELAY"        // worker model load time, default 1s
	EnvRegisterDelay    = "DBGPT_SIM_REGISTER_DELAY"    // worker port open → registration, default 1s
	EnvProbeInterval    = "DBGPT_SIM_PROBE_INTERVAL"    // controller health probes, default 5s
	EnvManagerHeartbeat = "DBGPT_SIM_MANAGER_HEARTBEAT" // WorkerManager@service heartbeat, default 20s
	EnvTraceChecker     = "DBGPT_SIM_TRACE_CHECKER"     // non-empty: a controller logs each heartbeat checker pass
	EnvFailAfter        = "DBGPT_SIM_FAIL_AFTER"        // worker crashes with a traceback and exit 1 after this long
	EnvRoot             = "DBGPT_SIM_ROOT"              // install root, default the parent of the executable's directory
	// EnvChatty (chatty.go): bytes per second of access log lines on stdout.
)

// InstallRoot is where DB-GPT is "installed": the webserver resolves a
// relative -c path and relative paths in the TOML against it, and the log
// directory defaults to <root>/logs.
func InstallRoot() string {
	if r := os.Getenv(EnvRoot); r != "" {
		return r
	}
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	return filepath.Dir(filepath.Dir(exe))
}

// LogDir is DB-GPT's LOGDIR: $DBGPT_LOG_DIR, else <root>/logs.
func LogDir() string {
	if d := os.Getenv("DBGPT_LOG_DIR"); d != "" {
		return d
	}
	return filepath.Join(InstallRoot(), "logs")
}

// CheckerPassTrace starts the line a controller logs after each heartbeat
// checker pass when EnvTraceChecker is set, followed by the pass count.
const CheckerPassTrace = "dbgpt-sim: heartbeat checker pass"

// DefaultVersion is the DB-GPT version the sim claims by default.
const DefaultVersion = "0.6.3"

// Version returns the claimed version.
func Version() string {
	if v := os.Getenv(EnvVersion); v != "" {
		return v
	}
	return DefaultVersion
}

// TOMLGeneration reports whether version v uses `-c FILE` (0.7.0 and later).
func TOMLGeneration(v string) bool {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	major, _ := strconv.Atoi(parts[0])
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return major > 0 || minor >= 7
}

var topGroup = Group{
	Path: "dbgpt",
	Options: [][2]string{
		{"--log-level TEXT", "Log level"},
		{"--version", "Show the version and exit."},
	},
	Commands: map[string]string{
		"start": "Start specific server.",
		"stop":  "Stop specific server.",
		"model": "Clients that manage model serving",
	},
}

var startGroup = Group{
	Path: "dbgpt start", Summary: "Start specific server.",
	Commands: map[string]string{
		"controller": "Start model controller",
		"worker":     "Start model worker",
		"webserver":  "Start webserver(dbgpt_server.py)",
		"apiserver":  "Start apiserver",
	},
}

var stopGroup = Group{
	Path: "dbgpt stop", Summary: "Stop specific server.",
	Commands: map[string]string{
		"controller": "Stop model controller",
		"worker":     "Stop model worker",
		"webserver":  "Stop webserver(dbgpt_server.py)",
		"apiserver":  "Stop apiserver",
		"all":        "Stop all servers",
	},
}

// Main runs the dbgpt command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch a := args[0]; {
		case a == "--help":
			topGroup.Help(stdout)
			return 0
		case a == "--version":
			if os.Getenv(EnvNoMetadata) != "" {
				fmt.Fprintf(stderr, "Traceback (most recent call last):\n  File \"dbgpt/cli/cli_scripts.py\", in <module>\nRuntimeError: 'dbgpt' is not installed. Try passing 'package_name' instead.\n")
				return 1
			}
			fmt.Fprintf(stdout, "dbgpt, version %s\n", Version())
			return 0
		case a == "--log-level":
			if len(args) < 2 {
				return groupError(stderr, "dbgpt", "Option '--log-level' requires an argument.")
			}
			args = args[2:]
		case strings.HasPrefix(a, "--log-level="):
			args = args[1:]
		default:
			return groupError(stderr, "dbgpt", "No such option: "+a)
		}
	}
	if len(args) == 0 {
		topGroup.Help(stdout)
		return 0
	}
	switch args[0] {
	case "start":
		return start(args[1:], stdout, stderr)
	case "stop":
		if len(args) < 2 || args[1] == "--help" {
			stopGroup.Help(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "dbgpt-sim: `dbgpt stop %s` is not supported: DB-GPT's own stop finds processes by command line and is broken in v0.4.4–v0.6.3. Stop the process by its pid.\n", args[1])
		return 1
	case "model":
		return model(args[1:], stdout, stderr)
	}
	return groupError(stderr, "dbgpt", fmt.Sprintf("No such command '%s'.", args[0]))
}

func start(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "--help" {
		startGroup.Help(stdout)
		return 0
	}
	role := args[0]
	if role == "web" {
		role = "webserver"
	}
	toml := TOMLGeneration(Version())
	var cmd *Command
	var mc modelClass
	switch role {
	case "controller":
		cmd = flagsController
		if toml {
			cmd = tomlCommand(role, "Start model controller")
		}
	case "worker":
		cmd, mc = flagsWorkerFor(args[1:])
		if toml {
			cmd = tomlCommand(role, "Start model worker")
		}
	case "webserver":
		cmd = flagsWebserver
		if toml {
			cmd = tomlCommand(role, "Start webserver(dbgpt_server.py)")
		}
	case "apiserver":
		cmd = flagsAPIServer
		if toml {
			cmd = tomlCommand(role, "Start apiserver")
		}
	default:
		return groupError(stderr, "dbgpt start", fmt.Sprintf("No such command '%s'.", args[0]))
	}
	p, err := cmd.Parse(args[1:], stdout)
	if err != nil {
		return report(err, stderr)
	}
	if p.Bool("daemon") {
		return daemonize(stderr)
	}
	var f *tomlFile
	if toml {
		path := p.Str("config")
		if path == "" {
			// 0.7: -c/--config is required.
			return report(&usageError{cmd, "Missing option '-c' / '--config'."}, stderr)
		}
		// The webserver joins a relative path to the install root; the other
		// roles open it from the working directory.
		if role == "webserver" && !filepath.IsAbs(path) {
			path = filepath.Join(InstallRoot(), path)
		}
		if f, err = loadTOML(path); err != nil {
			return report(err, stderr)
		}
	}
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGINT}
	if role == "controller" {
		// Python's default SIGTERM disposition: the controller dies of the
		// signal at once (exit status 143 to a shell), no graceful shutdown.
		sigs = sigs[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()
	if v := os.Getenv(EnvChatty); v != "" {
		rate, err := parseRate(v)
		if err != nil {
			return report(err, stderr)
		}
		if rate > 0 {
			go chatter(ctx, stdout, rate)
		}
	}
	switch role {
	case "controller":
		var s ControllerSettings
		if toml {
			s, err = controllerFromTOML(f)
		} else {
			s, err = controllerFromFlags(p)
		}
		if err == nil {
			err = runController(ctx, s)
		}
	case "worker":
		var s WorkerSettings
		if toml {
			s, err = workerFromTOML(f)
		} else {
			s, err = workerFromFlags(p, mc)
		}
		if err == nil {
			err = runWorker(ctx, s)
		}
	case "webserver":
		var s WebSettings
		if toml {
			s, err = webFromTOML(f)
		} else {
			s, err = webFromFlags(p)
		}
		if err == nil {
			err = runWeb(ctx, s)
		}
	case "apiserver":
		var s APISettings
		if toml {
			s, err = apiFromTOML(f)
		} else {
			s, err = apiFromFlags(p)
		}
		if err == nil {
			err = runAPI(ctx, s)
		}
	}
	if err != nil {
		return report(err, stderr)
	}
	return 0
}

func report(err error, stderr io.Writer) int {
	if errors.Is(err, errHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		ue.print(stderr)
		return 2
	}
	var pe *pyExc
	if errors.As(err, &pe) {
		fmt.Fprintf(stderr, "Traceback (most recent call last):\n  File \"%s\n%s\n", pe.Where, pe.Exc)
		return 1
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	return 1
}

// daemonize starts the same command line without --daemon in a new session,
// detached, and returns at once, as DB-GPT's --daemon does (no pid file).
func daemonize(stderr io.Writer) int {
	var args []string
	for _, a := range os.Args[1:] {
		if a != "--daemon" {
			args = append(args, a)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return report(err, stderr)
	}
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return report(fmt.Errorf("starting daemon: %w", err), stderr)
	}
	cmd.Process.Release()
	return 0
}
