// Package schema holds warren's JSON Schema for definitions files and the
// Diagnostic type that every validation step reports with.
//
// It stands at the start of load → validate → diff → apply: definitions
// decodes a file into plain JSON values, schema.Validate checks their shape
// against definitions.schema.json, and definitions then checks their meaning.
// The schema is embedded in the binary (warren schema prints it) and is
// published for editors.
package schema
