package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hactl/hactl/docs"
)

func newDocsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "docs [TOPIC]",
		Short: "Read hactl's documentation (it is built into the binary)",
		Long: `Without TOPIC, list the documents built into hactl: the same Markdown files
as docs/ in hactl's repository, so the reference is at hand wherever the
binary is. With TOPIC, print that document as Markdown, e.g.

  hactl docs cluster-file     every block and argument of the cluster file
  hactl docs plan-apply | less

An unknown TOPIC lists the valid ones and exits 1.`,
		Args: cobra.MaximumNArgs(1),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, t := range docs.Topics() {
				out = append(out, cobra.CompletionWithDesc(t.Name, t.Title))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "Documents built into hactl; read one with 'hactl docs TOPIC':")
				listTopics(cmd.OutOrStdout())
				return nil
			}
			text, ok := docs.Read(args[0])
			if !ok {
				w := cmd.ErrOrStderr()
				fmt.Fprintf(w, "Error: no document %q. The documents are:\n", args[0])
				listTopics(w)
				return exitCodeError{code: exitError}
			}
			_, err := io.WriteString(cmd.OutOrStdout(), text)
			return err
		},
	}
}

func listTopics(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range docs.Topics() {
		fmt.Fprintf(tw, "  %s\t%s\n", t.Name, t.Title)
	}
	_ = tw.Flush()
}
