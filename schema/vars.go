package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix is the prefix of environment variables that set variables.
const EnvVarPrefix = "HACTL_VAR_"

func (d *decoder) decodeVariable(b *hcl.Block) {
	name := b.Labels[0]
	v := &variable{Name: name, Type: cty.String, DeclRange: b.DefRange}
	if !hclsyntax.ValidIdentifier(name) {
		rng := b.LabelRanges[0]
		d.add(errorf(&rng, "Invalid variable name", "%q is not a valid name: use letters, digits, '_' and '-', starting with a letter.", name))
	}
	content, diags := b.Body.Content(variableSpec.bodySchema())
	d.addAll(diags)
	if at, ok := content.Attributes["type"]; ok {
		d.setRange(v, "type", at.Expr.Range())
		v.Type = d.decodeType(at.Expr)
	}
	a := &attrs{d: d, own: content.Attributes, where: "a variable block", obj: v}
	a.str("description", &v.Description)
	a.boolean("sensitive", &v.Sensitive)
	v.Default = cty.NilVal
	if at, ok := content.Attributes["default"]; ok {
		d.setRange(v, "default", at.Expr.Range())
		val, ok := d.evalExpr(at.Expr, "a variable's default", nil)
		if ok && !val.IsNull() {
			cv, err := convert.Convert(val, v.Type)
			if err != nil {
				rng := at.Expr.Range()
				d.add(errorf(&rng, "Invalid default value", "The default of variable %q does not match its type %s: %s.", name, typeexpr.TypeString(v.Type), err))
				v.Default = cty.DynamicVal
			} else {
				v.Default = cv
			}
		} else if !ok {
			v.Default = cty.DynamicVal
		}
	}
	d.variables[name] = v
}

func (d *decoder) decodeType(expr hcl.Expression) cty.Type {
	switch hcl.ExprAsKeyword(expr) {
	case "list":
		return cty.List(cty.String)
	case "map":
		return cty.Map(cty.String)
	}
	ty, diags := typeexpr.TypeConstraint(expr)
	d.addAll(diags)
	if diags.HasErrors() {
		return cty.DynamicPseudoType
	}
	return ty
}

// resolveVariables sets every variable's value from, in order of
// precedence: -var flags, -var-file files, HACTL_VAR_ environment, default.
func (d *decoder) resolveVariables() {
	vals := map[string]cty.Value{}
	for name, v := range d.variables {
		if v.Default != cty.NilVal {
			vals[name] = v.Default
		}
	}
	// Environment, sorted for stable diagnostics.
	var envNames []string
	for k := range d.env {
		if strings.HasPrefix(k, EnvVarPrefix) {
			envNames = append(envNames, k)
		}
	}
	sort.Strings(envNames)
	for _, k := range envNames {
		name := strings.TrimPrefix(k, EnvVarPrefix)
		v, ok := d.variables[name]
		if !ok {
			continue // other tools' variables, or other clusters'
		}
		if val, ok := d.parseRawValue(v, d.env[k], "the environment variable "+k); ok {
			vals[name] = val
		}
	}
	for _, path := range d.opts.VarFiles {
		d.readVarFile(path, vals)
	}
	for _, kv := range d.opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			d.add(errorf(nil, "Invalid -var option", "The -var option %q is not of the form NAME=VALUE.", kv))
			continue
		}
		v, declared := d.variables[name]
		if !declared {
			d.add(errorf(nil, "Value for undeclared variable", "-var sets %q, but the cluster file declares no variable %q.%s", name, name, didYouMeanVar(name, d.namesOf(rootVar))))
			continue
		}
		if val, ok := d.parseRawValue(v, raw, "-var "+name); ok {
			vals[name] = val
		}
	}
	d.varVals = map[string]cty.Value{}
	names := d.namesOf(rootVar)
	for _, name := range names {
		v := d.variables[name]
		val, ok := vals[name]
		if !ok && d.opts.AllowUnsetVariables {
			val, ok = cty.UnknownVal(v.Type), true
		}
		if !ok {
			rng := v.DeclRange
			d.add(errorf(&rng, "No value for required variable",
				"Variable %q has no default and no value was given. Set it with -var '%s=...', a -var-file, or the environment variable %s%s.", name, name, EnvVarPrefix, name))
			val = cty.DynamicVal
		}
		if v.Sensitive && val.IsWhollyKnown() {
			_ = cty.Walk(val, func(_ cty.Path, e cty.Value) (bool, error) {
				if e.Type() == cty.String && !e.IsNull() {
					d.sensitive(e.AsString())
				} else if e.Type() == cty.Number && !e.IsNull() {
					d.sensitive(e.AsBigFloat().Text('f', -1))
				}
				return true, nil
			})
			val = val.Mark(sensitiveMark)
		}
		d.varVals[name] = val
		d.changed(rootVar)
	}
	d.recordVariables()
}

func didYouMeanVar(name string, names []string) string {
	if s := suggest(name, names); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// parseRawValue converts a string from -var or the environment: taken
// literally for primitive types, parsed as an HCL expression otherwise.
func (d *decoder) parseRawValue(v *variable, raw, source string) (cty.Value, bool) {
	var val cty.Value
	if v.Type.IsPrimitiveType() || v.Type == cty.DynamicPseudoType {
		val = cty.StringVal(raw)
	} else {
		if diag := checkNesting(source, []byte(raw), hcl.InitialPos); diag != nil {
			d.add(errorf(nil, "Invalid value for variable", "The value of %s for variable %q nests brackets, strings or operators more than %d deep.", source, v.Name, MaxNesting))
			return cty.NilVal, false
		}
		expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
		if diags.HasErrors() {
			d.add(errorf(nil, "Invalid value for variable", "The value of %s for variable %q is not a valid HCL expression: %s", source, v.Name, diags[0].Detail))
			return cty.NilVal, false
		}
		if len(expr.Variables()) > 0 {
			d.add(errorf(nil, "Invalid value for variable", "The value of %s for variable %q must be a constant; it cannot refer to anything.", source, v.Name))
			return cty.NilVal, false
		}
		var vd hcl.Diagnostics
		val, vd = expr.Value(nil)
		if vd.HasErrors() {
			d.add(errorf(nil, "Invalid value for variable", "The value of %s for variable %q: %s", source, v.Name, vd[0].Detail))
			return cty.NilVal, false
		}
	}
	cv, err := convert.Convert(val, v.Type)
	if err != nil {
		d.add(errorf(nil, "Invalid value for variable", "The value of %s does not suit variable %q of type %s: %s.", source, v.Name, typeexpr.TypeString(v.Type), err))
		return cty.NilVal, false
	}
	if bad, what := hasControlChars(cv); bad {
		d.add(errorf(nil, "Invalid value for variable", "The value of %s for variable %q contains %s.", source, v.Name, what))
		return cty.NilVal, false
	}
	return cv, true
}

func (d *decoder) readVarFile(path string, vals map[string]cty.Value) {
	src, err := ReadSource(path, MaxSourceSize)
	if err != nil {
		d.add(errorf(nil, "Cannot read variable file", "%s", err))
		return
	}
	f, diags := parseConfig(src, path, &d.budget)
	if f != nil {
		d.parser.AddFile(path, f)
	}
	d.addAll(diags)
	if diags.HasErrors() || f == nil {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	d.addAll(diags)
	var names []string
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		at := attrs[name]
		v, ok := d.variables[name]
		if !ok {
			rng := at.NameRange
			d.add(warnf(&rng, "Value for undeclared variable", "The cluster file declares no variable %q; this value is ignored.%s", name, didYouMeanVar(name, d.namesOf(rootVar))))
			continue
		}
		val, ok := d.evalExpr(at.Expr, "a variable file", nil)
		if !ok {
			continue
		}
		cv, err := convert.Convert(val, v.Type)
		if err != nil {
			rng := at.Expr.Range()
			d.add(errorf(&rng, "Invalid value for variable", "The value does not suit variable %q of type %s: %s.", name, typeexpr.TypeString(v.Type), err))
			continue
		}
		vals[name] = cv
	}
}

// evaluateLocals evaluates every local in dependency order and reports cycles.
func (d *decoder) evaluateLocals() {
	d.localVals = map[string]cty.Value{}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	reported := map[string]bool{}
	var visit func(name string, stack []string)
	visit = func(name string, stack []string) {
		switch state[name] {
		case done:
			return
		case visiting:
			// A cycle: stack from the first occurrence of name.
			i := len(stack) - 1
			for i >= 0 && stack[i] != name {
				i--
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			if !reported[name] {
				for _, n := range cycle {
					reported[n] = true
				}
				parts := make([]string, len(cycle))
				for j, n := range cycle {
					parts[j] = "local." + n
				}
				rng := d.locals[name].Expr.Range()
				d.add(errorf(&rng, "Cycle in locals", "These locals refer to each other in a cycle: %s.", strings.Join(parts, " → ")))
			}
			return
		}
		state[name] = visiting
		at := d.locals[name]
		for _, tr := range at.Expr.Variables() {
			if tr.RootName() != rootLocal || len(tr) < 2 {
				continue
			}
			if dep, ok := stepName(tr[1]); ok {
				if _, declared := d.locals[dep]; declared {
					visit(dep, append(stack, name))
				}
			}
		}
		state[name] = done
		if reported[name] {
			d.localVals[name] = cty.DynamicVal
			d.changed(rootLocal)
			return
		}
		val, ok := d.evalExpr(at.Expr, "a local value", []string{rootVar, rootLocal})
		if !ok {
			val = cty.DynamicVal
		}
		d.localVals[name] = val
		d.changed(rootLocal)
	}
	for _, name := range d.namesOf(rootLocal) {
		visit(name, nil)
	}
}
