package definitions

// What RabbitMQ's plugins register: runtime parameter components and
// exchange types, each with the plugin that gives it. Without the plugin
// on the node, RabbitMQ refuses the import. Policy keys that plugins
// register are in rabbitmq_policies.go (policyKey.plugin).

// pluginComponents are the parameter components that plugins register.
var pluginComponents = map[string]string{
	"federation-upstream":     "rabbitmq_federation",
	"federation-upstream-set": "rabbitmq_federation",
	"shovel":                  "rabbitmq_shovel",
}

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

// uriComponents are the parameter components whose URIKeys RabbitMQ parses
// as AMQP URIs (amqp_uri:parse) when it takes the parameter.
var uriComponents = map[string]bool{"federation-upstream": true, "shovel": true}
