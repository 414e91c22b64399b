// Package seeders holds Target, the interface every broker target
// implements, and one package per target (rabbitmq, amazonmqrabbitmq,
// amazonmqactivemq, huaweicloud). A target reads a live broker into a
// definitions.Document (the kinds asked for), gives the diff options its
// rules need, and carries out a plan.Plan (apply), through a narrow
// client for that broker's API; optional interfaces (Locker, Versioned,
// Noter, Finisher, Exporter) add what only some targets have.
//
// They stand at the end of load → validate → diff → apply: package plan
// decides what should change; a target only talks to the broker.
//
// The arrows, all pointing down (TestNoTargetImportsAnother and
// TestBootIsOffline check them):
//
//	cmd/warren (opens targets: composes a platform's rules with the target that talks to it)
//	  → seeders/rabbitmq, seeders/huaweicloud, seeders/amazonmqactivemq   (network: each its own API client)
//	  → seeders/amazonmqrabbitmq   (Amazon MQ for RabbitMQ's facts: Owned, DiffOptions, DropOwned, Check, CheckBroker, CheckLimits; no client)
//	  → seeders/rabbitmq/boot      (what a blank node imports at boot: offline, no HTTP client)
//	seeders/rabbitmq → seeders/rabbitmq/boot (ImportVhost)
//	every network target → seeders/internal/httpapi (retry loop, redirects, Printable, masked secrets)
//	every target → seeders (Target), definitions/plan, definitions
//
// No target imports another target's package (a target's package is
// seeders/NAME and everything under it); what targets share lives in
// seeders or seeders/internal, which no target owns. Amazon MQ for
// RabbitMQ is RabbitMQ's target with options: rabbitmq.NewTarget(client,
// name, rabbitmq.WithDiffOptions(amazonmqrabbitmq.DiffOptions()...),
// rabbitmq.WithExportFilter(amazonmqrabbitmq.DropOwned)). Adding a target
// is one package here and one case where targets are opened.
package seeders
