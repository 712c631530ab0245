package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hactl/hactl/internal/dbgpt"
)

var modelGroup = Group{
	Path: "dbgpt model", Summary: "Clients that manage model serving",
	Options: [][2]string{{"--address TEXT", "Address of the Model Controller to connect to. Just support light deploy model, If the environment variable CONTROLLER_ADDRESS is configured, read from the environment variable"}},
	Commands: map[string]string{
		"list": "List model instances",
	},
}

var modelListCmd = &Command{
	Path: "dbgpt model list", Summary: "List model instances",
	Options: []Option{
		text("model_name", "", "The name of model"),
		text("model_type", "llm", "The type of model"),
	},
}

func model(args []string, stdout, stderr io.Writer) int {
	addr := os.Getenv("CONTROLLER_ADDRESS")
	if addr == "" {
		addr = "http://127.0.0.1:8000"
	}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		switch {
		case a == "--help":
			modelGroup.Help(stdout)
			return 0
		case a == "--address":
			if len(args) < 2 {
				return groupError(stderr, "dbgpt model", "Option '--address' requires an argument.")
			}
			addr, args = args[1], args[2:]
		case strings.HasPrefix(a, "--address="):
			addr, args = strings.TrimPrefix(a, "--address="), args[1:]
		default:
			return groupError(stderr, "dbgpt model", "No such option: "+a)
		}
	}
	if len(args) == 0 {
		modelGroup.Help(stdout)
		return 0
	}
	if args[0] != "list" {
		return groupError(stderr, "dbgpt model", fmt.Sprintf("No such command '%s'.", args[0]))
	}
	p, err := modelListCmd.Parse(args[1:], stdout)
	if err != nil {
		return report(err, stderr)
	}
	name := ""
	if n, ok := p.given["model_name"]; ok {
		name = n + "@" + p.Str("model_type")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list, err := dbgpt.NewClient(&http.Client{}, strings.Split(addr, ",")[0]).ListModels(ctx, name, false)
	if err != nil {
		return report(err, stderr)
	}
	header := []string{"Model Name", "Model Type", "Host", "Port", "Healthy", "Enabled", "Prompt Template", "Last Heartbeat"}
	var rows [][]string
	for _, i := range list {
		n, t := i.Split()
		// DB-GPT's client keeps the JSON strings as they came (ISO with "T");
		// its tables show no prompt template as an empty cell.
		pt := ""
		if i.PromptTemplate != nil {
			pt = *i.PromptTemplate
		}
		hb := "None"
		if i.LastHeartbeat != nil {
			hb = i.LastHeartbeat.String()
		}
		rows = append(rows, []string{n, t, i.Host, strconv.Itoa(i.Port), pyBool(i.Healthy), pyBool(i.Enabled), pt, hb})
	}
	io.WriteString(stdout, PrettyTable(header, rows)+"\n")
	return 0
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// PrettyTable renders rows as Python's prettytable does by default: centred
// cells, one space of padding, +---+ borders.
func PrettyTable(header []string, rows [][]string) string {
	w := make([]int, len(header))
	for i, h := range header {
		w[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			if n := len([]rune(c)); n > w[i] {
				w[i] = n
			}
		}
	}
	var b strings.Builder
	rule := "+"
	for _, n := range w {
		rule += strings.Repeat("-", n+2) + "+"
	}
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			b.WriteString(" " + center(c, w[i]) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString(rule + "\n")
	line(header)
	b.WriteString(rule + "\n")
	for _, r := range rows {
		line(r)
	}
	b.WriteString(rule)
	return b.String()
}

// center is prettytable's _justify for "c": with odd excess, more space on
// the right for text of odd length, on the left for even length.
func center(s string, width int) string {
	n := len([]rune(s))
	excess := width - n
	if excess <= 0 {
		return s
	}
	half := excess / 2
	if excess%2 == 1 {
		if n%2 == 1 {
			return strings.Repeat(" ", half) + s + strings.Repeat(" ", half+1)
		}
		return strings.Repeat(" ", half+1) + s + strings.Repeat(" ", half)
	}
	return strings.Repeat(" ", half) + s + strings.Repeat(" ", half)
}
