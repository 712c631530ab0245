package views

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/plan"
)

// Human renders for people: the plan as terraform plan does, one line per
// event, "Apply complete! ...". Errors go to Err after "Error: ", as the
// command's own exit would print them: a command that lets the view print
// its error returns a silent exit status instead.
type Human struct {
	out, err io.Writer
	color    bool

	mu      sync.Mutex
	started bool // an event line was written
}

// NewHuman writes to out, diagnostics and failures to errw, in colour when
// color is set (the caller decides: a terminal, no NO_COLOR, no --no-color).
func NewHuman(out, errw io.Writer, color bool) *Human {
	return &Human{out: out, err: errw, color: color}
}

var _ Operation = (*Human)(nil)

// Plan implements Operation.
func (h *Human) Plan(p *plan.Plan) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	plan.Renderer{W: h.out, Color: h.color}.Text(p)
	return nil
}

// Event implements Operation. The first event line follows a blank line,
// setting the progress apart from the plan and the approval above it.
func (h *Human) Event(ev apply.Event) {
	text, ok := line(ev)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		h.started = true
		fmt.Fprintln(h.out)
	}
	fmt.Fprintln(h.out, text)
}

// Diagnostics implements Operation.
func (h *Human) Diagnostics(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintln(h.err, "Error:", err)
}

// Failed implements Operation.
func (h *Human) Failed(op Op, err error, res apply.Result) {
	h.Diagnostics(Failure(op, err, res))
}

// Summary implements Operation.
func (h *Human) Summary(op Op, res apply.Result, elapsed time.Duration) {
	if op == OpPlan {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.out, "\n%s (%s)\n", summaryLine(op, res), elapsed.Round(100*time.Millisecond))
}
