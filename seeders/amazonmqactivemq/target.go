package amazonmqactivemq

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// Target is Amazon MQ for ActiveMQ as a seeders.Target: users only,
// changes waiting for a reboot.
type Target struct {
	c       *Client
	pending map[string]string // from the last Read
}

var (
	_ seeders.Target   = (*Target)(nil)
	_ seeders.Noter    = (*Target)(nil)
	_ seeders.Finisher = (*Target)(nil)
)

// NewTarget makes the target from a client.
func NewTarget(c *Client) *Target { return &Target{c: c} }

func (t *Target) Name() definitions.TargetName { return definitions.TargetAmazonMQActiveMQ }

// Identity is the API's endpoint (or AWS's, by region) and the broker id;
// warren acts with AWS credentials, not as a broker user.
func (t *Target) Identity(context.Context) (plan.BrokerID, error) {
	region := t.c.api.Options().Region
	url := t.c.cfg.Endpoint
	if url == "" {
		url = "https://mq." + region + ".amazonaws.com"
	}
	return plan.BrokerID{URLs: []string{url}, Cluster: map[string]string{"broker_id": t.c.broker, "region": region}}, nil
}

// Read reads every user (the only kind), as they will be after the next
// reboot.
func (t *Target) Read(ctx context.Context, _ []definitions.Kind) (*definitions.Document, error) {
	doc, pending, err := t.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	t.pending = pending
	return doc, nil
}

// DiffOptions compare users as Amazon MQ has them: groups, console access
// and replication user. The API never returns passwords, so a password is
// set on creation, and on update only with UpdatePasswords (then every
// time: whether it differs cannot be known).
func (t *Target) DiffOptions(_ context.Context, opts plan.Options) []plan.DiffOption {
	return DiffOptions(opts.UpdatePasswords)
}

// DiffOptions are the target's diff options (see Target.DiffOptions).
func DiffOptions(updatePasswords bool) []plan.DiffOption {
	return []plan.DiffOption{plan.WithCompare(func(d, l definitions.Object) (plan.Fields, bool) {
		du, ok := d.(*definitions.User)
		if !ok {
			return nil, false
		}
		lu := l.(*definitions.User)
		var f plan.Fields
		da, la := settings(du), settings(lu)
		f.Set("groups", da.Groups, la.Groups)
		f.Value("console_access", da.ConsoleAccess != nil && *da.ConsoleAccess, la.ConsoleAccess != nil && *la.ConsoleAccess)
		f.Value("replication_user", da.ReplicationUser != nil && *da.ReplicationUser, la.ReplicationUser != nil && *la.ReplicationUser)
		if updatePasswords && du.Password != nil {
			f = append(f, plan.FieldChange{Field: "password", Sensitive: true})
		}
		return f, true
	})}
}

func settings(u *definitions.User) definitions.ActiveMQUser {
	if u.ActiveMQ == nil {
		return definitions.ActiveMQUser{Groups: []string{}}
	}
	a := *u.ActiveMQ
	if a.Groups == nil {
		a.Groups = []string{}
	}
	return a
}

// Unsupported: ActiveMQ has no guest, no queues to replace or messages
// warren deletes, no lock and no health check to wait for.
func (t *Target) Unsupported() map[seeders.Option]string {
	return map[seeders.Option]string{
		seeders.OptionCloseConnections: "the Amazon MQ API closes no client connections",
		seeders.OptionKeepGuest:        "Amazon MQ for ActiveMQ has no guest user",
		seeders.OptionReplace:          "Amazon MQ for ActiveMQ has users only: nothing is replaced",
		seeders.OptionDestroyMessages:  "Amazon MQ for ActiveMQ has users only: no apply deletes messages",
		seeders.OptionBreakLock:        "the Amazon MQ API has no lock warren takes",
		seeders.OptionWait:             "Amazon MQ for ActiveMQ applies users at the next reboot; there is nothing to wait for",
		seeders.OptionAMQPURL:          "Amazon MQ for ActiveMQ has users only: warren counts no messages",
	}
}

// Apply carries out the plan's user changes (Client.Apply).
func (t *Target) Apply(ctx context.Context, p *plan.Plan, opts seeders.ApplyOptions) error {
	return t.c.Apply(ctx, p, opts)
}

// Notes say which users wait for a reboot (they count as done), that the
// plan's changes will too, and that passwords are set on creation only.
func (t *Target) Notes(p *plan.Plan, opts plan.Options) []string {
	var out []string
	if len(t.pending) > 0 {
		names := make([]string, 0, len(t.pending))
		for n, change := range t.pending {
			names = append(names, fmt.Sprintf("%s (%s)", n, strings.ToLower(change)))
		}
		slices.Sort(names)
		out = append(out, fmt.Sprintf("Waiting for a reboot of the broker: %s. They count as done.", strings.Join(names, ", ")))
	}
	if !p.Empty() {
		out = append(out, "Amazon MQ applies these changes when the broker reboots (warren apply --reboot, or the maintenance window).")
	}
	if !opts.UpdatePasswords {
		out = append(out, "Passwords are set on creation only; the API never returns them (--update-passwords sets them all again).")
	}
	return out
}

// Finish reboots the broker when asked, which applies the changes now
// instead of in the maintenance window.
func (t *Target) Finish(ctx context.Context, opts seeders.ApplyOptions) (string, error) {
	if !opts.Reboot {
		return "", nil
	}
	if err := t.c.Reboot(ctx); err != nil {
		return "", err
	}
	return "Rebooting the broker: the changes apply when it is back.", nil
}
