package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/providers"
)

// Status gathers every component's state and the registry's models; see
// internal/status.
func (s *Session) Status(ctx context.Context, o status.Options) (*status.Report, error) {
	return status.Gather(ctx, s.Provider, s.Cluster, o)
}

// Logs returns the last lines of the log of the deployed component named
// by name (see FindComponent), every secret of the cluster file replaced by
// "(sensitive)".
func (s *Session) Logs(ctx context.Context, name string, lines int) (string, error) {
	if lines <= 0 {
		return "", fmt.Errorf("want a positive number of lines, not %d", lines)
	}
	o, err := s.FindComponent(ctx, name)
	if err != nil {
		return "", err
	}
	text, err := s.Provider.Logs(ctx, o, lines)
	if err != nil {
		return "", fmt.Errorf("logs of %s on server %s: %w", o.Address, o.Server, err)
	}
	return Redact(text, s.Cluster.Secrets()), nil
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
