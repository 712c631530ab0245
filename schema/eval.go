package schema

import (
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// sensitiveMark marks values derived from sensitive variables.
type sensitiveMarkT struct{}

var sensitiveMark = sensitiveMarkT{}

// The objects that server.NAME and model.NAME evaluate to.
var (
	serverObjType = cty.Object(map[string]cty.Type{"name": cty.String, "address": cty.String})
	modelObjType  = cty.Object(map[string]cty.Type{"name": cty.String, "type": cty.String, "path": cty.String})
)

// Reference roots.
const (
	rootVar    = "var"
	rootLocal  = "local"
	rootServer = "server"
	rootModel  = "model"
)

// decoder holds the state of decoding one cluster file.
type decoder struct {
	filename string
	dir      string
	opts     LoadOptions
	env      map[string]string
	parser   *hclparse.Parser
	diags    hcl.Diagnostics

	cluster *Cluster

	variables map[string]*variable
	varVals   map[string]cty.Value
	locals    map[string]*hcl.Attribute
	localVals map[string]cty.Value
	servers   map[string]*Server
	models    map[string]*Model
	serverRaw map[string]*serverDecl

	// ranges keeps the range of every decoded attribute, per decoded object,
	// for cross-block diagnostics.
	ranges map[any]map[string]hcl.Range

	funcs map[string]function.Function
	// roots caches the object each reference root evaluates to; changed
	// drops one when a value under it changes.
	roots map[string]cty.Value

	// unknown records the arguments whose value is not known (they use a
	// variable without a value under AllowUnsetVariables, or something that
	// failed); rules that need them are skipped.
	unknown map[unknownKey]bool

	// budget limits what one evalExpr may evaluate (limits.go).
	budget forBudget

	// defaultsEnv is the defaults block's env, decoded once for all servers.
	defaultsEnv *map[string]string
}

type unknownKey struct {
	obj  any
	attr string
}

type variable struct {
	Name        string
	Type        cty.Type
	Default     cty.Value
	Description string
	Sensitive   bool
	DeclRange   hcl.Range
}

func (d *decoder) add(diags ...*hcl.Diagnostic) { d.diags = append(d.diags, diags...) }

var unsupportedBlockRe = regexp.MustCompile(`^Blocks of type "([^"]*)" are not expected here\.$`)

func (d *decoder) addAll(diags hcl.Diagnostics) {
	for _, diag := range diags {
		// Never let the diagnostic writer print values: they may be secrets.
		diag.Expression = nil
		diag.EvalContext = nil
		// HCL suggests only very close block names; be a little more generous.
		if m := unsupportedBlockRe.FindStringSubmatch(diag.Detail); m != nil {
			var types []string
			for _, b := range append(topSpecs, jumpSpec) {
				types = append(types, b.Type)
			}
			if s := suggest(m[1], types); s != "" {
				diag.Detail += fmt.Sprintf(" Did you mean %q?", s)
			}
		}
	}
	d.diags = append(d.diags, diags...)
}

func (d *decoder) setRange(obj any, name string, r hcl.Range) {
	if d.ranges == nil {
		d.ranges = map[any]map[string]hcl.Range{}
	}
	m := d.ranges[obj]
	if m == nil {
		m = map[string]hcl.Range{}
		d.ranges[obj] = m
	}
	m[name] = r
}

// rangeOf returns the range of obj's attribute name, or fallback.
func (d *decoder) rangeOf(obj any, name string, fallback hcl.Range) *hcl.Range {
	if r, ok := d.ranges[obj][name]; ok {
		return &r
	}
	return &fallback
}

func (d *decoder) functions() map[string]function.Function {
	if d.funcs != nil {
		return d.funcs
	}
	d.funcs = map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "chomp": stdlib.ChompFunc,
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc,
		"coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "csvdecode": stdlib.CSVDecodeFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"floor": stdlib.FloorFunc, "format": stdlib.FormatFunc, "formatdate": stdlib.FormatDateFunc,
		"formatlist": stdlib.FormatListFunc, "indent": stdlib.IndentFunc, "join": stdlib.JoinFunc,
		"jsondecode": stdlib.JSONDecodeFunc, "jsonencode": stdlib.JSONEncodeFunc, "keys": stdlib.KeysFunc,
		"length": stdlib.LengthFunc, "log": stdlib.LogFunc, "lookup": stdlib.LookupFunc,
		"lower": stdlib.LowerFunc, "max": stdlib.MaxFunc, "merge": stdlib.MergeFunc, "min": stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc, "range": stdlib.RangeFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"replace": stdlib.ReplaceFunc, "reverse": stdlib.ReverseListFunc, "setintersection": stdlib.SetIntersectionFunc,
		"setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"signum": stdlib.SignumFunc, "slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "split": stdlib.SplitFunc,
		"strlen": stdlib.StrlenFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"timeadd": stdlib.TimeAddFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"upper": stdlib.UpperFunc, "values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"file":  d.fileFunc(), "env": d.envFunc(),
	}
	for name, f := range d.funcs {
		d.funcs[name] = limitFunction(name, f)
	}
	return d.funcs
}

// FunctionNames lists the functions a cluster file may call, sorted.
func FunctionNames() []string {
	d := &decoder{}
	var names []string
	for n := range d.functions() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

const maxFileSize = 1 << 20

func (d *decoder) fileFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 file, relative to the cluster file's directory.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if strings.HasPrefix(p, "~/") {
				p = filepath.Join(d.home(), p[2:])
			}
			if !filepath.IsAbs(p) {
				p = filepath.Join(d.dir, p)
			}
			f, err := os.Open(p)
			if err != nil {
				return cty.NilVal, err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return cty.NilVal, err
			}
			if !st.Mode().IsRegular() {
				return cty.NilVal, fmt.Errorf("%s is not a regular file", p)
			}
			if st.Size() > maxFileSize {
				return cty.NilVal, fmt.Errorf("%s is larger than 1 MiB", p)
			}
			buf := make([]byte, st.Size())
			n, _ := f.Read(buf)
			buf = buf[:n]
			if !utf8.Valid(buf) {
				return cty.NilVal, fmt.Errorf("%s is not valid UTF-8", p)
			}
			return cty.StringVal(string(buf)), nil
		},
	})
}

func (d *decoder) envFunc() function.Function {
	return function.New(&function.Spec{
		Description: "Reads an environment variable of hactl's process; a missing variable is an error.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name := args[0].AsString()
			v, ok := d.env[name]
			if !ok {
				return cty.NilVal, fmt.Errorf("environment variable %q is not set", name)
			}
			return cty.StringVal(v), nil
		},
	})
}

func (d *decoder) home() string {
	if h := d.env["HOME"]; h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// evalContext builds the context from the values known so far.
func (d *decoder) changed(root string) { delete(d.roots, root) }

// evalContext returns the context with the values known so far, for an
// expression that may refer to the given roots.
func (d *decoder) evalContext(roots []string) *hcl.EvalContext {
	if d.roots == nil {
		d.roots = map[string]cty.Value{}
	}
	vars := map[string]cty.Value{}
	for _, root := range roots {
		v, ok := d.roots[root]
		if !ok {
			v = d.rootObject(root)
			d.roots[root] = v
		}
		vars[root] = v
	}
	return &hcl.EvalContext{Variables: vars, Functions: d.functions()}
}

func (d *decoder) rootObject(root string) cty.Value {
	switch root {
	case rootVar:
		return objectOf(d.varVals)
	case rootLocal:
		return objectOf(d.localVals)
	case rootServer:
		servers := map[string]cty.Value{}
		for name, s := range d.servers {
			addr := cty.StringVal(s.Address)
			if s.Address == "" {
				addr = cty.UnknownVal(cty.String)
			}
			servers[name] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(name), "address": addr})
		}
		return objectOf(servers)
	default:
		models := map[string]cty.Value{}
		for name, m := range d.models {
			models[name] = cty.ObjectVal(map[string]cty.Value{
				"name": cty.StringVal(name), "type": cty.StringVal(m.WorkerType), "path": cty.StringVal(m.Path),
			})
		}
		return objectOf(models)
	}
}

func objectOf(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

var rootKinds = map[string]string{rootVar: "variable", rootLocal: "local value", rootServer: "server", rootModel: "model"}

// checkRefs reports every reference in expr that is not allowed in this
// place or names something undeclared. It returns false when any is bad.
func (d *decoder) checkRefs(expr hcl.Expression, where string, allowed ...string) bool {
	ok := true
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		if !slices.Contains(allowed, root) {
			ok = false
			if _, known := rootKinds[root]; known {
				if len(allowed) == 0 {
					d.add(errorf(&rng, "Reference not allowed here", "%s cannot refer to anything: it must be a constant.", capitalize(where)))
				} else {
					d.add(errorf(&rng, "Reference not allowed here",
						"%s cannot refer to %s.*; it may refer to %s.", capitalize(where), root, describeRoots(allowed)))
				}
				continue
			}
			detail := fmt.Sprintf("There is nothing called %q. %s may refer to %s.", root, capitalize(where), describeRoots(allowed))
			if s := suggest(root, allowed); s != "" {
				detail = fmt.Sprintf("There is nothing called %q. Did you mean %q?", root, s)
			}
			d.add(errorf(&rng, "Unknown reference", "%s", detail))
			continue
		}
		if len(tr) < 2 {
			d.add(errorf(&rng, "Incomplete reference", "A reference to a %s needs a name, like %s.NAME.", rootKinds[root], root))
			ok = false
			continue
		}
		name, isName := stepName(tr[1])
		if !isName {
			d.add(errorf(&rng, "Invalid reference", "A reference to a %s needs a name, like %s.NAME.", rootKinds[root], root))
			ok = false
			continue
		}
		if !d.declared(root, name) {
			names := d.namesOf(root)
			ok = false
			r := hcl.RangeBetween(tr[0].SourceRange(), tr[1].SourceRange())
			detail := fmt.Sprintf("No %s named %q is declared.", rootKinds[root], name)
			if s := suggest(name, names); s != "" {
				detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
			} else if len(names) == 0 {
				detail += fmt.Sprintf(" The file declares no %s.", plural(rootKinds[root]))
			}
			d.add(errorf(&r, "Reference to undeclared "+rootKinds[root], "%s", detail))
		}
	}
	return ok
}

func stepName(t hcl.Traverser) (string, bool) {
	switch s := t.(type) {
	case hcl.TraverseAttr:
		return s.Name, true
	case hcl.TraverseIndex:
		if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
			return s.Key.AsString(), true
		}
	}
	return "", false
}

func (d *decoder) declared(root, name string) bool {
	var ok bool
	switch root {
	case rootVar:
		_, ok = d.variables[name]
	case rootLocal:
		_, ok = d.locals[name]
	case rootServer:
		_, ok = d.serverRaw[name]
	case rootModel:
		_, ok = d.models[name]
	}
	return ok
}

func (d *decoder) namesOf(root string) []string {
	var out []string
	switch root {
	case rootVar:
		for n := range d.variables {
			out = append(out, n)
		}
	case rootLocal:
		for n := range d.locals {
			out = append(out, n)
		}
	case rootServer:
		for n := range d.serverRaw {
			out = append(out, n)
		}
	case rootModel:
		for n := range d.models {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func describeRoots(roots []string) string {
	if len(roots) == 0 {
		return "nothing (it must be a constant)"
	}
	var parts []string
	for _, r := range roots {
		parts = append(parts, r+".*")
	}
	return strings.Join(parts, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(s string) string {
	if strings.HasSuffix(s, "s") {
		return s + "es"
	}
	return s + "s"
}

// suggest returns the candidate closest to given, if it is close enough.
func suggest(given string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		dist := levenshtein(given, c)
		if dist < bestDist {
			best, bestDist = c, dist
		}
	}
	limit := 3
	if len(given) <= 3 {
		limit = 1
	}
	if bestDist <= limit || (best != "" && strings.EqualFold(best, given)) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// attrs is the body of one block being decoded: its own attributes, the
// fallback ones (the defaults block for servers), and what they may refer to.
type attrs struct {
	d        *decoder
	own      hcl.Attributes
	fallback hcl.Attributes
	where    string // "a server block", for messages
	allowed  []string
	obj      any // the object being filled, for d.ranges
}

func (a *attrs) get(name string) *hcl.Attribute {
	if at, ok := a.own[name]; ok {
		return at
	}
	if at, ok := a.fallback[name]; ok {
		return at
	}
	return nil
}

// value evaluates the named attribute. ok is false when it is absent, null,
// invalid or not known (an error has then been reported).
func (a *attrs) value(name string, ty cty.Type, secretOK bool) (cty.Value, *hcl.Attribute, bool) {
	at := a.get(name)
	if at == nil {
		return cty.NilVal, nil, false
	}
	if a.obj != nil {
		a.d.setRange(a.obj, name, at.Expr.Range())
	}
	v, ok := a.d.evalExpr(at.Expr, a.where, a.allowed)
	if !ok || v.IsNull() {
		return cty.NilVal, at, false
	}
	v, marks := v.UnmarkDeep()
	if len(marks) > 0 && !secretOK {
		rng := at.Expr.Range()
		a.d.add(errorf(&rng, "Sensitive value not allowed here",
			"%q would show a sensitive value in plans, logs or on a command line. Sensitive variables may only be used in password, api_keys, api_key, root_password, env and params values.", name))
		return cty.NilVal, at, false
	}
	if ty != cty.DynamicPseudoType {
		cv, err := convert.Convert(v, ty)
		if err != nil {
			rng := at.Expr.Range()
			a.d.add(errorf(&rng, "Incorrect value type", "Invalid value for %q: %s.", name, err.Error()))
			return cty.NilVal, at, false
		}
		v = cv
	}
	if !v.IsWhollyKnown() {
		if a.obj != nil {
			a.d.unknown[unknownKey{a.obj, name}] = true
		}
		return cty.NilVal, at, false
	}
	if ref := tomlEnvRef(a.d.cluster, v); ref != "" && !secretOK {
		rng := at.Expr.Range()
		a.d.add(errorf(&rng, "Environment reference in value",
			"The value holds %q. DB-GPT %s expands ${env:NAME} anywhere in its configuration file and has no way to escape it, so the DB-GPT process would read its own environment variable instead of this text. Remove it; a secret belongs in a sensitive variable, which hactl passes through the environment itself.",
			ref, a.d.cluster.Generation))
		return cty.NilVal, at, false
	}
	if v.IsNull() {
		return cty.NilVal, at, false
	}
	return v, at, true
}

// evalExpr checks the references of expr, evaluates it and checks every
// string in the result for control characters.
func (d *decoder) evalExpr(expr hcl.Expression, where string, allowed []string) (cty.Value, bool) {
	if !d.checkRefs(expr, where, allowed...) {
		return cty.DynamicVal, false
	}
	d.budget = forBudget{}
	v, diags := expr.Value(d.evalContext(allowed))
	d.addAll(diags)
	if diags.HasErrors() {
		return cty.DynamicVal, false
	}
	if valueSize(v) > MaxElements {
		rng := expr.Range()
		d.add(errorf(&rng, "Value too large", "The value has more than %d elements (a string counts one per 256 bytes); hactl refuses it to stay within its time and memory.", MaxElements))
		return cty.DynamicVal, false
	}
	if bad, what := hasControlChars(v); bad {
		rng := expr.Range()
		d.add(errorf(&rng, "Control character in value",
			"The value contains %s. Values end up in command lines, config files and SQL; control characters are never valid there. (Reading a file? Use trimspace(file(...)).)", what))
		return cty.DynamicVal, false
	}
	return v, true
}

func hasControlChars(v cty.Value) (bool, string) {
	found, what := false, ""
	_ = cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if found {
			return false, nil
		}
		v, _ = v.Unmark()
		if v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			for _, r := range v.AsString() {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
					found, what = true, fmt.Sprintf("the control character %U", r)
					return false, nil
				}
			}
		}
		return true, nil
	})
	return found, what
}

func (a *attrs) str(name string, dst *string) bool {
	v, _, ok := a.value(name, cty.String, false)
	if ok {
		*dst = v.AsString()
	}
	return ok
}

func (a *attrs) secret(name string, dst *Secret) bool {
	v, _, ok := a.value(name, cty.String, true)
	if ok {
		*dst = NewSecret(v.AsString())
	}
	return ok
}

func (a *attrs) boolean(name string, dst *bool) bool {
	v, _, ok := a.value(name, cty.Bool, false)
	if ok {
		*dst = v.True()
	}
	return ok
}

func (a *attrs) integer(name string, dst *int) bool {
	v, at, ok := a.value(name, cty.Number, false)
	if !ok {
		return false
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || i > 1<<31 || i < -(1<<31) {
		rng := at.Expr.Range()
		a.d.add(errorf(&rng, "Invalid number", "%q must be a whole number, not %s.", name, bf.Text('g', 10)))
		return false
	}
	*dst = int(i)
	return true
}

// port decodes a port number in 1–65535.
func (a *attrs) port(name string, dst *int) bool {
	var p int
	if !a.integer(name, &p) {
		return false
	}
	if p < 1 || p > 65535 {
		rng := a.get(name).Expr.Range()
		a.d.add(errorf(&rng, "Port out of range", "%q is %d; a port must be between 1 and 65535.", name, p))
		return false
	}
	*dst = p
	return true
}

// positive decodes a whole number > 0.
func (a *attrs) positive(name string, dst *int) bool {
	var n int
	if !a.integer(name, &n) {
		return false
	}
	if n <= 0 {
		rng := a.get(name).Expr.Range()
		a.d.add(errorf(&rng, "Invalid number", "%q must be greater than 0, not %d.", name, n))
		return false
	}
	*dst = n
	return true
}

func (a *attrs) duration(name string, dst *time.Duration) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 {
		rng := a.get(name).Expr.Range()
		a.d.add(errorf(&rng, "Invalid duration", "%q must be a positive duration like \"10s\" or \"1m30s\", not %q.", name, s))
		return false
	}
	*dst = dur
	return true
}

func (a *attrs) strList(name string, dst *[]string) bool {
	v, _, ok := a.value(name, cty.List(cty.String), false)
	if !ok {
		return false
	}
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			continue
		}
		out = append(out, e.AsString())
	}
	*dst = out
	return true
}

func (a *attrs) secretList(name string, dst *[]Secret) bool {
	v, _, ok := a.value(name, cty.List(cty.String), true)
	if !ok {
		return false
	}
	out := []Secret{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			continue
		}
		out = append(out, NewSecret(e.AsString()))
	}
	*dst = out
	return true
}

// strMap decodes a map of strings. Sensitive values are allowed when
// secretOK (env); they are then also recorded as cluster secrets.
func (a *attrs) strMap(name string, dst *map[string]string, secretOK bool) bool {
	at := a.get(name)
	v, _, ok := a.value(name, cty.Map(cty.String), secretOK)
	if !ok {
		return false
	}
	if secretOK {
		// value() unmarked it; find the sensitive elements again.
		raw, _ := a.d.evalExpr(at.Expr, a.where, a.allowed)
		if raw.IsKnown() && !raw.IsNull() && raw.CanIterateElements() {
			for it := raw.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.ContainsMarked() {
					if ue, _ := e.UnmarkDeep(); ue.IsKnown() && !ue.IsNull() {
						if s, err := convert.Convert(ue, cty.String); err == nil {
							a.d.sensitive(s.AsString())
						}
					}
				}
			}
		}
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			continue
		}
		out[k.AsString()] = e.AsString()
	}
	*dst = out
	return true
}

func (d *decoder) sensitive(s string) {
	if s == "" || d.cluster == nil || slices.Contains(d.cluster.sensitiveValues, s) {
		return
	}
	d.cluster.sensitiveValues = append(d.cluster.sensitiveValues, s)
}

// serverRef decodes a reference to a server block.
func (a *attrs) serverRef(name string) *Server {
	v, at, ok := a.value(name, cty.DynamicPseudoType, false)
	if !ok {
		return nil
	}
	if !v.Type().Equals(serverObjType) {
		rng := at.Expr.Range()
		a.d.add(errorf(&rng, "Invalid server reference", "%q must refer to a server block, like server.server1.", name))
		return nil
	}
	return a.d.servers[v.GetAttr("name").AsString()]
}

// modelRef decodes a reference to a model block.
func (a *attrs) modelRef(name string) *Model {
	v, at, ok := a.value(name, cty.DynamicPseudoType, false)
	if !ok {
		return nil
	}
	if !v.Type().Equals(modelObjType) {
		rng := at.Expr.Range()
		a.d.add(errorf(&rng, "Invalid model reference", "%q must refer to a model block, like model.text2vec.", name))
		return nil
	}
	return a.d.models[v.GetAttr("name").AsString()]
}

// dbgptEnvRefRe is what DB-GPT 0.7's configuration loader expands
// (dbgpt/util/configure/manager.py, _DEFAULT_ENV_VAR_PATTERN), in a single
// pass and without an escape.
var dbgptEnvRefRe = regexp.MustCompile(`\$\{env:[^}]+\}`)

// tomlEnvRef returns the first ${env:...} in the strings of v when the
// cluster's settings are a TOML file, or "".
func tomlEnvRef(c *Cluster, v cty.Value) string {
	if c == nil || c.Generation != GenerationTOML {
		return ""
	}
	found := ""
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		if found == "" && e.Type() == cty.String && e.IsKnown() && !e.IsNull() {
			found = dbgptEnvRefRe.FindString(e.AsString())
		}
		return found == "", nil
	})
	return found
}
