package huaweicloud

import (
	"context"
	"fmt"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// Target is Huawei Cloud DMS for RabbitMQ as a seeders.Target: users
// (access key, secret key) with their permissions on the AMQP-0-9-1
// edition, vhosts by name, and exchanges, queues and bindings.
type Target struct{ c *Client }

var (
	_ seeders.Target = (*Target)(nil)
	_ seeders.Noter  = (*Target)(nil)
)

// NewTarget makes the target from a client.
func NewTarget(c *Client) *Target { return &Target{c: c} }

func (t *Target) Name() definitions.TargetName { return definitions.TargetHuaweiCloudRabbitMQ }

// Identity is the endpoint, the project and the instance; warren acts with
// the project's credentials, not as a broker user.
func (t *Target) Identity(context.Context) (plan.BrokerID, error) {
	return plan.BrokerID{URLs: []string{t.c.base.String()},
		Cluster: map[string]string{"project_id": t.c.cfg.ProjectID, "instance_id": t.c.cfg.InstanceID}}, nil
}

// Read reads the instance's vhosts, and of the kinds asked for (nil: every
// kind DMS has) its users and permissions (AMQP-0-9-1 edition),
// exchanges, queues and bindings.
func (t *Target) Read(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	return t.c.ReadKinds(ctx, kinds)
}

// DiffOptions compare as DMS holds things (see DiffOptions).
func (t *Target) DiffOptions(_ context.Context, opts plan.Options) []plan.DiffOption {
	return DiffOptions(opts.UpdatePasswords, t.c.cfg.Edition)
}

// DiffOptions: a user is its access key and secret key, which DMS never
// returns (set on creation, and on update only with updatePasswords, then
// every time); a vhost is its name; a user is written whole; the vhost
// made with the instance (FirstVhost of the edition) is never pruned.
// Exchanges, queues and bindings compare as RabbitMQ's do: a change of an
// exchange or a queue is a replacement, which DMS makes as a deletion and
// a creation.
func DiffOptions(updatePasswords bool, edition string) []plan.DiffOption {
	first := FirstVhost(edition)
	undeletable := func(o definitions.Object) string {
		if v, ok := o.(*definitions.Vhost); ok && v.Name == first {
			return fmt.Sprintf("made with the DMS instance (its first vhost on the %s edition), which DMS refuses to delete: left alone", editionName(edition))
		}
		return ""
	}
	return []plan.DiffOption{plan.WithUsersWrittenWhole(), plan.WithUndeletable(undeletable), plan.WithCompare(func(d, _ definitions.Object) (plan.Fields, bool) {
		switch d := d.(type) {
		case *definitions.User:
			if updatePasswords && d.Password != nil {
				return plan.Fields{{Field: "password", Sensitive: true}}, true
			}
			return nil, true
		case *definitions.Vhost:
			return nil, true // DMS vhosts are names
		}
		return nil, false
	})}
}

// FirstVhost is the vhost DMS makes with an instance of the edition and
// refuses to delete: "default" on the AMQP-0-9-1 edition ("" too), "/" on
// the 3.x edition (docs/cloud-apis.md §3.3, §6.5).
func FirstVhost(edition string) string {
	if edition == Edition3x {
		return "/"
	}
	return "default"
}

func editionName(edition string) string {
	if edition == "" {
		return EditionAMQP
	}
	return edition
}

// Unsupported: DMS has no guest, no lock, no health check and no reboot.
func (t *Target) Unsupported() map[seeders.Option]string {
	return map[seeders.Option]string{
		seeders.OptionCloseConnections: "the DMS API closes no client connections",
		seeders.OptionKeepGuest:        "Huawei Cloud DMS has no guest user warren manages",
		seeders.OptionBreakLock:        "the DMS API has no lock warren takes",
		seeders.OptionWait:             "the DMS API has no health check warren waits for",
		seeders.OptionReboot:           "DMS applies changes at once",
		seeders.OptionAMQPURL:          "warren counts messages on DMS through its API (a queue's details)",
	}
}

// Apply carries out the plan (Client.Apply).
func (t *Target) Apply(ctx context.Context, p *plan.Plan, opts seeders.ApplyOptions) error {
	return t.c.Apply(ctx, p, opts)
}

// Notes: passwords are set on creation only, unless UpdatePasswords.
func (t *Target) Notes(_ *plan.Plan, opts plan.Options) []string {
	if opts.UpdatePasswords {
		return nil
	}
	return []string{"Passwords are set on creation only; the API never returns them (--update-passwords sets them all again)."}
}
