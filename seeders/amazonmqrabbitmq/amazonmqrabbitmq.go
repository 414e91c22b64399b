// Package amazonmqrabbitmq is warren's seeder for Amazon MQ for RabbitMQ:
// RabbitMQ's management API (package rabbitmq does the talking) with Amazon
// MQ's rules on top. Validation refuses a guest user and tags other than
// administrator, management and monitoring (definitions.Check with
// TargetAmazonMQRabbitMQ); diff and apply never touch what Amazon MQ owns
// (Owned), and, as for every target, never remove the last administrator,
// whose password Amazon MQ cannot recover.
package amazonmqrabbitmq

import (
	"context"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// SystemUser is the user Amazon MQ creates for its own monitoring, tagged
// protected (which RabbitMQ honours from 4.2 only).
const SystemUser = "monitoring-AWS-OWNED-DO-NOT-DELETE"

// Owned says why a live object belongs to Amazon MQ, or "". Amazon MQ
// creates policies named AWS-DEFAULT-POLICY-* (and, on RabbitMQ 3 clusters,
// ha-all-AWS-OWNED-DO-NOT-DELETE), sets vhost limits on the default vhost
// /, and has its system user (SystemUser) with its permissions. They are
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
		if strings.HasPrefix(o.Name, "AWS-DEFAULT-") || strings.Contains(o.Name, "AWS-OWNED") {
			return "owned by Amazon MQ (its default policies are left alone)"
		}
	case *definitions.Parameter:
		if o.Component == "vhost-limits" && o.Vhost == "/" {
			return "owned by Amazon MQ (it sets the limits of the default vhost /)"
		}
	}
	return ""
}

// DiffOptions are the diff options the target adds.
func DiffOptions() []plan.DiffOption {
	return []plan.DiffOption{plan.WithOwned(Owned)}
}

// DropOwned removes what Amazon MQ owns from an export.
func DropOwned(d *definitions.Document) {
	d.Policies = slices.DeleteFunc(d.Policies, func(p *definitions.Policy) bool { return Owned(p) != "" })
	d.Parameters = slices.DeleteFunc(d.Parameters, func(p *definitions.Parameter) bool { return Owned(p) != "" })
}

// Target is Amazon MQ for RabbitMQ: RabbitMQ's target with Amazon MQ's
// diff options, and exports without what Amazon MQ owns.
type Target struct{ *rabbitmq.Target }

var (
	_ seeders.Target   = (*Target)(nil)
	_ seeders.Exporter = (*Target)(nil)
)

// New makes the target from a management API client.
func New(c *rabbitmq.Client) *Target {
	return &Target{rabbitmq.NewTarget(c, definitions.TargetAmazonMQRabbitMQ, DiffOptions()...)}
}

// Export is the broker's definitions without what Amazon MQ owns.
func (t *Target) Export(ctx context.Context) (*definitions.Document, error) {
	doc, err := t.Read(ctx, nil)
	if err != nil {
		return nil, err
	}
	DropOwned(doc)
	return doc, nil
}
