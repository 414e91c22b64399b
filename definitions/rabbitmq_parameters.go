package definitions

// RabbitMQ's runtime parameter components: the built-in ones, and those
// plugins register, with the plugin that gives each. Without the plugin
// on the node, RabbitMQ refuses the import (component … not found).
// Exchange types and policy keys that plugins register are in
// rabbitmq_exchanges.go and rabbitmq_policies.go (policyKey.plugin).

// Parameter components warren reads.
const (
	ComponentVhostLimits           = "vhost-limits"    // built in: a vhost's limits
	ComponentOperatorPolicy        = "operator_policy" // built in
	ComponentFederationUpstream    = "federation-upstream"
	ComponentFederationUpstreamSet = "federation-upstream-set"
	ComponentShovel                = "shovel"
)

// pluginComponents are the parameter components that plugins register.
var pluginComponents = map[string]string{
	ComponentFederationUpstream:    "rabbitmq_federation",
	ComponentFederationUpstreamSet: "rabbitmq_federation",
	ComponentShovel:                "rabbitmq_shovel",
}

// uriComponents are the parameter components whose URIKeys RabbitMQ parses
// as AMQP URIs (amqp_uri:parse) when it takes the parameter.
var uriComponents = map[string]bool{ComponentFederationUpstream: true, ComponentShovel: true}

// vhostLimitsName is the one name RabbitMQ gives a vhost's limits
// parameter (component vhost-limits), and vhostLimitNames the limits it
// takes.
const vhostLimitsName = "limits"

var vhostLimitNames = []string{"max-connections", "max-queues"}
