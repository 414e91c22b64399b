// Package amazonmqrabbitmq holds Amazon MQ for RabbitMQ's facts: what
// Amazon MQ owns on a broker (Owned, SystemUser), the diff options that
// leave it alone (DiffOptions), and the export filter that drops it
// (DropOwned). The broker is RabbitMQ, reached through its management API:
// the target is package rabbitmq's, composed where targets are opened
// (rabbitmq.NewTarget with rabbitmq.WithDiffOptions(DiffOptions()...) and
// rabbitmq.WithExportFilter(DropOwned)). This package talks to nothing and
// imports no other target's package.
//
// Validation refuses a guest user and tags other than administrator,
// management and monitoring (definitions.Check with
// TargetAmazonMQRabbitMQ), and streams and x-local-random exchanges
// (Check); diff and apply never touch what Amazon MQ owns (Owned), and,
// as for every target, never remove the last administrator, whose
// password Amazon MQ cannot recover. Before a plan, what the broker says
// of itself decides the rest: operator policies where it locks them
// (CheckBroker), counts past an instance type's limits on RabbitMQ 4
// (LimitsOf, CheckLimits); where targets are opened, these run against
// the broker. A queue the files give no type is compared with the node's
// default type as for every RabbitMQ target (quorum on Amazon MQ 4.x).
package amazonmqrabbitmq

import (
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/migrate"
	"github.com/warren-tool/warren/definitions/plan"
)

// SystemUser is the user Amazon MQ creates for its own monitoring, tagged
// protected (which RabbitMQ honours from 4.2 only).
const SystemUser = "monitoring-AWS-OWNED-DO-NOT-DELETE"

// OperatorPolicy is the operator policy Amazon MQ keeps in every vhost
// (pattern .*, apply-to classic_queues; queue-version 2 on 4.x, with
// ha-mode and ha-sync-mode on 3.x).
const OperatorPolicy = "default_operator_policy_AWS_managed"

// DefaultPolicyPriority is the highest priority of Amazon MQ's default
// policies (1 on clusters, 0 on a single instance): a policy of the
// files needs more to apply instead.
const DefaultPolicyPriority = 1

// Owned says why a live object belongs to Amazon MQ, or "". Amazon MQ
// creates policies named AWS-DEFAULT-* (and, on RabbitMQ 3 clusters,
// ha-all-AWS-OWNED-DO-NOT-DELETE), the operator policy OperatorPolicy in
// every vhost, sets vhost limits on the default vhost /, and has its
// system user (SystemUser) with its permissions. They are
// neither drift nor pruned, and the files cannot change them, nor create
// them where they are missing.
func Owned(o definitions.Object) string {
	const system = "owned by Amazon MQ (its system user, protected, is left alone, on every RabbitMQ version)"
	switch o := o.(type) {
	case *definitions.User:
		if o.Name == SystemUser {
			return system
		}
	case *definitions.Permission:
		if o.User == SystemUser {
			return system
		}
	case *definitions.TopicPermission:
		if o.User == SystemUser {
			return system
		}
	case *definitions.Policy:
		// warren migrate's federation policies are named after the policy
		// they shadow (warren-migrate.NAME) and are warren's.
		if (strings.HasPrefix(o.Name, "AWS-DEFAULT-") || strings.Contains(o.Name, "AWS-OWNED")) && !strings.HasPrefix(o.Name, migrate.PolicyPrefix) {
			return "owned by Amazon MQ (its default policies are left alone)"
		}
	case *definitions.Parameter:
		if o.Component == "vhost-limits" && o.Vhost == "/" {
			return "owned by Amazon MQ (it sets the limits of the default vhost /)"
		}
		if o.Component == definitions.ComponentOperatorPolicy && o.Name == OperatorPolicy {
			return "owned by Amazon MQ (its operator policy in every vhost is left alone)"
		}
	}
	return ""
}

// DiffOptions are the diff options the target adds.
func DiffOptions() []plan.DiffOption {
	return []plan.DiffOption{plan.WithOwned(Owned)}
}

// DropOwned removes what Amazon MQ owns from an export: its policies, its
// operator policies and the default vhost's limits (an export filter).
func DropOwned(d *definitions.Document) {
	d.Policies = slices.DeleteFunc(d.Policies, func(p *definitions.Policy) bool { return Owned(p) != "" })
	d.Parameters = slices.DeleteFunc(d.Parameters, func(p *definitions.Parameter) bool { return Owned(p) != "" })
}
