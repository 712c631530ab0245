package schema

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// VariableValue is one declared variable with the value the file was
// loaded with. The value itself is not exported: a saved plan compares
// values through Digest, and a sensitive one must never be shown.
type VariableValue struct {
	Name      string
	Sensitive bool
	value     cty.Value
}

// Variables returns every declared variable, sorted by name.
func (c *Cluster) Variables() []VariableValue {
	return append([]VariableValue(nil), c.variables...)
}

// Digest returns a salted sha256 of the variable's name and value, or ""
// when the value is unknown (a variable left unset under
// AllowUnsetVariables). The salt keeps equal values of two files or two
// plans from showing as equal digests.
func (v VariableValue) Digest(salt string) string {
	val, _ := v.value.UnmarkDeep()
	if val == cty.NilVal || !val.IsWhollyKnown() {
		return ""
	}
	b, err := ctyjson.Marshal(val, val.Type())
	if err != nil {
		return ""
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(salt), {0}, []byte(v.Name), {0}, b} {
		h.Write(part)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// recordVariables keeps the resolved values on the cluster (called once the
// values are resolved).
func (d *decoder) recordVariables() {
	d.cluster.variables = nil
	for _, name := range d.namesOf(rootVar) {
		d.cluster.variables = append(d.cluster.variables, VariableValue{
			Name: name, Sensitive: d.variables[name].Sensitive, value: d.varVals[name],
		})
	}
}
