// Package rabbitmq is warren's seeder for RabbitMQ (self-run, and, through
// package amazonmqrabbitmq, Amazon MQ for RabbitMQ): a narrow client for
// the management HTTP API; Read and ReadKinds (a live broker into a
// definitions.Document); Apply, which switches on each change's
// plan.Step; Boot; the advisory apply lock; and Target, the
// seeders.Target cmd drives.
//
// It stands at the broker end of load → validate → diff → apply: it never
// decides what to change, only reads and carries out.
package rabbitmq
