package plan

import (
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
	"github.com/hactl/hactl/schema"
)

// Component is one deployable process as the cluster file wants it, with its
// settings already rendered for the cluster's DB-GPT generation.
type Component struct {
	// Address names the component in plans and status, e.g. "controller.ctrl1",
	// "worker.llm", "webserver", "apiserver".
	Address string
	Role    string // schema.RoleController, RoleWorker, RoleWebserver, RoleAPIServer
	Name    string
	Server  *schema.Server
	Port    int
	Launch  dbgpt.Launch
	// Hash is a stable digest of everything that, when changed, needs the
	// process to be restarted (Launch, server, port). It includes secrets, so a
	// password change is seen, but never reveals them.
	Hash string
	// Attributes are shown in plan diffs: name → value, secrets already
	// replaced by "(sensitive)". They are stored in the component's manifest.
	Attributes map[string]string
	// Level is the dependency level: 1 controllers, 2 workers, 3 webserver and apiserver.
	Level int
	// StartTimeout is how long the process may take from its start until it
	// serves: its gate's timeout, and the window in which a running process
	// that does not serve yet is "starting", not unhealthy. 0 means its
	// level's default (apply.Timeouts).
	StartTimeout time.Duration
}
