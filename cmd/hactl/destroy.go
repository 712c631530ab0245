package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/apply"
	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
)

func init() {
	var (
		autoApprove   bool
		purgeRegistry bool
		noColor       bool
	)
	cmd := &cobra.Command{
		Use:   "destroy [-f FILE] [--var NAME=VALUE ...] [--auto-approve] [--purge-registry]",
		Short: "Stop and remove every component of the cluster",
		Long: `Stop and remove every hactl component found on the cluster's servers (also
those no longer in the file), in reverse order: webserver and API server,
workers, then controllers. Before the controllers stop, every registry row is
marked unhealthy through them. Each component's directory, unit and log go;
an empty deploy directory goes too: no hactl process or file is left.

The registry database and its rows are kept unless --purge-registry.
Asks on a terminal (type "yes") unless --auto-approve.

Exit status: 0 destroyed (or nothing deployed), 1 error.`,
		Args: cobra.NoArgs,
	}
	cf := addClusterFlags(cmd)
	pf := addProviderFlags(cmd)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "do not ask for approval")
	cmd.Flags().BoolVar(&purgeRegistry, "purge-registry", false, "also delete the registry's rows")
	cmd.Flags().BoolVar(&noColor, "no-color", false, "no colour (also when NO_COLOR is set or output is not a terminal)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		stdout := cmd.OutOrStdout()
		c, err := cf.load()
		if err != nil {
			return err
		}
		ctx, prov, c, done, err := pf.connect(c)
		if err != nil {
			return err
		}
		defer done()
		start := time.Now()
		obs, err := prov.Observe(ctx, c)
		if err != nil {
			return fmt.Errorf("observing the cluster: %w", err)
		}
		p := apply.DestroyPlan(obs)
		if p.Empty() && !purgeRegistry {
			if err := teardown(ctx, prov, false); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "\nNo changes. No hactl component is deployed for this cluster.")
			return nil
		}
		plan.Renderer{W: stdout, Color: !noColor && useColor(os.Stdout)}.Text(p)
		if purgeRegistry {
			fmt.Fprintln(stdout, "\nThe registry's rows will be deleted (--purge-registry).")
		}
		if !autoApprove {
			ok, err := approve(os.Stdin, stdout, "Do you really want to destroy every component?",
				"hactl will stop and remove every component shown above. There is no undo.")
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintln(stdout, "\nDestroy cancelled.")
				return exitCodeError{code: exitError}
			}
		}
		fmt.Fprintln(stdout)
		res, err := apply.Destroy(ctx, prov, c, p, purgeRegistry, apply.Options{Concurrency: pf.concurrency, Out: stdout})
		if err != nil {
			return applyFailure(err, res)
		}
		if err := teardown(ctx, prov, purgeRegistry); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nDestroy complete! Resources: %d destroyed. (%s)\n", res.Destroyed, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	rootCmd.AddCommand(cmd)
}

// teardown removes what a provider owns beyond the components (compose: the
// database service and the network; with purge, the database volume).
func teardown(ctx context.Context, prov providers.Provider, purge bool) error {
	t, ok := prov.(providers.Teardowner)
	if !ok {
		return nil
	}
	if err := t.Teardown(ctx, purge); err != nil {
		return fmt.Errorf("removing the provider's own resources: %w", err)
	}
	return nil
}
