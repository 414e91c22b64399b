// Package rabbitmq is warren's seeder for RabbitMQ (self-run, Amazon MQ for
// RabbitMQ, and any broker with the management plugin): a narrow client for
// the management HTTP API, Export (read a live broker into a
// definitions.Document), and, with the apply issue, Apply.
//
// It stands at the broker end of load → validate → diff → apply: it never
// decides what to change, only reads and carries out.
package rabbitmq
