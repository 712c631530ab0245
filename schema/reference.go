package schema

import (
	"fmt"
	"strings"
)

// Reference renders the reference of every block and argument, in Markdown,
// from spec.go. docs/cluster-file.md embeds it between the markers
// ReferenceBegin and ReferenceEnd; a test keeps the two identical.
func Reference() string {
	var sb strings.Builder
	for _, b := range topSpecs {
		writeBlockRef(&sb, b, "###")
	}
	sb.WriteString("### Functions\n\n")
	sb.WriteString("Besides HCL's operators, conditionals, `for` expressions and string templates, these functions may be called:\n\n")
	var names []string
	for _, n := range FunctionNames() {
		names = append(names, "`"+n+"`")
	}
	sb.WriteString(strings.Join(names, ", "))
	sb.WriteString(".\n\n`file(PATH)` reads a UTF-8 file (at most 1 MiB) relative to the cluster file's directory; " +
		"`env(NAME)` reads an environment variable of hactl's process and fails when it is not set. " +
		"No expression may evaluate more than 100,000 elements (a string counts one per 256 bytes).\n")
	return sb.String()
}

// Markers around the generated reference in docs/cluster-file.md.
const (
	ReferenceBegin = "<!-- BEGIN GENERATED REFERENCE: go test ./schema -run TestDocsReferenceUpToDate -update -->"
	ReferenceEnd   = "<!-- END GENERATED REFERENCE -->"
)

func writeBlockRef(sb *strings.Builder, b *blockSpec, heading string) {
	header := b.Type
	for _, l := range b.Labels {
		header += ` "` + strings.ToUpper(l) + `"`
	}
	fmt.Fprintf(sb, "%s `%s`\n\n%s\n\n", heading, header, b.Doc)
	if b.Any {
		sb.WriteString("Takes any arguments: `NAME = EXPRESSION`.\n\n")
		return
	}
	if b == registrySpec {
		sb.WriteString("| type | arguments |\n|---|---|\n")
		for _, t := range []string{RegistryMySQL, RegistrySQLite, RegistryEmbedded} {
			args := registryAttrs[t]
			if len(args) == 0 {
				fmt.Fprintf(sb, "| `%s` | none |\n", t)
				continue
			}
			fmt.Fprintf(sb, "| `%s` | `%s` |\n", t, strings.Join(args, "`, `"))
		}
		sb.WriteString("\n")
	}
	if len(b.Attrs) > 0 {
		sb.WriteString("| argument | type | required | default | generation | description |\n|---|---|---|---|---|---|\n")
		for _, a := range b.Attrs {
			req := ""
			if a.Required {
				req = "yes"
			}
			if b == registrySpec {
				for t, names := range registryRequired {
					for _, n := range names {
						if n == a.Name && t != "" {
							req = t
						}
					}
				}
			}
			def := a.Default
			if def != "" {
				def = "`" + def + "`"
				if !strings.HasPrefix(a.Default, `"`) && strings.Contains(a.Default, " ") {
					def = a.Default
				}
			}
			gen := "all"
			if a.Only != "" {
				gen = string(a.Only)
			}
			fmt.Fprintf(sb, "| `%s` | %s | %s | %s | %s | %s |\n", a.Name, a.Type, req, def, gen, strings.ReplaceAll(a.Doc, "|", `\|`))
		}
		sb.WriteString("\n")
	}
	for _, nb := range b.Blocks {
		writeBlockRef(sb, nb, heading+"#")
	}
}
