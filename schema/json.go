package schema

import "github.com/hashicorp/hcl/v2"

// ValidationFormatVersion is the version of validate -json's document
// format (docs/json/validate.schema.json), like terraform validate -json's
// format_version.
const ValidationFormatVersion = "1.0"

// ValidationResult is the JSON form of a validation (hactl validate -json).
type ValidationResult struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []DiagnosticJSON `json:"diagnostics"`
}

// DiagnosticJSON is one diagnostic with its source range.
type DiagnosticJSON struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *RangeJSON `json:"range,omitempty"`
}

// RangeJSON is a source range; lines and columns start at 1.
type RangeJSON struct {
	Filename string  `json:"filename"`
	Start    PosJSON `json:"start"`
	End      PosJSON `json:"end"`
}

// PosJSON is a position in a file.
type PosJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// DiagnosticsJSON converts diagnostics to their JSON form.
func DiagnosticsJSON(diags hcl.Diagnostics) ValidationResult {
	res := ValidationResult{FormatVersion: ValidationFormatVersion, Diagnostics: []DiagnosticJSON{}}
	for _, d := range diags {
		j := DiagnosticJSON{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
			res.WarningCount++
		} else {
			res.ErrorCount++
		}
		if d.Subject != nil {
			r := d.Subject
			j.Range = &RangeJSON{
				Filename: r.Filename,
				Start:    PosJSON{r.Start.Line, r.Start.Column, r.Start.Byte},
				End:      PosJSON{r.End.Line, r.End.Column, r.End.Byte},
			}
		}
		res.Diagnostics = append(res.Diagnostics, j)
	}
	res.Valid = res.ErrorCount == 0
	return res
}
