// Package topology holds the RabbitMQ Messaging Topology Operator's custom
// resources (Vhost, User, Permission, …, SuperStream) and the v1 Secrets they
// reference, as Go types, and a strict validator for multi-document YAML
// streams of them.
//
// It stands beside load: package definitions detects a file of resources,
// runs Decode and Check here, and builds its model from the typed resources,
// placing later diagnostics with Resource.Pos. It also writes resources from
// the model (Encode). The package knows nothing of the definitions model: it
// imports only schema and yaml.v3.
//
// The shapes follow the operator's CRDs and webhooks (rabbitmq.com/v1beta1,
// SuperStream rabbitmq.com/v1alpha1): required fields, enums, exactly-one
// rules, Secret references and their keys.
package topology
