// Package boot writes what a blank RabbitMQ node imports at its first
// boot: the definitions with every password turned into a salted hash,
// and the rabbitmq.conf fragment that points the node at them (a local
// file, or an https server: the import backends), also as Kubernetes
// objects for the official rabbitmq image, RabbitMQ's cluster operator
// and the Bitnami chart.
//
// It stands beside apply at the end of load → validate → diff → apply,
// for a node that does not run yet: it is offline, never talks to a
// broker, and imports no HTTP client (package rabbitmq, the network
// target, imports it for ImportVhost, the vhost as RabbitMQ's import
// reads it; never the other way).
package boot
