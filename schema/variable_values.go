package schema

import (
	"crypto/pbkdf2"
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

// Digest returns a PBKDF2-SHA256 digest of the variable's value, salted
// with salt and the variable's name, or "" when the value is unknown (a
// variable left unset under AllowUnsetVariables). The iterations make a
// digest of a sensitive value no quick way to test guesses (as the settings
// hashes of package plan); the salt keeps equal values in two plans from
// showing as equal digests.
func (v VariableValue) Digest(salt string) string {
	val, _ := v.value.UnmarkDeep()
	if val == cty.NilVal || !val.IsWhollyKnown() {
		return ""
	}
	b, err := ctyjson.Marshal(val, val.Type())
	if err != nil {
		return ""
	}
	dk, err := pbkdf2.Key(sha256.New, string(b), []byte("hactl-variable-v1|"+salt+"|"+v.Name), digestIterations, 32)
	if err != nil {
		return "" // only for an invalid key length
	}
	return "pbkdf2-sha256:" + hex.EncodeToString(dk)
}

const digestIterations = 20000

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
