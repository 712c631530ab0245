package schema

import (
	"bytes"

	"github.com/aymanbagabas/go-udiff"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout (hclwrite.Format). A file with
// syntax errors is not formatted: its diagnostics are returned instead, since
// formatting broken input can change its meaning.
func Format(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	_, diags := parseConfig(src, filename, nil)
	if diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}

// UnifiedDiff returns a unified diff (3 lines of context) turning a into b,
// with nameA and nameB on its --- and +++ lines, or "" when they are equal.
func UnifiedDiff(nameA, nameB string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	return udiff.Unified(nameA, nameB, string(a), string(b))
}
