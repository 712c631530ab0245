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
// It returns a diagnostic at the first place deeper than MaxNesting, with
// more than MaxTokens tokens or in a heredoc longer than MaxHeredocLines,
// or nil.
//
// hclsyntax.LexConfig would lex exactly, but it keeps every token: a 4 MiB
// list literal is 4 M tokens, 1.4 GB and 2.7 s before any limit applies.
func checkNesting(filename string, src []byte, start hcl.Pos) *hcl.Diagnostic {
	s := &nestScanner{
		filename:    filename,
		src:         src,
		pos:         start,
		stack:       []nestFrame{{kind: nestCode, brace: true}},
		atLineStart: true,
	}
	for s.i < len(s.src) {
		if d := s.countToken(); d != nil {
			return d
		}
		var d *hcl.Diagnostic
		switch s.top().kind {
		case nestHeredoc:
			d = s.heredoc()
		case nestString:
			d = s.quoted()
		default:
			d = s.code()
		}
		if d != nil {
			return d
		}
	}
	return nil
}

// The lexical states of nestScanner.
const (
	nestCode = iota
	nestString
	nestHeredoc
)

type nestFrame struct {
	kind   int
	ops    int    // operators since the last item separator
	brace  bool   // a { } frame or the top: a newline ends an item
	marker []byte // heredoc end marker
	lines  int    // heredoc lines so far
}

// nestScanner is checkNesting's state: one frame per open bracket, string,
// heredoc or interpolation.
type nestScanner struct {
	filename    string
	src         []byte
	i           int
	pos         hcl.Pos // of src[i]
	stack       []nestFrame
	depth       int // len(stack)-1 + every frame's ops
	tokens      int
	atLineStart bool // in a heredoc, src[i] starts a line
}

func (s *nestScanner) top() *nestFrame { return &s.stack[len(s.stack)-1] }

func (s *nestScanner) hasPrefix(p string) bool {
	return len(s.src)-s.i >= len(p) && string(s.src[s.i:s.i+len(p)]) == p
}

// advance moves n bytes on (at most to the end), keeping pos in step.
func (s *nestScanner) advance(n int) {
	for k := 0; k < n && s.i < len(s.src); k++ {
		c := s.src[s.i]
		s.i++
		s.pos.Byte++
		if c == '\n' {
			s.pos.Line++
			s.pos.Column = 1
		} else if c < 0x80 || c >= 0xC0 {
			s.pos.Column++
		}
	}
}

// push opens a frame; it returns a diagnostic when that is too deep.
func (s *nestScanner) push(f nestFrame) *hcl.Diagnostic {
	s.stack = append(s.stack, f)
	s.depth++
	if s.depth > MaxNesting {
		return s.tooDeep()
	}
	return nil
}

func (s *nestScanner) pop() {
	s.depth -= 1 + s.top().ops
	s.stack = s.stack[:len(s.stack)-1]
}

// countToken counts src[i] if it starts a token, roughly: one per step
// of the scanner that starts something.
func (s *nestScanner) countToken() *hcl.Diagnostic {
	if !s.startsToken() {
		return nil
	}
	s.tokens++
	if s.tokens > MaxTokens {
		return s.tooMany()
	}
	return nil
}

func (s *nestScanner) startsToken() bool {
	src, i := s.src, s.i
	c := src[i]
	if i > 0 && isIdentByte(c) && isIdentByte(src[i-1]) {
		return false
	}
	if c == ' ' || c == '\t' || c == '\r' {
		return false
	}
	switch s.top().kind {
	case nestCode:
		return true
	case nestHeredoc:
		if src[i-1] == '\n' {
			return true
		}
	}
	return c == '$' || c == '%'
}

// code scans one step outside strings and heredocs.
func (s *nestScanner) code() *hcl.Diagnostic {
	if s.skipComment() {
		return nil
	}
	switch {
	case s.src[s.i] == '"':
		s.advance(1)
		return s.push(nestFrame{kind: nestString})
	case s.hasPrefix("<<"):
		return s.heredocStart()
	}
	return s.punctuation(s.src[s.i])
}

// punctuation scans one byte of code: brackets open and close frames,
// separators end an item, operators deepen the current one.
func (s *nestScanner) punctuation(c byte) *hcl.Diagnostic {
	top := s.top()
	switch {
	case c == '(' || c == '[' || c == '{':
		if d := s.push(nestFrame{kind: nestCode, brace: c == '{'}); d != nil {
			return d
		}
	case c == ')' || c == ']' || c == '}':
		if len(s.stack) > 1 {
			s.pop()
		}
	case c == ',' || (c == '\n' && top.brace):
		s.depth -= top.ops
		top.ops = 0
	case isOperatorByte(c):
		top.ops++
		s.depth++
		if s.depth > MaxNesting {
			return s.tooDeep()
		}
	}
	s.advance(1)
	return nil
}

func isOperatorByte(c byte) bool {
	switch c {
	case '!', '-', '+', '*', '/', '%', '?', ':', '<', '>', '&', '|':
		return true
	}
	return false
}

// skipComment moves over a comment starting at src[i], if one does.
func (s *nestScanner) skipComment() bool {
	switch {
	case s.src[s.i] == '#' || s.hasPrefix("//"):
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			s.advance(1)
		}
	case s.hasPrefix("/*"):
		s.advance(2)
		for s.i < len(s.src) && !s.hasPrefix("*/") {
			s.advance(1)
		}
		s.advance(2)
	default:
		return false
	}
	return true
}

// heredocStart handles "<<" in code: the start of a heredoc when a marker
// and a newline follow, else a single step over it.
func (s *nestScanner) heredocStart() *hcl.Diagnostic {
	marker, n := heredocIntro(s.src[s.i:])
	if marker == nil {
		s.advance(2)
		return nil
	}
	s.advance(n)
	s.atLineStart = true
	return s.push(nestFrame{kind: nestHeredoc, marker: marker})
}

// heredocIntro returns the end marker of the heredoc b starts with ("<<"
// or "<<-", a name, a newline) and the length of that introduction, or nil.
func heredocIntro(b []byte) (marker []byte, n int) {
	j := 2
	if j < len(b) && b[j] == '-' {
		j++
	}
	k := j
	for k < len(b) && isIdentByte(b[k]) {
		k++
	}
	switch {
	case k == j || k >= len(b):
		return nil, 0
	case b[k] == '\n':
		return b[j:k], k + 1
	case b[k] == '\r' && k+1 < len(b) && b[k+1] == '\n':
		return b[j:k], k + 2
	}
	return nil, 0
}

// heredoc scans one step of heredoc text: at a line's start, its end
// marker or the count of its lines.
func (s *nestScanner) heredoc() *hcl.Diagnostic {
	if s.atLineStart {
		top := s.top()
		j := s.i
		for j < len(s.src) && s.src[j] != '\n' {
			j++
		}
		if string(trimSpace(s.src[s.i:j])) == string(top.marker) {
			s.pop()
			s.advance(j - s.i)
			return nil
		}
		if top.lines++; top.lines > MaxHeredocLines {
			return s.heredocTooLong()
		}
	}
	s.atLineStart = s.src[s.i] == '\n'
	return s.template()
}

// quoted scans one step of a quoted string.
func (s *nestScanner) quoted() *hcl.Diagnostic {
	switch s.src[s.i] {
	case '\\':
		s.advance(2)
		return nil
	case '"', '\n':
		s.pop()
		s.advance(1)
		return nil
	}
	return s.template()
}

// template scans one step of template text (string or heredoc): an
// interpolation or directive opens a code frame; escaped ones do not.
func (s *nestScanner) template() *hcl.Diagnostic {
	switch {
	case isTemplateStart(s.src[s.i:]):
		s.advance(2)
		return s.push(nestFrame{kind: nestCode})
	case s.hasPrefix("$${") || s.hasPrefix("%%{"):
		s.advance(3)
	default:
		s.advance(1)
	}
	return nil
}

// here returns the range of the byte at pos.
func (s *nestScanner) here() *hcl.Range {
	end := s.pos
	end.Byte++
	end.Column++
	return &hcl.Range{Filename: s.filename, Start: s.pos, End: end}
}

func (s *nestScanner) tooDeep() *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Expression nested too deeply",
		Detail: fmt.Sprintf("Brackets, strings, template interpolations and operators nest more than %d deep here. hactl refuses such input: parsing it could exhaust memory.",
			MaxNesting),
		Subject: s.here(),
	}
}

func (s *nestScanner) tooMany() *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many tokens",
		Detail: fmt.Sprintf("The file has more than %d tokens (names, numbers, strings, punctuation) by here; a cluster file needs a few thousand. hactl refuses it: parsing it could exhaust memory.",
			MaxTokens),
		Subject: s.here(),
	}
}

func (s *nestScanner) heredocTooLong() *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Heredoc too long",
		Detail:   fmt.Sprintf("This heredoc has more than %d lines; hactl refuses it: parsing it would take too long. Read long text with file().", MaxHeredocLines),
		Subject:  s.here(),
	}
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
// bytes of string; it stops counting past MaxElements. A number whose
// magnitude needs more than maxNumberBits binary digits counts as too large:
// written as text (a template, a string setting) it would take minutes and
// gigabytes (1e100000000 has a hundred million digits).
func valueSize(v cty.Value) int {
	v, _ = v.UnmarkDeep()
	n := 0
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		e, _ = e.Unmark()
		n++
		if e.IsKnown() && !e.IsNull() && e.Type() == cty.String {
			n += len(e.AsString()) / 256
		}
		if e.IsKnown() && !e.IsNull() && e.Type() == cty.Number && numberTooLarge(e.AsBigFloat()) {
			n = MaxElements + 1
		}
		if n > MaxElements {
			return false, errTooLarge
		}
		return true, nil
	})
	return n
}

// maxNumberBits bounds the magnitude of a number (2^4096, about 1e1233,
// and its reciprocal): far beyond any setting, small enough to print.
const maxNumberBits = 4096

func numberTooLarge(f *big.Float) bool {
	if f.IsInf() || f.Sign() == 0 {
		return false
	}
	exp := f.MantExp(nil)
	return exp > maxNumberBits || exp < -maxNumberBits
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
