package operation

import (
	"context"
	"fmt"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// AmazonMQ names an Amazon MQ for RabbitMQ broker's size, whose default
// resource limits a plan is checked against (amazonmqrabbitmq.LimitsOf);
// the zero value checks none.
type AmazonMQ struct {
	InstanceType   string // mq.m7g.large
	DeploymentMode string // SINGLE_INSTANCE (""), CLUSTER_MULTI_AZ
}

// amazonMQTarget is Amazon MQ for RabbitMQ: RabbitMQ's target with
// Amazon MQ's rules (its diff options and export filter), and what
// preflight checks against the broker (profileChecker).
type amazonMQTarget struct {
	*rabbitmq.Target
	limits *amazonmqrabbitmq.Limits
}

// profileChecker is a target that checks the files against what its
// broker locks or limits, before anything is planned.
type profileChecker interface {
	CheckProfile(ctx context.Context, desired *definitions.Document) (schema.Diagnostics, error)
}

var _ profileChecker = (*amazonMQTarget)(nil)

// CheckProfile reports the operator policies of the files where the
// broker locks them (it is asked: GET
// /api/operator-policies/{vhost}/{name} answers 405), and, with an
// instance type, the kinds the broker would hold more of than its
// limits allow (read from the broker).
func (t *amazonMQTarget) CheckProfile(ctx context.Context, desired *definitions.Document) (schema.Diagnostics, error) {
	var b amazonmqrabbitmq.Broker
	var err error
	if b.Version, err = t.Version(ctx); err != nil {
		return nil, err
	}
	if desired.Parameters != nil {
		if b.OperatorPoliciesLocked, err = t.Client().OperatorPoliciesLocked(ctx); err != nil {
			return nil, fmt.Errorf("asking whether the broker locks operator policies: %w", err)
		}
	}
	diags := amazonmqrabbitmq.CheckBroker(desired, b)
	if t.limits != nil && strings.HasPrefix(b.Version, "3.") {
		return nil, fmt.Errorf("--instance-type: the broker runs RabbitMQ %s, and Amazon MQ's RabbitMQ 3 brokers have their limits fixed at the maximum; the default limits warren knows are those of RabbitMQ 4", b.Version)
	}
	if t.limits != nil {
		var kinds []definitions.Kind
		for _, k := range []definitions.Kind{definitions.KindQueue, definitions.KindExchange, definitions.KindVhost, definitions.KindParameter} {
			if desired.Has(k) {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) > 0 {
			live, err := t.Read(ctx, kinds)
			if err != nil {
				return nil, err
			}
			diags = append(diags, amazonmqrabbitmq.CheckLimits(desired, live, *t.limits)...)
		}
	}
	desired.Resolve(diags)
	return diags, nil
}

// checkProfile stops diff and apply on what the target's broker locks or
// limits (profileChecker), each error at its place in the files.
func checkProfile(ctx context.Context, ui UI, t any, d Desired) error {
	pc, ok := t.(profileChecker)
	if !ok {
		return nil
	}
	diags, err := pc.CheckProfile(ctx, d.Doc)
	if err != nil {
		return err
	}
	diags = d.remap(diags)
	ui.Diagnostics(diags)
	if errs, _ := diags.Count(); errs > 0 {
		return reported(ui, "%s against the broker; nothing was changed", Plural(errs, "error"))
	}
	return nil
}

// CheckForTarget is definitions.Check with the target's own rules that need
// no broker (Amazon MQ for RabbitMQ: no streams, no x-local-random
// exchanges).
func CheckForTarget(doc *definitions.Document, opts definitions.CheckOptions) schema.Diagnostics {
	diags := definitions.Check(doc, opts)
	if opts.Target == definitions.TargetAmazonMQRabbitMQ {
		extra := amazonmqrabbitmq.Check(doc)
		doc.Resolve(extra)
		diags = append(diags, extra...)
	}
	return diags
}
