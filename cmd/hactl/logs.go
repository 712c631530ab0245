package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/providers"
)

func init() {
	var lines int
	cmd := &cobra.Command{
		Use:   "logs COMPONENT [-n LINES]",
		Short: "Print the last lines of a component's log",
		Long: `Print the last lines of a deployed component's log, read from its server.
COMPONENT is its address as plan and status show it (controller.ctrl1,
worker.llm, webserver, apiserver) or, when unambiguous, its bare name (ctrl1).
Secret values of the cluster file are replaced by (sensitive).`,
		Args: cobra.ExactArgs(1),
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().IntVarP(&lines, "lines", "n", 100, "number of lines")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if lines <= 0 {
			return fmt.Errorf("-n %d: want a positive number of lines", lines)
		}
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, p, c, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		observed, obsErr := p.Observe(ctx, c)
		o, err := findComponent(observed, args[0])
		if err != nil {
			if obsErr != nil {
				return fmt.Errorf("%w (observing the servers failed: %v)", err, obsErr)
			}
			return err
		}
		text, err := p.Logs(ctx, o, lines)
		if err != nil {
			return fmt.Errorf("logs of %s on server %s: %w", o.Address, o.Server, err)
		}
		text = redact(text, c.Secrets())
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		_, err = fmt.Fprint(cmd.OutOrStdout(), text)
		return err
	}
	rootCmd.AddCommand(cmd)
}

// findComponent picks the observed component named by arg: its full address,
// or a bare name that matches exactly one address's last part.
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
	sort.Strings(names)
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

// redact replaces every secret value in s.
func redact(s string, secrets []string) string {
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "(sensitive)")
		}
	}
	return s
}
