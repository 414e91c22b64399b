// Package render shows a plan (package plan) to people and programs,
// between diff and apply in load → validate → diff → apply: RenderText for
// terminals (colors optional), RenderMarkdown for a pull-request comment,
// Summary for one line, and ToJSON for warren diff --format json and the
// plan a saved plan records.
//
// Rendering is separate from diffing and deterministic: the same plan
// always prints the same way, sorted, without timestamps. No secret is ever
// printed: password changes show as (sensitive), credentials in parameter
// URIs are masked. Values print through definitions.OneLine and
// definitions.PrettyJSON, numbers exactly as written.
package render
