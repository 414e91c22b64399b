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
// others come from plugins (pluginExchangeTypes), x-local-random from 4.0
// (RuleLocalRandom).
var exchangeTypes = []string{"direct", "fanout", "topic", "headers"}

// pluginExchangeTypes are exchange types that plugins register; RabbitMQ
// refuses an exchange of a type no plugin on the node registers (unknown
// exchange type).
var pluginExchangeTypes = map[string]string{
	"x-consistent-hash":     "rabbitmq_consistent_hash_exchange",
	"x-random":              "rabbitmq_random_exchange",
	"x-modulus-hash":        "rabbitmq_sharding",
	"x-recent-history":      "rabbitmq_recent_history_exchange",
	"x-jms-topic":           "rabbitmq_jms_topic_exchange",
	"x-delayed-message":     "rabbitmq_delayed_message_exchange",
	"x-federation-upstream": "rabbitmq_federation",
}
