package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/providers"
)

// Status gathers every component's state and the registry's models; see
// internal/status.
func (s *Session) Status(ctx context.Context, o status.Options) (*status.Report, error) {
	return status.Gather(ctx, s.Provider, s.Cluster, o)
}

// LogsOptions say how much of a log Session.Logs prints.
type LogsOptions struct {
	Lines  int  // the last lines to print first; must be positive
	Follow bool // then print new lines until the context is cancelled
}

// Logs writes the last lines of the log of the deployed component named by
// name (see FindComponent) to w, every secret of the cluster file replaced
// by "(sensitive)". With Follow it goes on writing each new line until ctx
// is cancelled, which ends it without error.
func (s *Session) Logs(ctx context.Context, name string, o LogsOptions, w io.Writer) error {
	if o.Lines <= 0 {
		return fmt.Errorf("want a positive number of lines, not %d", o.Lines)
	}
	comp, err := s.FindComponent(ctx, name)
	if err != nil {
		return err
	}
	secrets := s.Cluster.Secrets()
	if !o.Follow {
		text, err := s.Provider.Logs(ctx, comp, o.Lines)
		if err != nil {
			return fmt.Errorf("logs of %s on server %s: %w", comp.Address, comp.Server, err)
		}
		text = Redact(text, secrets)
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		_, err = io.WriteString(w, text)
		return err
	}
	f, ok := s.Provider.(providers.LogFollower)
	if !ok {
		return fmt.Errorf("provider %s cannot follow logs", s.opts.Provider)
	}
	rw := NewRedactWriter(w, secrets)
	err = f.FollowLogs(ctx, comp, o.Lines, rw)
	if ferr := rw.Flush(); err == nil {
		err = ferr
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil // stopped as asked (Ctrl-C)
	}
	if err != nil {
		return fmt.Errorf("following the log of %s on server %s: %w", comp.Address, comp.Server, err)
	}
	return nil
}

// FindComponent observes the cluster and picks the deployed component named
// by name: its full address (controller.ctrl1, worker.llm, webserver) or a
// bare name matching exactly one address's last part (ctrl1).
func (s *Session) FindComponent(ctx context.Context, name string) (providers.Observed, error) {
	observed, obsErr := s.Provider.Observe(ctx, s.Cluster)
	o, err := findComponent(observed, name)
	if err != nil && obsErr != nil {
		return o, fmt.Errorf("%w (observing the servers failed: %v)", err, obsErr)
	}
	return o, err
}

func findComponent(observed []providers.Observed, arg string) (providers.Observed, error) {
	var matches []providers.Observed
	var names []string
	for _, o := range observed {
		names = append(names, o.Address)
		if o.Address == arg {
			return o, nil
		}
		if i := strings.IndexByte(o.Address, '.'); i >= 0 && o.Address[i+1:] == arg {
			matches = append(matches, o)
		}
	}
	slices.Sort(names)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		if len(names) == 0 {
			return providers.Observed{}, fmt.Errorf("component %q: no component is deployed", arg)
		}
		return providers.Observed{}, fmt.Errorf("component %q is not deployed; deployed: %s", arg, strings.Join(names, ", "))
	default:
		var amb []string
		for _, m := range matches {
			amb = append(amb, m.Address)
		}
		return providers.Observed{}, fmt.Errorf("component %q is ambiguous: say %s", arg, strings.Join(amb, " or "))
	}
}

// Redact replaces every secret value in s by "(sensitive)", longest first
// so a secret that contains another is replaced whole.
func Redact(s string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "(sensitive)")
		}
	}
	return s
}

// maxHeld bounds how much of a line without an end a RedactWriter holds.
const maxHeld = 64 << 10

// RedactWriter passes text on to another writer with every secret replaced
// by "(sensitive)", line by line: it holds back a line until its end (or
// Flush), so a secret split across two writes is still found. It is safe
// for concurrent use.
type RedactWriter struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
	held    []byte
}

// NewRedactWriter returns a RedactWriter writing to w.
func NewRedactWriter(w io.Writer, secrets []string) *RedactWriter {
	return &RedactWriter{w: w, secrets: slices.DeleteFunc(slices.Clone(secrets), func(s string) bool { return s == "" })}
}

// Write passes on every complete line of what was held and p.
func (r *RedactWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, p...)
	cut := bytes.LastIndexByte(r.held, '\n') + 1
	if cut == 0 && len(r.held) > maxHeld {
		cut = r.safeCut()
	}
	if cut == 0 {
		return len(p), nil
	}
	err := r.emit(cut)
	return len(p), err
}

// Flush passes on what is held, a last line without its end.
func (r *RedactWriter) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.emit(len(r.held))
}

func (r *RedactWriter) emit(n int) error {
	out := Redact(string(r.held[:n]), r.secrets)
	r.held = append(r.held[:0], r.held[n:]...)
	_, err := io.WriteString(r.w, out)
	return err
}

// safeCut is where an overlong line may be cut: before the last bytes that
// could start a secret, and before any secret that would straddle the cut.
func (r *RedactWriter) safeCut() int {
	longest := 0
	for _, s := range r.secrets {
		longest = max(longest, len(s))
	}
	cut := max(len(r.held)-longest+1, 0)
	for moved := true; moved; {
		moved = false
		for _, s := range r.secrets {
			from := max(cut-len(s)+1, 0)
			if i := bytes.Index(r.held[from:min(cut+len(s)-1, len(r.held))], []byte(s)); i >= 0 && from+i < cut {
				cut, moved = from+i, true
			}
		}
	}
	return cut
}
