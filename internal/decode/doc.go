// Package decode reads JSON and YAML into plain values (map[string]any,
// []any, string, json.Number, bool, nil) keeping what positions need:
// it refuses duplicate keys, YAML tags JSON has no type for and YAML alias
// bombs, bounds nesting, reports errors at a byte offset or a line and
// column, and finds the line:col of JSON pointers afterwards (only when
// there is something to report). It knows nothing of the definitions
// model: package definitions loads files through it.
package decode
