// Package access answers who can do what on a broker whose definitions it
// is given: for a user, an operation (declare, publish, consume, …) and a
// queue or exchange, whether RabbitMQ's internal authorisation allows it,
// and why. It reads permissions, topic permissions, queues and exchanges
// from a definitions.Document, from files or read from a broker, and
// applies RabbitMQ's rules (rabbit_channel and rabbit_auth_backend_internal):
//
//   - a user with no permission entry in a vhost cannot connect to it;
//   - declare and delete need configure on the resource; publishing to an
//     exchange and binding to a queue or exchange need write; consuming,
//     getting, purging and binding from an exchange need read: the
//     resource's name matched against the permission's pattern,
//     unanchored, as Erlang's re (PCRE);
//   - ” means ^$ (nothing); the default exchange is checked as
//     amq.default;
//   - publishing to, and binding from, a topic exchange also checks the
//     routing key against the user's topic permission on that exchange,
//     when it has one, after expanding {username} and {vhost} in its
//     pattern (permission patterns are not expanded: the broker matches
//     them as written); on RabbitMQ 4.3 the names go in with their
//     metacharacters escaped, up to 4.0 as text (Options.Version); an
//     empty topic pattern is ^$, as other empty patterns;
//   - the default exchange cannot be declared, deleted or bound, built-in
//     exchanges cannot be deleted, internal exchanges cannot be published
//     to (amq.rabbitmq.trace is), a declare that creates an exchange
//     named amq.* is refused, and so is any declare of a queue named
//     amq.* (the broker checks the name first).
//
// Every rule was checked against real nodes (3.10.8, 4.0.5, 4.3.6) by a
// test that has an AMQP client try each operation (cmd/warren,
// TestAccessAgreesWithBroker). Audit reports least-privilege findings;
// Compare lists the access changes between two sets of definitions.
//
// Patterns are evaluated with a PCRE-compatible engine (regexp2), after
// rewriting what it reads differently (POSIX classes, [ in a class); a pattern
// it cannot compile, a name or pattern outside ASCII (Erlang's re reads
// bytes, the engine runes) or a match that runs too long gives an Unknown
// verdict, never a guess.
//
// It stands beside load → validate → diff → apply: it reads a Document
// and changes nothing. The package is pure: no network, no clock.
package access
