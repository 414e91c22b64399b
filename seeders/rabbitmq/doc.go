// Package rabbitmq is warren's seeder for RabbitMQ: a narrow client for
// the management HTTP API (client.go); Read, ReadWhole and ReadKinds, a
// live broker into a definitions.Document (read.go), its answers decoded
// as they arrive (livedecode.go); Apply, which switches on each
// change's plan.Step (apply.go), and the deleters it runs (delete.go);
// the advisory apply lock (lock.go); and Target, the seeders.Target cmd
// drives. A platform that is RabbitMQ with rules of its own (Amazon MQ
// for RabbitMQ) is this Target with options (WithDiffOptions,
// WithExportFilter), given where targets are opened.
//
// It stands at the broker end of load → validate → diff → apply: it never
// decides what to change, only reads and carries out. It imports
// seeders/internal/httpapi for the HTTP plumbing every target shares, and
// seeders/rabbitmq/boot (offline: what a blank node imports at boot) for
// the vhost as RabbitMQ's import reads it; no other target's package.
package rabbitmq
