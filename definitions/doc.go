// Package definitions is warren's model of a broker's definitions: users,
// vhosts, permissions, topic permissions, parameters, policies, queues,
// exchanges and bindings, in RabbitMQ's definitions format, with one table
// of kinds (kinds.go) that every list of kinds reads.
//
// It is the load → validate part of load → validate → diff → apply: Load
// decodes JSON and YAML files (through internal/decode, which rejects
// duplicate keys and bounds hostile input), converts them to the model,
// checks them against the JSON Schema (package schema) and then checks
// their meaning (Check), reporting every problem as a schema.Diagnostic
// that points at file:line:col. Normalize fills the broker's defaults (one
// table, defaults.go), Trim and Select cut an export, Encode writes the
// canonical form that warren fmt prints, Digest identifies a document's
// content. Diff and the Plan it returns live in definitions/plan, the views
// of a plan in definitions/render; both read the model through small
// helpers here (FieldsOf, OneLine, PrettyJSON, CanonicalJSON, InfoOf).
//
// What warren knows about RabbitMQ itself lives in the rabbitmq_*.go
// files, one table per noun, which Check, Normalize, Trim and
// definitions/migrate read: queue types, the arguments each takes and the
// one classic-to-quorum conversion (rabbitmq_queues.go); policy keys,
// what they apply to and the classic mirroring keys (rabbitmq_policies.go);
// exchange types, built in and from plugins (rabbitmq_exchanges.go);
// parameter components and the plugins that register them
// (rabbitmq_parameters.go); user tags and password hashes
// (rabbitmq_users.go); and what changes between versions, with the one
// version comparator, CompareVersions (rabbitmq_versions.go).
//
// The package is pure: no network, no clock (TestPureImports). It reads
// the files Load is given; a secret's {env} or {file} is read by
// internal/secret, which ResolveSecret (the default Resolve of Check and
// of Diff) calls.
package definitions
