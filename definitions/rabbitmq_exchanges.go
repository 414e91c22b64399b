package definitions

import "slices"

// RabbitMQ's exchanges: the types built in, the ones plugins register, and
// the exchanges every vhost has.

// builtinExchanges are the exchanges every vhost has.
var builtinExchanges = []string{"", "amq.default", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match", "amq.rabbitmq.trace"}

// builtinExchange reports whether every vhost has the exchange. The log
// exchange (amq.rabbitmq.log) is not among them: it exists only when
// enabled, and RabbitMQ drops bindings to it silently otherwise.
func builtinExchange(name string) bool { return slices.Contains(builtinExchanges, name) }

// exchangeTypes are the exchange types built into every version; the
// others come from plugins (rabbitmq_plugins.go), x-local-random from 4.0
// (RuleLocalRandom).
var exchangeTypes = []string{"direct", "fanout", "topic", "headers"}
