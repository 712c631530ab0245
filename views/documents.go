package views

import (
	"encoding/json"
	"io"

	"github.com/hactl/hactl/internal/status"
	"github.com/hactl/hactl/schema"
)

// status -json and validate -json print one JSON document each, not a
// stream: a script reads them whole, as it reads terraform validate -json.
// Each carries a format_version instead of a version message.

// StatusJSON writes hactl status -json (docs/json/status.schema.json).
func StatusJSON(w io.Writer, r *status.Report) error {
	return r.WriteJSON(w)
}

// ValidateJSON writes hactl validate -json (docs/json/validate.schema.json).
func ValidateJSON(w io.Writer, res schema.ValidationResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
