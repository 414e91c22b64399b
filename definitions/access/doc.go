// Package access answers who can do what on a broker whose definitions it
// is given: for a user, an operation (declare, publish, consume, …) and a
// queue or exchange, whether RabbitMQ's internal authorisation allows it,
// and why. It reads permissions, topic permissions, queues and exchanges
// from a definitions.Document, from files or read from a broker, and
// applies RabbitMQ's rules (rabbit_channel and rabbit_auth_backend_internal):
//
//   - a user with no permission entry in a vhost cannot connect to it;
//   - each operation needs configure, write or read on one or more
//     resources (Requirements lists them), the resource's name matched
//     against the permission's pattern, unanchored, as Erlang's re (PCRE);
//   - ” means ^$ (nothing); the default exchange is checked as
//     amq.default;
//   - publishing to, and binding from, a topic exchange also checks the
//     routing key against the user's topic permission on that exchange,
//     when it has one, after expanding {username} and {vhost} in its
//     pattern (permission patterns are not expanded: the broker matches
//     them as written).
//
// Patterns are evaluated with a PCRE-compatible engine (regexp2); a pattern
// it cannot compile, a name or pattern outside ASCII (Erlang's re reads
// bytes, the engine runes) or a match that runs too long gives an Unknown
// verdict, never a guess.
//
// It stands beside load → validate → diff → apply: it reads a Document
// and changes nothing. The package is pure: no network, no clock.
package access
