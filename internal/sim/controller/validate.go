package controller

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/hactl/hactl/internal/dbgpt"
)

// fieldError is one item of FastAPI's 422 "detail" list (pydantic v2 shape).
type fieldError struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

type kind int

const (
	kStr kind = iota
	kOptStr
	kInt
	kOptFloat
	kOptBool
	kOptDatetime
)

type field struct {
	name     string
	kind     kind
	required bool
}

// The ModelInstance dataclass, in declaration order.
var instanceFields = []field{
	{"model_name", kStr, true}, {"host", kStr, true}, {"port", kInt, true},
	{"weight", kOptFloat, false}, {"check_healthy", kOptBool, false}, {"healthy", kOptBool, false},
	{"enabled", kOptBool, false}, {"prompt_template", kOptStr, false}, {"last_heartbeat", kOptDatetime, false},
	{"remove_from_registry", kOptBool, false},
}

// decodeInstance validates a request body the way pydantic (lax mode) does
// for ModelInstance and returns the instance or the error list.
func decodeInstance(body []byte) (dbgpt.Instance, []fieldError) {
	inst := dbgpt.Instance{Weight: 1.0, CheckHealthy: true, Enabled: true}
	if len(bytes.TrimSpace(body)) == 0 {
		return inst, []fieldError{{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil}}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil || dec.More() {
		pos := int(dec.InputOffset())
		if se, ok := err.(*json.SyntaxError); ok && se.Offset > 0 {
			pos = int(se.Offset) - 1 // Python counts the offending character from 0
		}
		return inst, []fieldError{{Type: "json_invalid", Loc: []any{"body", pos}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": "Expecting value"}}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return inst, []fieldError{{Type: "dataclass_type", Loc: []any{"body"},
			Msg: "Input should be a dictionary or an instance of ModelInstance", Input: raw,
			Ctx: map[string]any{"class_name": "ModelInstance"}}}
	}
	var errs []fieldError
	for _, f := range instanceFields {
		v, present := obj[f.name]
		loc := []any{"body", f.name}
		if !present {
			if f.required {
				errs = append(errs, fieldError{Type: "missing", Loc: loc, Msg: "Field required", Input: obj})
			}
			continue
		}
		val, fe := convert(f.kind, v)
		if fe != nil {
			fe.Loc = loc
			errs = append(errs, *fe)
			continue
		}
		assign(&inst, f.name, val)
	}
	return inst, errs
}

func assign(inst *dbgpt.Instance, name string, val any) {
	switch name {
	case "model_name":
		inst.ModelName = val.(string)
	case "host":
		inst.Host = val.(string)
	case "port":
		inst.Port = val.(int)
	case "weight":
		if val != nil {
			inst.Weight = val.(float64)
		}
	case "check_healthy", "healthy", "enabled", "remove_from_registry":
		b := false
		if val != nil {
			b = val.(bool)
		}
		switch name {
		case "check_healthy":
			inst.CheckHealthy = b
		case "healthy":
			inst.Healthy = b
		case "enabled":
			inst.Enabled = b
		default:
			inst.RemoveFromRegistry = b
		}
	case "prompt_template":
		if val != nil {
			s := val.(string)
			inst.PromptTemplate = &s
		}
	case "last_heartbeat":
		if val != nil {
			t := val.(dbgpt.Time)
			inst.LastHeartbeat = &t
		}
	}
}

// convert applies pydantic's lax-mode rules for one JSON value (or one query
// string, which arrives as a Go string).
func convert(k kind, v any) (any, *fieldError) {
	if v == nil {
		switch k {
		case kStr:
			return nil, &fieldError{Type: "string_type", Msg: "Input should be a valid string", Input: nil}
		case kInt:
			return nil, &fieldError{Type: "int_type", Msg: "Input should be a valid integer", Input: nil}
		}
		return nil, nil
	}
	switch k {
	case kStr, kOptStr:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, &fieldError{Type: "string_type", Msg: "Input should be a valid string", Input: v}
	case kInt:
		switch x := v.(type) {
		case json.Number:
			if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return int(i), nil
			}
			f, err := x.Float64()
			if err == nil && f == math.Trunc(f) {
				return int(f), nil
			}
			return nil, &fieldError{Type: "int_from_float", Msg: "Input should be a valid integer, got a number with a fractional part", Input: num(x)}
		case string:
			if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return int(i), nil
			}
			return nil, &fieldError{Type: "int_parsing", Msg: "Input should be a valid integer, unable to parse string as an integer", Input: x}
		}
		return nil, &fieldError{Type: "int_type", Msg: "Input should be a valid integer", Input: v}
	case kOptFloat:
		switch x := v.(type) {
		case json.Number:
			f, _ := x.Float64()
			return f, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
			return nil, &fieldError{Type: "float_parsing", Msg: "Input should be a valid number, unable to parse string as a number", Input: x}
		}
		return nil, &fieldError{Type: "float_type", Msg: "Input should be a valid number", Input: v}
	case kOptBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case json.Number:
			switch string(x) {
			case "0", "0.0":
				return false, nil
			case "1", "1.0":
				return true, nil
			}
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "0", "off", "f", "false", "n", "no":
				return false, nil
			case "1", "on", "t", "true", "y", "yes":
				return true, nil
			}
		}
		if n, ok := v.(json.Number); ok {
			v = num(n)
		}
		return nil, &fieldError{Type: "bool_parsing", Msg: "Input should be a valid boolean, unable to interpret input", Input: v}
	case kOptDatetime:
		switch x := v.(type) {
		case string:
			if t, err := dbgpt.ParseTime(x); err == nil {
				return dbgpt.Time{Time: t}, nil
			}
			return nil, &fieldError{Type: "datetime_from_date_parsing", Msg: "Input should be a valid datetime or date, invalid character in year",
				Input: x, Ctx: map[string]any{"error": "invalid character in year"}}
		}
		return nil, &fieldError{Type: "datetime_type", Msg: "Input should be a valid datetime", Input: v}
	}
	return nil, nil
}

func num(n json.Number) any {
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}

// query reads one query parameter of the given kind. Repeated parameters:
// FastAPI takes the last.
func query(q url.Values, name string, k kind, required bool, errs *[]fieldError) (any, bool) {
	vs, ok := q[name]
	if !ok || len(vs) == 0 {
		if required {
			*errs = append(*errs, fieldError{Type: "missing", Loc: []any{"query", name}, Msg: "Field required", Input: nil})
		}
		return nil, false
	}
	v, fe := convert(k, vs[len(vs)-1])
	if fe != nil {
		fe.Loc = []any{"query", name}
		*errs = append(*errs, *fe)
		return nil, false
	}
	return v, true
}
