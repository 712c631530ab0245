// Package jsonschematest checks hactl's JSON output against the JSON
// Schemas in docs/json (JSON Schema 2020-12, with formats asserted). Only
// tests use it: the schemas are documentation, read from the source tree.
package jsonschematest
