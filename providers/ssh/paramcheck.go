package ssh

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/hactl/hactl/plan"
	"github.com/hactl/hactl/providers"
	"github.com/hactl/hactl/providers/host"
	"github.com/hactl/hactl/schema"
)

// workerHelp is what `<dbgpt> start worker --model_name X --model_path Y
// --help` printed on a server, and its exit status.
type workerHelp struct {
	rc    int
	lines []string
}

// paramProblems checks, for DB-GPT of the flags generation (version ver,
// "" when unknown), every params key of the workers on s against the
// options DB-GPT's worker has for that model (its parameter class comes
// from the model name and path). The help pages are read in one command,
// once per server, model and dbgpt version in the provider's life.
func (p *Provider) paramProblems(ctx context.Context, c *schema.Cluster, s *schema.Server, comps []*plan.Component, ver string) []providers.Problem {
	type check struct {
		comp  *plan.Component
		model *schema.Model
		words []string
		key   string
	}
	var checks []check
	for _, comp := range comps {
		if comp.Role != schema.RoleWorker {
			continue
		}
		var m *schema.Model
		for _, w := range c.Workers {
			if w.Server != nil && w.Server.Name == s.Name && w.Name == comp.Name {
				m = w.Model
			}
		}
		if m == nil || len(m.Params) == 0 {
			continue
		}
		dir, err := componentDir(s, c.Name, comp.Address)
		if err != nil {
			continue
		}
		args := providers.WorkerHelpArgs(comp.Launch.In(dir).Args)
		if args == nil {
			continue
		}
		words := append(append([]string(nil), dbgptArgv(s)...), args...)
		checks = append(checks, check{comp, m, words, s.Name + "\x00" + ver + "\x00" + strings.Join(words, "\x00")})
	}
	if len(checks) == 0 {
		return nil
	}
	var missing [][]string
	var missingKeys []string
	p.mu.Lock()
	queued := map[string]bool{}
	for _, ch := range checks {
		if _, ok := p.help[ch.key]; !ok && !queued[ch.key] {
			queued[ch.key] = true
			missing = append(missing, ch.words)
			missingKeys = append(missingKeys, ch.key)
		}
	}
	p.mu.Unlock()
	if len(missing) > 0 {
		out, err := p.host(s).Run(ctx, workerHelpScript(missing), nil)
		if err != nil {
			return []providers.Problem{{Server: s.Name, What: "cannot check the workers' model params: " + err.Error()}}
		}
		res := parseWorkerHelp(out, len(missing))
		p.mu.Lock()
		for i, k := range missingKeys {
			p.help[k] = res[i]
		}
		p.mu.Unlock()
	}
	var ps []providers.Problem
	for _, ch := range checks {
		p.mu.Lock()
		h := p.help[ch.key]
		p.mu.Unlock()
		if h.rc != 0 {
			ps = append(ps, providers.Problem{Server: s.Name, Component: ch.comp.Address,
				What: fmt.Sprintf("model %q: `%s` failed (exit status %d): %s", ch.model.Name, strings.Join(ch.words, " "), h.rc,
					strings.Join(providers.ErrorLines(h.lines), "\n")),
				Fix: "check the model's name and path (DB-GPT chooses the worker's parameters from them)"})
			continue
		}
		ps = append(ps, providers.ParamProblems(s.Name, ch.comp.Address, ch.model, ver, providers.ClickOptions(h.lines))...)
	}
	return ps
}

// workerHelpScript runs each command (words) and prints "@@whrc I STATUS"
// and its output as "@@wh I LINE" lines.
func workerHelpScript(cmds [][]string) string {
	var b strings.Builder
	for i, words := range cmds {
		fmt.Fprintf(&b, "h=$(%s 2>&1 </dev/null)\necho \"@@whrc %d $?\"\nprintf '%%s\\n' \"$h\" | sed 's/^/@@wh %d /'\n", host.Join(words...), i, i)
	}
	return b.String()
}

func parseWorkerHelp(out []byte, n int) []workerHelp {
	res := make([]workerHelp, n)
	for i := range res {
		res[i].rc = -1
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		tag, rest, _ := strings.Cut(sc.Text(), " ")
		idx, rest, _ := strings.Cut(rest, " ")
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= n {
			continue
		}
		switch tag {
		case "@@whrc":
			res[i].rc, _ = strconv.Atoi(strings.TrimSpace(rest))
		case "@@wh":
			res[i].lines = append(res[i].lines, rest)
		}
	}
	return res
}
