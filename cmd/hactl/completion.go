package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/engine"
	"github.com/hactl/hactl/schema"
)

// documentCompletion explains cobra's completion command in hactl's terms
// and wires the dynamic completions into every command of the tree: the
// cluster file's component addresses for logs, provider names for
// --provider, *.hcl files for -f, *.hcl and *.tfvars files for --var-file.
// Completion reads only the local cluster file, never the network.
func documentCompletion(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Short = "Print the shell completion script for bash, zsh, fish or powershell"
			c.Long = `Print the script that makes your shell complete hactl's commands, flags and
values (also after a flag's one-dash spelling, as in -var-file TAB):
  hactl logs TAB          the components the cluster file declares
                          (controller.NAME, worker.NAME, webserver, apiserver),
                          read from -f FILE or cluster.hcl; nothing is contacted
  --provider TAB          ssh, compose
  hactl drill --target TAB  the controllers, workers and registry of the file
  -f TAB                  *.hcl files
  --var-file TAB          *.hcl and *.tfvars files
  hactl docs TAB          the documents built into hactl

Load it for this shell, or install it once:
  bash:  source <(hactl completion bash)
         hactl completion bash > /etc/bash_completion.d/hactl
  zsh:   source <(hactl completion zsh)
         hactl completion zsh > "${fpath[1]}/_hactl"
  fish:  hactl completion fish | source
         hactl completion fish > ~/.config/fish/completions/hactl.fish

'hactl completion SHELL --help' says more for each shell.`
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("file") != nil {
			_ = c.MarkFlagFilename("file", "hcl")
		}
		if c.Flags().Lookup("var-file") != nil {
			_ = c.MarkFlagFilename("var-file", "hcl", "tfvars")
		}
		if c.Flags().Lookup("provider") != nil {
			_ = c.RegisterFlagCompletionFunc("provider", cobra.FixedCompletions(engine.ProviderNames(), cobra.ShellCompDirectiveNoFileComp))
		}
		if c.Name() == "logs" && c.Parent() == root {
			c.ValidArgsFunction = completeComponents
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeComponents completes the first argument with the addresses of
// the components the cluster file declares.
func completeComponents(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c := completionCluster(cmd)
	if c == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return componentAddresses(c), cobra.ShellCompDirectiveNoFileComp
}

// completionCluster loads the cluster file the command's flags name (or
// cluster.hcl), with variables left unset where no value is given; nil
// when it cannot be read or is invalid.
func completionCluster(cmd *cobra.Command) *schema.Cluster {
	fl := cmd.Flags()
	file, _ := fl.GetString("file")
	vars, _ := fl.GetStringArray("var")
	varFiles, _ := fl.GetStringArray("var-file")
	c, err := schema.Load(file, schema.LoadOptions{Vars: vars, VarFiles: varFiles, Environ: os.Environ(), AllowUnsetVariables: true})
	if err != nil {
		return nil
	}
	return c
}

// componentAddresses lists the addresses of c's deployable components as
// plan, status and logs name them, in the file's order.
func componentAddresses(c *schema.Cluster) []string {
	var out []string
	for _, ctl := range c.Controllers {
		out = append(out, schema.RoleController+"."+ctl.Name)
	}
	for _, w := range c.Workers {
		out = append(out, schema.RoleWorker+"."+w.Name)
	}
	if c.Webserver != nil {
		out = append(out, schema.RoleWebserver)
	}
	if c.APIServer != nil {
		out = append(out, schema.RoleAPIServer)
	}
	return out
}

// completeDrillTargets completes a drill's --target with drillTargets of
// the cluster file the command's flags name (register it with
// cmd.RegisterFlagCompletionFunc("target", completeDrillTargets)).
func completeDrillTargets(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	c := completionCluster(cmd)
	if c == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return drillTargets(c), cobra.ShellCompDirectiveNoFileComp
}

// drillTargets lists what a fault drill can act on in c: every controller
// and worker by address, and the registry database when it is one of its
// own (MySQL or SQLite; an embedded registry lives in the controller), for
// `hactl drill --target` and its completion.
func drillTargets(c *schema.Cluster) []string {
	var out []string
	for _, ctl := range c.Controllers {
		out = append(out, schema.RoleController+"."+ctl.Name)
	}
	for _, w := range c.Workers {
		out = append(out, schema.RoleWorker+"."+w.Name)
	}
	if c.Registry != nil && c.Registry.Type != schema.RegistryEmbedded {
		out = append(out, "registry")
	}
	return out
}
