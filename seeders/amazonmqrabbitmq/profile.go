package amazonmqrabbitmq

import (
	"fmt"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// Check reports what the files hold that Amazon MQ does not support on
// any engine version, each at its place in the files (E181): a stream
// ("creating a stream will result in data loss") and an x-local-random
// exchange (unsupported on its RabbitMQ 4 brokers; 3.x has no such type).
func Check(d *definitions.Document) schema.Diagnostics {
	var diags schema.Diagnostics
	for _, q := range d.Queues {
		if definitions.QueueTypeIn(q, "") == "stream" {
			field := "type"
			if t, ok := q.Arguments.Get("x-queue-type").(string); ok && t != "" {
				field = "arguments/x-queue-type"
			}
			diags = append(diags, at(q, field, schema.ETargetUnsupported,
				"queue %q is a stream, which Amazon MQ for RabbitMQ does not support (creating one results in data loss): use a quorum queue", q.Name))
		}
	}
	for _, e := range d.Exchanges {
		if e.Type == "x-local-random" {
			diags = append(diags, at(e, "type", schema.ETargetUnsupported,
				"exchange %q is of type x-local-random, which Amazon MQ for RabbitMQ does not support", e.Name))
		}
	}
	return diags
}

// Broker is what the profile reads of the broker before a plan.
type Broker struct {
	// Version is its RabbitMQ version.
	Version string
	// OperatorPoliciesLocked: the broker answers 405 to every method on
	// /api/operator-policies/{vhost}/{name}
	// (management.restrictions.operator_policy_changes.disabled, which
	// Amazon MQ sets by default).
	OperatorPoliciesLocked bool
}

// CheckBroker reports what the files ask of this broker that it locks:
// an operator policy where operator policies are locked (E180), at its
// place in the files. Amazon MQ's own (OperatorPolicy) is left alone by
// the plan and not reported.
func CheckBroker(d *definitions.Document, b Broker) schema.Diagnostics {
	if !b.OperatorPoliciesLocked {
		return nil
	}
	var diags schema.Diagnostics
	for _, p := range d.Parameters {
		if p.Component != definitions.ComponentOperatorPolicy || Owned(p) != "" {
			continue
		}
		diags = append(diags, at(p, "component", schema.EOperatorPoliciesLocked,
			"operator policy %q on vhost %q: the broker locks operator policies (management.restrictions.operator_policy_changes.disabled; GET /api/operator-policies/{vhost}/{name} answers 405); leave it out of the files, or unlock them in the broker's configuration", p.Name, p.Vhost))
	}
	return diags
}

// at is a diagnostic at field of o's place in the files.
func at(o definitions.Object, field string, code schema.Code, format string, args ...any) schema.Diagnostic {
	loc := definitions.Location(o)
	if loc.Pointer != "" && field != "" {
		loc.Pointer += "/" + field
	}
	return schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: schema.Error, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Limits are the counts an Amazon MQ for RabbitMQ 4 broker refuses to
// pass (cluster_queue_limit, cluster_exchange_limit, vhost_max,
// runtime_parameters.limits.shovel).
type Limits struct {
	Queues, Exchanges, Vhosts, Shovels int
}

// Deployment modes, as Amazon MQ's API names them.
const (
	SingleInstance = "SINGLE_INSTANCE"
	ClusterMultiAZ = "CLUSTER_MULTI_AZ"
)

// defaultLimits are Amazon MQ's default limits of its RabbitMQ 4 brokers
// by host instance type, single instance and cluster (the developer
// guide's rabbitmq-resource-limits-configuration page). Larger types are
// not listed there.
var defaultLimits = map[string][2]Limits{
	"mq.m7g.medium": {{Queues: 500, Exchanges: 500, Vhosts: 10, Shovels: 30}, {Queues: 100, Exchanges: 100, Vhosts: 10, Shovels: 10}},
	"mq.m7g.large":  {{Queues: 1000, Exchanges: 1000, Vhosts: 50, Shovels: 50}, {Queues: 1000, Exchanges: 1000, Vhosts: 50, Shovels: 30}},
	"mq.m7g.xlarge": {{Queues: 2000, Exchanges: 2000, Vhosts: 100, Shovels: 100}, {Queues: 2000, Exchanges: 2000, Vhosts: 100, Shovels: 60}},
}

// InstanceTypes are the host instance types whose default limits are
// known.
func InstanceTypes() []string {
	var out []string
	for t := range defaultLimits {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// LimitsOf are the default limits of a RabbitMQ 4 broker of the host
// instance type and deployment mode ("" is SINGLE_INSTANCE).
func LimitsOf(instanceType, deploymentMode string) (Limits, error) {
	l, ok := defaultLimits[instanceType]
	if !ok {
		return Limits{}, fmt.Errorf("--instance-type %q: warren knows the default limits of %s only", instanceType, strings.Join(InstanceTypes(), ", "))
	}
	switch deploymentMode {
	case "", SingleInstance:
		return l[0], nil
	case ClusterMultiAZ:
		return l[1], nil
	}
	return Limits{}, fmt.Errorf("--deployment-mode %q: use %s or %s", deploymentMode, SingleInstance, ClusterMultiAZ)
}

// CheckLimits reports a kind the files manage of which the broker would
// hold more than l allows during the apply: the live objects and those the
// files add (a plan deletes last, so what --prune removes still counts
// while the new objects are created). Each is reported at the first
// object of the files past the limit (E182), or at the kind's first
// object when the broker is past it already. Built-in exchanges (the
// default exchange and amq.*) are not counted.
func CheckLimits(desired, live *definitions.Document, l Limits) schema.Diagnostics {
	var diags schema.Diagnostics
	check := func(what string, limit int, desired, live []definitions.Object) {
		if desired == nil {
			return
		}
		key := func(o definitions.Object) string { return o.Addr() }
		count := 0
		in := map[string]bool{}
		for _, o := range desired {
			in[key(o)] = true
		}
		for _, o := range live {
			if !in[key(o)] {
				count++
			}
		}
		var past definitions.Object
		for _, o := range desired {
			count++
			if count > limit && past == nil {
				past = o
			}
		}
		if count <= limit {
			return
		}
		if past == nil {
			past = desired[0]
		}
		diags = append(diags, at(past, "", schema.ETargetLimit,
			"the broker would hold %d %s during the apply (deletions come last), past the instance's limit of %d: it would refuse the rest", count, what, limit))
	}
	exchanges := func(d *definitions.Document) []definitions.Object {
		if d.Exchanges == nil {
			return nil
		}
		out := []definitions.Object{}
		for _, e := range d.Exchanges {
			if e.Name != "" && !strings.HasPrefix(e.Name, "amq.") {
				out = append(out, e)
			}
		}
		return out
	}
	shovels := func(d *definitions.Document) []definitions.Object {
		if d.Parameters == nil {
			return nil
		}
		out := []definitions.Object{}
		for _, p := range d.Parameters {
			if p.Component == "shovel" {
				out = append(out, p)
			}
		}
		return out
	}
	check("queues", l.Queues, d2o(desired.Queues), d2o(live.Queues))
	check("exchanges", l.Exchanges, exchanges(desired), exchanges(live))
	check("vhosts", l.Vhosts, d2o(desired.Vhosts), d2o(live.Vhosts))
	check("shovels", l.Shovels, shovels(desired), shovels(live))
	return diags
}

// d2o is s as objects, nil when s is.
func d2o[T definitions.Object](s []T) []definitions.Object {
	if s == nil {
		return nil
	}
	out := make([]definitions.Object, len(s))
	for i, o := range s {
		out[i] = o
	}
	return out
}
