// Package views owns how hactl's operations are shown: the plan, the
// engine's typed events (apply.Event: resources starting, progressing,
// completing and failing, registry steps, health gates), errors and the
// closing summary, either as Terraform-style text (Human) or as the
// machine-readable JSON UI stream, one object a line (JSON), modelled on
// Terraform's internal/command/views. The engines (plan, apply, later drill)
// emit data and write no text; commands choose a view and pass it the data.
//
// The JSON stream opens with a version message; its messages are described
// by docs/json/ui-stream.schema.json and docs/json-output.md. status -json
// and validate -json stay single JSON documents (like terraform validate
// -json), each with a format_version (StatusJSON, ValidateJSON).
package views
