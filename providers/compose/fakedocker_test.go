package compose

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// fakeDockerEnv names the state directory of the fake docker: when set, the
// test binary is the fake docker (linked as "docker" into a directory that
// is the whole PATH), so the provider's command lines and its reading of
// their output are tested without a Docker engine.
const fakeDockerEnv = "HACTL_FAKE_DOCKER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(fakeDockerEnv); dir != "" {
		os.Exit(fakeDocker(dir, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeState is what the fake docker knows; it lives in state.json.
type fakeState struct {
	Down          bool   // the engine does not answer
	NoPlugin      bool   // no docker compose plugin
	ComposeFails  bool   // every compose command but version fails
	UpExits       bool   // a service started by `compose up` exits at once
	UpStarting    bool   // a service started by `compose up` stays "starting"
	UpIP          string // address on the project network of a container `compose up` starts
	Images        []string
	Networks      []string
	Volumes       []string
	RunOut        string // output of `docker run` (checkImage)
	RunRC         int
	Vanish        string           // a container id that is removed on its first inspect
	Containers    []map[string]any // as `docker inspect` prints them
	ComposeFiles  []string         // the --file of every compose call
	NextContainer int
	Logs          string // output of `docker logs` (default: a stdout and a stderr line)
	LogsUntil     string // output of `docker logs --until …`
	LogsSince     string // output (stderr) of `docker logs --since …`
	Clock         int    // seconds after 10:00 of the fake's last state change
}

// container is the container of that id, nil when there is none.
func (st *fakeState) container(id string) map[string]any {
	for _, c := range st.Containers {
		if c["Id"] == id {
			return c
		}
	}
	return nil
}

// now is the fake's clock as Docker writes times.
func (st *fakeState) now() string {
	return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).Add(time.Duration(st.Clock) * time.Second).Format(time.RFC3339Nano)
}

func labelsOf(c map[string]any) map[string]string {
	out := map[string]string{}
	cfg, _ := c["Config"].(map[string]any)
	ls, _ := cfg["Labels"].(map[string]any)
	for k, v := range ls {
		out[k], _ = v.(string)
	}
	return out
}

func fakeDocker(dir string, args []string) int {
	stateFile := filepath.Join(dir, "state.json")
	var st fakeState
	b, err := os.ReadFile(stateFile)
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake docker:", err)
		return 125
	}
	if f, err := os.OpenFile(filepath.Join(dir, "calls"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		fmt.Fprintln(f, strings.Join(args, " "))
		f.Close()
	}
	rc := st.serve(args)
	b, _ = json.Marshal(st)
	if err := os.WriteFile(stateFile, b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "fake docker:", err)
		return 125
	}
	return rc
}

func (st *fakeState) remove(id string) bool {
	for i, c := range st.Containers {
		if c["Id"] == id {
			st.Containers = slices.Delete(st.Containers, i, i+1)
			return true
		}
	}
	return false
}

func (st *fakeState) serve(args []string) int {
	if len(args) == 0 {
		return 1
	}
	if st.Down && !(args[0] == "compose" && len(args) > 1 && args[1] == "version") {
		fmt.Fprintln(os.Stderr, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
		return 1
	}
	switch args[0] {
	case "version":
		fmt.Println("20.10.24+dfsg1")
	case "compose":
		return st.compose(args[1:])
	case "ps":
		var want []string
		for i, a := range args {
			if a == "--filter" && i+1 < len(args) {
				want = append(want, strings.TrimPrefix(args[i+1], "label="))
			}
		}
	next:
		for _, c := range st.Containers {
			l := labelsOf(c)
			for _, w := range want {
				k, v, _ := strings.Cut(w, "=")
				if l[k] != v {
					continue next
				}
			}
			fmt.Println(c["Id"])
		}
	case "inspect":
		var out []map[string]any
		for _, id := range args[1:] {
			i := slices.IndexFunc(st.Containers, func(c map[string]any) bool { return c["Id"] == id })
			if i < 0 || id == st.Vanish {
				if id == st.Vanish {
					st.remove(id)
					st.Vanish = ""
				}
				fmt.Println("[]")
				fmt.Fprintln(os.Stderr, "Error: No such object: "+id)
				return 1
			}
			out = append(out, st.Containers[i])
		}
		b, _ := json.MarshalIndent(out, "", "    ")
		fmt.Println(string(b))
	case "image":
		if slices.Contains(st.Images, args[len(args)-1]) {
			fmt.Println("sha256:0123")
			return 0
		}
		fmt.Fprintln(os.Stderr, "Error: No such image: "+args[len(args)-1])
		return 1
	case "run":
		fmt.Print(st.RunOut)
		return st.RunRC
	case "stop", "kill":
		// docker stop --time N ID... / docker kill --signal KILL ID...
		code := 0
		if args[0] == "kill" {
			code = 137
		}
		for _, id := range args[3:] {
			if c := st.container(id); c != nil {
				st.Clock++
				c["State"] = map[string]any{"Status": "exited", "Running": false, "ExitCode": code,
					"StartedAt": c["State"].(map[string]any)["StartedAt"], "FinishedAt": st.now()}
			}
		}
	case "start", "restart":
		for _, id := range args[1:] {
			if strings.HasPrefix(id, "-") || id == "15" {
				continue
			}
			c := st.container(id)
			if c == nil {
				fmt.Fprintln(os.Stderr, "Error: No such container: "+id)
				return 1
			}
			st.Clock++
			st.NextContainer++
			c["State"] = map[string]any{"Status": "running", "Running": true, "Pid": 100 + st.NextContainer,
				"StartedAt": st.now(), "FinishedAt": c["State"].(map[string]any)["FinishedAt"]}
		}
	case "exec":
	case "rm":
		for _, a := range args[1:] {
			if !strings.HasPrefix(a, "-") && !st.remove(a) {
				fmt.Fprintln(os.Stderr, "Error: No such container: "+a)
				return 1
			}
		}
	case "network", "volume":
		list := &st.Networks
		if args[0] == "volume" {
			list = &st.Volumes
		}
		i := slices.Index(*list, args[2])
		if i < 0 {
			fmt.Fprintf(os.Stderr, "Error: No such %s: %s\n", args[0], args[2])
			return 1
		}
		if args[1] == "rm" {
			*list = slices.Delete(*list, i, i+1)
		}
	case "logs":
		switch {
		case slices.Contains(args, "--until") && st.LogsUntil != "":
			fmt.Print(st.LogsUntil)
		case slices.Contains(args, "--since") && st.LogsSince != "":
			fmt.Fprint(os.Stderr, st.LogsSince)
		case st.Logs != "":
			fmt.Print(st.Logs)
		default:
			fmt.Println("stdout line")
			fmt.Fprintln(os.Stderr, "stderr line")
		}
	default:
		fmt.Fprintln(os.Stderr, "fake docker: unknown command "+args[0])
		return 1
	}
	return 0
}

func (st *fakeState) compose(args []string) int {
	if len(args) > 0 && args[0] == "version" {
		if st.NoPlugin {
			fmt.Fprintln(os.Stderr, "docker: 'compose' is not a docker command.")
			return 1
		}
		fmt.Println("Docker Compose version v2.20.2")
		return 0
	}
	project, file := "", ""
	for len(args) > 1 && strings.HasPrefix(args[0], "--") {
		switch args[0] {
		case "--project-name":
			project = args[1]
		case "--file":
			file = args[1]
			st.ComposeFiles = append(st.ComposeFiles, file)
		}
		args = args[2:]
	}
	if st.ComposeFails || len(args) == 0 || project == "" {
		fmt.Fprintln(os.Stderr, "compose: failed")
		return 1
	}
	switch args[0] {
	case "up":
		svc := args[len(args)-1]
		// The container carries the labels the project file gives it.
		var proj struct {
			Services map[string]struct{ Labels map[string]string }
		}
		b, err := os.ReadFile(file)
		if err == nil {
			err = yaml.Unmarshal(b, &proj)
		}
		if _, ok := proj.Services[svc]; err != nil || !ok {
			fmt.Fprintf(os.Stderr, "no such service: %s (%v)\n", svc, err)
			return 1
		}
		labels := map[string]any{}
		for k, v := range proj.Services[svc].Labels {
			labels[k] = strings.ReplaceAll(v, "$$", "$")
		}
		st.NextContainer++
		state := map[string]any{"Status": "running", "Running": true, "Pid": 100 + st.NextContainer,
			"StartedAt": "2026-12-07T09:00:20.965086519Z", "Health": map[string]any{"Status": "healthy"}}
		if st.UpStarting {
			state["Health"] = map[string]any{"Status": "starting"}
		}
		if st.UpExits {
			state = map[string]any{"Status": "exited", "ExitCode": 1, "StartedAt": "2026-12-07T09:00:20Z"}
		}
		ct := map[string]any{
			"Id": fmt.Sprintf("up%d", st.NextContainer), "Name": "/" + project + "-" + svc + "-1",
			"Config": map[string]any{"Labels": labels},
			"State":  state,
		}
		if st.UpIP != "" {
			ct["NetworkSettings"] = map[string]any{"Networks": map[string]any{
				project + "_" + NetworkName: map[string]any{"IPAddress": st.UpIP}}}
		}
		st.Containers = append(st.Containers, ct)
		if !slices.Contains(st.Networks, project+"_"+NetworkName) {
			st.Networks = append(st.Networks, project+"_"+NetworkName)
		}
	case "down":
		st.Containers = slices.DeleteFunc(st.Containers, func(c map[string]any) bool { return labelsOf(c)[LabelProject] == project })
		st.Networks = slices.DeleteFunc(st.Networks, func(n string) bool { return n == project+"_"+NetworkName })
		if slices.Contains(args, "--volumes") {
			st.Volumes = slices.DeleteFunc(st.Volumes, func(v string) bool { return strings.HasPrefix(v, project+"_") })
		}
	}
	return 0
}

// fakeDockerOn makes the test binary the only docker on PATH, with the
// given state, and returns a function reading the calls made so far.
func fakeDockerOn(t *testing.T, st fakeState) (calls func() []string, state func() fakeState) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, dir := t.TempDir(), t.TempDir()
	if err := os.Symlink(exe, filepath.Join(bin, "docker")); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv(fakeDockerEnv, dir)
	calls = func() []string {
		b, _ := os.ReadFile(filepath.Join(dir, "calls"))
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	state = func() fakeState {
		var s fakeState
		b, err := os.ReadFile(filepath.Join(dir, "state.json"))
		if err == nil {
			err = json.Unmarshal(b, &s)
		}
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return calls, state
}

// recordedContainers is the recorded docker inspect sample as raw objects,
// relabelled into project.
func recordedContainers(t *testing.T, project string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "docker-inspect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cs []map[string]any
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		c["Config"].(map[string]any)["Labels"].(map[string]any)[LabelProject] = project
	}
	return cs
}
