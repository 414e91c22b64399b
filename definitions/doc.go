// Package definitions is warren's model of a broker's definitions: users,
// vhosts, permissions, topic permissions, parameters, policies, queues,
// exchanges and bindings, in RabbitMQ's definitions format, with one table
// of kinds (kinds.go) that every list of kinds reads.
//
// It covers load → validate → diff: Load decodes JSON and YAML files
// (through internal/decode, which rejects duplicate keys and bounds hostile
// input), converts them to the model, checks them against the JSON Schema
// (package schema) and then checks their meaning (Check), reporting every
// problem as a schema.Diagnostic that points at file:line:col. Normalize
// fills the broker's defaults (one table, defaults.go), Trim and Select cut
// an export, Encode writes the canonical form that warren fmt prints. Diff
// compares two documents and returns a Plan of typed steps (plan.go), which
// RenderText, RenderMarkdown and ToJSON show and a SavedPlan (planfile.go)
// records for warren apply PLAN.json.
//
// The package is pure: no network, no clock.
package definitions
