// Package definitions is warren's model of a broker's definitions: users,
// vhosts, permissions, topic permissions, parameters, policies, queues,
// exchanges and bindings, in RabbitMQ's definitions format.
//
// It covers the first half of load → validate → diff → apply: Load decodes
// JSON and YAML files (rejecting duplicate keys and bounding hostile input),
// checks them against the JSON Schema (package schema) and then checks their
// meaning (Check), reporting every problem as a schema.Diagnostic that points
// at file:line:col. Encode writes the canonical form that warren fmt prints.
//
// The package is pure: no network, no clock.
package definitions
