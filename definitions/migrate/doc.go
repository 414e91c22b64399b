// Package migrate turns an old RabbitMQ 3.x cluster's definitions into a
// new 4.x cluster's, for a blue-green upgrade: mirrored classic queues
// become quorum queues (their arguments converted by
// definitions.QuorumArguments, as warren export's
// prepare_for_quorum_queue_migration converts them), policies lose the keys the new version refuses,
// vhosts whose durable queues were all mirrored default to quorum, users
// keep their password hashes, and a queue federation (an upstream per
// vhost pointing at the old cluster, credentials by reference, and
// policies naming the migrated queues) drains the old queues into the new
// ones. Every change is listed with its reason; what cannot be turned
// into something the new version takes without changing what the queue
// does is a Problem, and then nothing should be applied.
//
// It stands before diff in load → validate → diff → apply: its result is
// an ordinary definitions document that warren diffs and applies like any
// file. Pure: no network, no clock. What it knows of RabbitMQ (which
// arguments and policy keys each version and queue type takes) it reads
// from definitions' rabbitmq_*.go tables.
package migrate
