package schema

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"regexp"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Limits on hostile input. A cluster file is a few kilobytes; these are far
// above any real one and low enough that a file at a limit is refused in
// well under a second and 200 MB.
const (
	// MaxSourceSize is the largest cluster file or variable file read.
	MaxSourceSize = 4 << 20
	// MaxNesting is the deepest nesting of brackets, strings, template
	// interpolations and operator chains in one expression. HCL's parser
	// recurses on each level; 100,000 levels overflow Go's stack.
	MaxNesting = 256
	// MaxTokens is the most tokens (names, numbers, strings, punctuation)
	// in one file. HCL's lexer and parser keep a few hundred bytes for
	// each; a cluster file has a few thousand.
	MaxTokens = 100_000
	// MaxHeredocLines is the most lines in one heredoc: HCL's parser takes
	// time quadratic in them (20,000 lines take seconds).
	MaxHeredocLines = 1000
	// MaxElements is the most elements (list, map and object elements, for
	// iterations, range() results) one expression may evaluate to or
	// iterate over, and the most bytes of one string value divided by 256.
	MaxElements = 10_000
)

var errTooLarge = fmt.Errorf("value too large (more than %d elements)", MaxElements)

// ReadSource reads a file of at most limit bytes. Directories, devices and
// sockets are refused (reading /dev/zero would never end); pipes (a
// process substitution like -var-file <(vault ...)) are read up to limit.
func ReadSource(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch m := st.Mode(); {
	case m.IsDir():
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	case m&(os.ModeDevice|os.ModeCharDevice|os.ModeSocket|os.ModeIrregular) != 0:
		return nil, fmt.Errorf("%s is not a regular file", path)
	case m.IsRegular() && st.Size() > limit:
		return nil, fmt.Errorf("%s is larger than %s (%d bytes); hactl reads no larger file", path, sizeString(limit), st.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %s; hactl reads no larger file", path, sizeString(limit))
	}
	return b, nil
}

func sizeString(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkNesting scans src as HCL's lexer would (comments, quoted strings,
// heredocs, ${ } and %{ } in templates), closely enough to measure how deep
// its expressions nest before the recursive parser sees them. Operators
// count as nesting too: a chain of them parses and evaluates recursively.
// It returns a diagnostic at the first place deeper than MaxNesting, or nil.
func checkNesting(filename string, src []byte, start hcl.Pos) *hcl.Diagnostic {
	const (
		code = iota
		str
		heredoc
	)
	type frame struct {
		kind   int
		ops    int
		brace  bool   // a { } frame or the top: a newline ends an item
		marker []byte // heredoc end marker
		lines  int    // heredoc lines so far
	}
	stack := []frame{{kind: code, brace: true}}
	depth := 0 // len(stack)-1 + every frame's ops
	pos := start
	i := 0
	advance := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			c := src[i]
			i++
			pos.Byte++
			if c == '\n' {
				pos.Line++
				pos.Column = 1
			} else if c < 0x80 || c >= 0xC0 {
				pos.Column++
			}
		}
	}
	tooDeep := func() *hcl.Diagnostic {
		end := pos
		end.Byte++
		end.Column++
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Expression nested too deeply",
			Detail: fmt.Sprintf("Brackets, strings, template interpolations and operators nest more than %d deep here. hactl refuses such input: parsing it could exhaust memory.",
				MaxNesting),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: end},
		}
	}
	push := func(f frame) bool {
		stack = append(stack, f)
		depth++
		return depth <= MaxNesting
	}
	pop := func() {
		depth -= 1 + stack[len(stack)-1].ops
		stack = stack[:len(stack)-1]
	}
	tokens := 0
	tooMany := func() *hcl.Diagnostic {
		end := pos
		end.Byte++
		end.Column++
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Too many tokens",
			Detail: fmt.Sprintf("The file has more than %d tokens (names, numbers, strings, punctuation) by here; a cluster file needs a few thousand. hactl refuses it: parsing it could exhaust memory.",
				MaxTokens),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: end},
		}
	}
	atLineStart := true
	for i < len(src) {
		// Roughly one token per step below that starts something.
		if i == 0 || !isIdentByte(src[i]) || !isIdentByte(src[i-1]) {
			if c := src[i]; c != ' ' && c != '\t' && c != '\r' && (stack[len(stack)-1].kind == code || c == '$' || c == '%' ||
				(stack[len(stack)-1].kind == heredoc && src[i-1] == '\n')) {
				tokens++
				if tokens > MaxTokens {
					return tooMany()
				}
			}
		}
		top := &stack[len(stack)-1]
		c := src[i]
		switch top.kind {
		case heredoc:
			if atLineStart {
				j := i
				for j < len(src) && src[j] != '\n' {
					j++
				}
				line := src[i:j]
				if string(trimSpace(line)) == string(top.marker) {
					pop()
					advance(j - i)
					continue
				}
				if top.lines++; top.lines > MaxHeredocLines {
					return &hcl.Diagnostic{
						Severity: hcl.DiagError,
						Summary:  "Heredoc too long",
						Detail:   fmt.Sprintf("This heredoc has more than %d lines; hactl refuses it: parsing it would take too long. Read long text with file().", MaxHeredocLines),
						Subject:  &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: pos.Byte + 1}},
					}
				}
			}
			atLineStart = c == '\n'
			if isTemplateStart(src[i:]) {
				advance(2)
				if !push(frame{kind: code}) {
					return tooDeep()
				}
				continue
			}
			if len(src[i:]) >= 3 && (string(src[i:i+3]) == "$${" || string(src[i:i+3]) == "%%{") {
				advance(3)
				continue
			}
			advance(1)
		case str:
			switch {
			case c == '\\':
				advance(2)
			case c == '"' || c == '\n':
				pop()
				advance(1)
			case len(src[i:]) >= 3 && (string(src[i:i+3]) == "$${" || string(src[i:i+3]) == "%%{"):
				advance(3)
			case isTemplateStart(src[i:]):
				advance(2)
				if !push(frame{kind: code}) {
					return tooDeep()
				}
			default:
				advance(1)
			}
		default:
			switch {
			case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
				for i < len(src) && src[i] != '\n' {
					advance(1)
				}
			case c == '/' && i+1 < len(src) && src[i+1] == '*':
				advance(2)
				for i < len(src) && !(src[i] == '*' && i+1 < len(src) && src[i+1] == '/') {
					advance(1)
				}
				advance(2)
			case c == '"':
				advance(1)
				if !push(frame{kind: str}) {
					return tooDeep()
				}
			case c == '<' && i+1 < len(src) && src[i+1] == '<':
				j := i + 2
				if j < len(src) && src[j] == '-' {
					j++
				}
				k := j
				for k < len(src) && (isIdentByte(src[k])) {
					k++
				}
				if k > j && k < len(src) && (src[k] == '\n' || (src[k] == '\r' && k+1 < len(src) && src[k+1] == '\n')) {
					marker := src[j:k]
					advance(k - i)
					advance(1)
					if src[i-1] == '\r' {
						advance(1)
					}
					atLineStart = true
					if !push(frame{kind: heredoc, marker: marker}) {
						return tooDeep()
					}
					continue
				}
				advance(2)
			case c == '(' || c == '[' || c == '{':
				if !push(frame{kind: code, brace: c == '{'}) {
					return tooDeep()
				}
				advance(1)
			case c == ')' || c == ']' || c == '}':
				if len(stack) > 1 {
					pop()
				}
				advance(1)
			case c == ',' || (c == '\n' && top.brace):
				depth -= top.ops
				top.ops = 0
				advance(1)
			case c == '!' || c == '-' || c == '+' || c == '*' || c == '/' || c == '%' ||
				c == '?' || c == ':' || c == '<' || c == '>' || c == '&' || c == '|':
				top.ops++
				depth++
				if depth > MaxNesting {
					return tooDeep()
				}
				advance(1)
			default:
				advance(1)
			}
		}
	}
	return nil
}

func isTemplateStart(b []byte) bool {
	return len(b) >= 2 && (b[0] == '$' || b[0] == '%') && b[1] == '{'
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// parseConfig is hclsyntax's parser behind the nesting check; the for
// expressions of the file count their iterations against b (nil: none).
func parseConfig(src []byte, filename string, b *forBudget) (*hcl.File, hcl.Diagnostics) {
	if d := checkNesting(filename, src, hcl.InitialPos); d != nil {
		return &hcl.File{Body: hcl.EmptyBody(), Bytes: src}, hcl.Diagnostics{d}
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if f != nil && b != nil {
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			limitForExprs(body, b)
		}
	}
	return f, diags
}

// forBudget counts the elements the for expressions of one evaluation
// iterate over; evalExpr resets it.
type forBudget struct {
	used     int
	exceeded bool
}

// budgetExpr wraps the collection of a for expression and each part of a
// string template: it counts the size of their values (valueSize) against
// the budget of the evaluation and, once the budget is spent, stops it (an
// error the first time, an unknown value after, so that enclosing for
// expressions end at once instead of iterating on).
type budgetExpr struct {
	hclsyntax.Expression
	at hcl.Range // the for expression or template, for the error
	b  *forBudget
}

func (e *budgetExpr) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	b := e.b
	if b.exceeded {
		return cty.DynamicVal, nil
	}
	v, diags := e.Expression.Value(ctx)
	if diags.HasErrors() {
		return v, diags
	}
	b.used += valueSize(v)
	if b.used > MaxElements {
		b.exceeded = true
		return cty.DynamicVal, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Value too large",
			Detail:   fmt.Sprintf("Evaluating this expression goes through more than %d elements (a string counts one per 256 bytes); hactl refuses it to stay within its time and memory.", MaxElements),
			Subject:  e.at.Ptr(),
		})
	}
	return v, diags
}

// limitForExprs wraps the collection of every for expression and the parts
// of every template in body in a budgetExpr.
func limitForExprs(body *hclsyntax.Body, b *forBudget) {
	wrap := func(e hclsyntax.Expression, at hcl.Range) hclsyntax.Expression {
		if _, done := e.(*budgetExpr); done {
			return e
		}
		// The parentheses make walks (Variables) visit e itself: a
		// budgetExpr walks the children of what it embeds.
		return &budgetExpr{Expression: &hclsyntax.ParenthesesExpr{Expression: e, SrcRange: e.Range()}, at: at, b: b}
	}
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.ForExpr:
			e.CollExpr = wrap(e.CollExpr, e.SrcRange)
		case *hclsyntax.TemplateExpr:
			for i, p := range e.Parts {
				e.Parts[i] = wrap(p, e.SrcRange)
			}
		case *hclsyntax.TemplateJoinExpr:
			e.Tuple = wrap(e.Tuple, e.Tuple.Range())
		}
		return nil
	})
}

// valueSize returns a measure of v's size: one per element, one per 256
// bytes of string; it stops counting past MaxElements.
func valueSize(v cty.Value) int {
	v, _ = v.UnmarkDeep()
	n := 0
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		e, _ = e.Unmark()
		n++
		if e.IsKnown() && !e.IsNull() && e.Type() == cty.String {
			n += len(e.AsString()) / 256
		}
		if n > MaxElements {
			return false, errTooLarge
		}
		return true, nil
	})
	return n
}

var formatWidthRe = regexp.MustCompile(`%[-+ #0]*(?:\[\d+\])?(\d*)(?:\.(\d*))?`)

// limitFunction wraps f so that it refuses arguments and results larger
// than MaxElements, and the calls (range, format widths) that would build
// one before returning. When an argument is sensitive (marked), an error of
// f is replaced by one that names the function and shows no value: cty's
// functions quote their arguments in errors.
func limitFunction(name string, f function.Function) function.Function {
	open := func(p function.Parameter) function.Parameter {
		p.AllowMarked, p.AllowNull, p.AllowUnknown, p.AllowDynamicType = true, true, true, true
		return p
	}
	var params []function.Parameter
	for _, p := range f.Params() {
		params = append(params, open(p))
	}
	var varParam *function.Parameter
	if vp := f.VarParam(); vp != nil {
		p := open(*vp)
		varParam = &p
	}
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      params,
		VarParam:    varParam,
		Type: func(args []cty.Value) (cty.Type, error) {
			ty, err := f.ReturnTypeForValues(args)
			return ty, redactError(name, err, args)
		},
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if err := precheck(name, args); err != nil {
				return cty.NilVal, err
			}
			v, err := f.Call(args)
			if err != nil {
				return cty.NilVal, redactError(name, err, args)
			}
			if valueSize(v) > MaxElements {
				return cty.NilVal, errTooLarge
			}
			return v, nil
		},
	})
}

// redactError replaces err by a message without any value when an argument
// is sensitive, keeping the argument's position for the diagnostic.
func redactError(name string, err error, args []cty.Value) error {
	if err == nil {
		return nil
	}
	sensitive := -1
	for i, a := range args {
		if a.ContainsMarked() {
			sensitive = i
			break
		}
	}
	if sensitive < 0 {
		return err
	}
	msg := fmt.Sprintf("%s() failed on a sensitive argument; the error is not shown because it could reveal the value", name)
	var ae function.ArgError
	if errors.As(err, &ae) {
		return function.NewArgErrorf(ae.Index, "%s", msg)
	}
	return errors.New(msg)
}

func precheck(name string, args []cty.Value) error {
	known := func(v cty.Value) (cty.Value, bool) {
		v, _ = v.UnmarkDeep()
		return v, v.IsKnown() && !v.IsNull()
	}
	switch name {
	case "range":
		var nums []*big.Float
		for _, a := range args {
			v, ok := known(a)
			if !ok || v.Type() != cty.Number {
				return nil
			}
			nums = append(nums, v.AsBigFloat())
		}
		start, end, step := big.NewFloat(0), big.NewFloat(0), big.NewFloat(1)
		switch len(nums) {
		case 1:
			end = nums[0]
		case 2:
			start, end = nums[0], nums[1]
		case 3:
			start, end, step = nums[0], nums[1], nums[2]
		}
		if step.Sign() == 0 {
			return nil
		}
		n := new(big.Float).Quo(new(big.Float).Sub(end, start), step)
		if n.Cmp(big.NewFloat(MaxElements)) > 0 {
			return errTooLarge
		}
	case "format", "formatlist":
		if len(args) == 0 {
			return nil
		}
		v, ok := known(args[0])
		if !ok || v.Type() != cty.String {
			return nil
		}
		for _, m := range formatWidthRe.FindAllStringSubmatch(v.AsString(), -1) {
			for _, w := range m[1:] {
				if n, err := strconv.Atoi(w); (err != nil && w != "") || n > 256*MaxElements {
					return errTooLarge
				}
			}
		}
	case "indent":
		if v, ok := known(args[0]); ok && v.Type() == cty.Number {
			if v.AsBigFloat().Cmp(big.NewFloat(1000)) > 0 {
				return errTooLarge
			}
		}
	}
	for _, a := range args {
		if valueSize(a) > MaxElements {
			return errTooLarge
		}
	}
	return nil
}
