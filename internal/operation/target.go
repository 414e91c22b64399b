package operation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/amazonmqactivemq"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
	"github.com/warren-tool/warren/seeders/huaweicloud"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// Every target is a seeders.Target: diff, apply and export take one path
// for all of them. The cloud APIs (Amazon MQ for ActiveMQ, Huawei Cloud
// DMS) never return passwords, so both set them on creation and on update
// only with the update-passwords option.

// Cloud says where a cloud target's API is and which broker it manages.
type Cloud struct {
	Endpoint   string
	BrokerID   string // Amazon MQ for ActiveMQ
	Region     string // Amazon MQ for ActiveMQ
	ProjectID  string // Huawei Cloud DMS
	InstanceID string // Huawei Cloud DMS
	Edition    string // Huawei Cloud DMS: amqp-0-9-1 ("" too) or 3.x
}

// TargetRequest names a target and how to reach it.
type TargetRequest struct {
	Name       definitions.TargetName
	Connection Connection // the RabbitMQ targets
	Cloud      Cloud      // the cloud targets
	// Workers is how many deletions run at once (0: the target's default).
	Workers int
	// AmazonMQ sizes an amazonmq-rabbitmq broker.
	AmazonMQ AmazonMQ
}

// Open connects to the target the request names.
func Open(ctx context.Context, ui UI, req TargetRequest) (seeders.Target, error) {
	switch req.Name {
	case definitions.TargetAmazonMQActiveMQ:
		WarnClearText(ui, []string{req.Cloud.Endpoint}, "the AWS request signature and users' passwords")
		client, err := amazonmqactivemq.New(ctx, amazonmqactivemq.Config{BrokerID: req.Cloud.BrokerID, Region: req.Cloud.Region, Endpoint: req.Cloud.Endpoint})
		if err != nil {
			return nil, err
		}
		return amazonmqactivemq.NewTarget(client), nil
	case definitions.TargetHuaweiCloudRabbitMQ:
		WarnClearText(ui, []string{req.Cloud.Endpoint}, "the X-Auth-Token or the request signature, and users' secret keys")
		client, err := huaweicloud.New(huaweicloud.Config{Endpoint: req.Cloud.Endpoint, ProjectID: req.Cloud.ProjectID, InstanceID: req.Cloud.InstanceID, Edition: req.Cloud.Edition,
			AK: os.Getenv("HUAWEICLOUD_SDK_AK"), SK: os.Getenv("HUAWEICLOUD_SDK_SK"), Token: os.Getenv("HUAWEICLOUD_TOKEN")})
		if err != nil {
			return nil, err
		}
		return huaweicloud.NewTarget(client), nil
	}
	client, err := Connect(ctx, ui, req.Connection)
	if err != nil {
		return nil, err
	}
	if req.Name != definitions.TargetAmazonMQRabbitMQ && req.AmazonMQ != (AmazonMQ{}) {
		return nil, fmt.Errorf("--instance-type and --deployment-mode size an amazonmq-rabbitmq broker; the target is %s", req.Name)
	}
	return rabbitTarget(client, req.Name, req.Workers, req.AmazonMQ)
}

// rabbitTarget is a RabbitMQ target (self-run or Amazon MQ's) on client.
func rabbitTarget(client *rabbitmq.Client, name definitions.TargetName, workers int, amq AmazonMQ) (seeders.Target, error) {
	if name != definitions.TargetAmazonMQRabbitMQ {
		rt := rabbitmq.NewTarget(client, name)
		rt.Workers = workers
		return rt, nil
	}
	rt := rabbitmq.NewTarget(client, name, targetRules(name)...)
	rt.Workers = workers
	t := &amazonMQTarget{Target: rt}
	if amq.InstanceType != "" || amq.DeploymentMode != "" {
		if amq.InstanceType == "" {
			return nil, fmt.Errorf("--deployment-mode needs --instance-type")
		}
		l, err := amazonmqrabbitmq.LimitsOf(amq.InstanceType, amq.DeploymentMode)
		if err != nil {
			return nil, err
		}
		t.limits = &l
	}
	return t, nil
}

// targetRules are the rules RabbitMQ's target takes for the platform
// name: Amazon MQ's diff options and export filter for amazonmq-rabbitmq.
func targetRules(name definitions.TargetName) []rabbitmq.TargetOption {
	if name != definitions.TargetAmazonMQRabbitMQ {
		return nil
	}
	return []rabbitmq.TargetOption{rabbitmq.WithDiffOptions(amazonmqrabbitmq.DiffOptions()...),
		rabbitmq.WithExportFilter(amazonmqrabbitmq.DropOwned)}
}

// refuseUnsupported refuses an option the target cannot honour, given on
// the command line or set in the plan's options: never ignored.
func refuseUnsupported(t seeders.Target, given map[seeders.Option]bool, opts plan.Options) error {
	fromPlan := seeders.PlanOptions(opts)
	un := t.Unsupported()
	for _, o := range slices.Sorted(maps.Keys(un)) {
		if given[o] || fromPlan[o] {
			return fmt.Errorf("--%s cannot be used with --target %s: %s", o, t.Name(), un[o])
		}
	}
	return nil
}

// planner makes plans for one target with one set of options: the plan
// options, and what the files' settings and the owner's records add
// (ownership, ignore, forget, scope).
type planner struct {
	t     seeders.Target
	opts  plan.Options
	extra []plan.DiffOption
	// version is the broker's RabbitMQ version, when warren knows its
	// rules: the plan then says what it changes of who can do what.
	version string
	// withAccess: plan works out the plan's access section.
	withAccess bool
}

// plan reads the kinds a plan needs (liveKinds) and diffs them with the
// target's options. Every secret the plan sends is read now, before
// anything changes: one that cannot be read is an error (see
// SecretError).
func (pl planner) plan(ctx context.Context, desired *definitions.Document) (*plan.Plan, error) {
	t, opts := pl.t, pl.opts
	// The owners' records are read while the definitions are: after
	// them, a record of 41,200 objects added a tenth to a diff on
	// RabbitMQ 3.10.
	var (
		own    *plan.Ownership
		ownErr error
		owned  sync.WaitGroup
	)
	if opts.Owner != "" {
		owned.Add(1)
		go func() {
			defer owned.Done()
			own, ownErr = ownership(ctx, t, opts)
		}()
	}
	var live *definitions.Document
	var err error
	if sr, ok := t.(seeders.ScopedReader); ok && len(opts.Vhosts) > 0 {
		live, err = sr.ReadIn(ctx, liveKinds(desired, opts.Prune), opts.Vhosts)
	} else {
		live, err = t.Read(ctx, liveKinds(desired, opts.Prune))
	}
	owned.Wait()
	if err != nil {
		return nil, err
	}
	diffOpts := append(t.DiffOptions(ctx, opts), plan.WithPrune(opts.Prune), plan.WithKeepGuest(opts.KeepGuest))
	diffOpts = append(diffOpts, pl.extra...)
	if opts.Owner != "" {
		if ownErr != nil {
			return nil, ownErr
		}
		diffOpts = append(diffOpts, plan.WithOwnership(own))
	}
	p, err := plan.Diff(desired, live, diffOpts...)
	if err != nil {
		return nil, err
	}
	if _, err := p.ReadSecrets(nil); err != nil {
		return nil, err
	}
	if pl.opts.CloseConnections {
		p.Disconnect = plan.Disconnects(p)
	}
	if pl.withAccess {
		if err := pl.access(ctx, desired, live, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// access works out what p changes of who can do what (Plan.Access), for
// a RabbitMQ broker whose version warren knows (a live broker's, or an
// export's rabbitmq_version, as warren access --against reads it), when p
// changes users, vhosts, permissions, topic permissions, queues or
// exchanges. What the plan did not read of those kinds is read whole now
// (a kind read for the plan's acting user alone, permissions, is read
// again).
func (pl planner) access(ctx context.Context, desired, live *definitions.Document, p *plan.Plan) error {
	version := pl.version
	if version == "" {
		version = live.RabbitMQVersion
	}
	if version == "" || !slices.ContainsFunc(p.Changes, func(ch plan.Change) bool { return slices.Contains(AccessKinds, ch.Kind) }) {
		return nil
	}
	read := liveKinds(desired, pl.opts.Prune)
	var missing []definitions.Kind
	for _, k := range AccessKinds {
		if !slices.Contains(read, k) {
			missing = append(missing, k)
		}
	}
	doc := live
	if len(missing) > 0 {
		more, err := pl.t.Read(ctx, missing)
		if err != nil {
			return fmt.Errorf("reading what the plan's access section needs: %w", err)
		}
		cp := *live
		for _, k := range missing {
			switch k {
			case definitions.KindUser:
				cp.Users = more.Users
			case definitions.KindVhost:
				cp.Vhosts = more.Vhosts
			case definitions.KindPermission:
				cp.Permissions = more.Permissions
			case definitions.KindTopicPermission:
				cp.TopicPermissions = more.TopicPermissions
			case definitions.KindQueue:
				cp.Queues = more.Queues
			case definitions.KindExchange:
				cp.Exchanges = more.Exchanges
			}
		}
		doc = &cp
	}
	p.Access = nil
	for _, c := range AccessChanges(doc, p, version) {
		p.Access = append(p.Access, plan.AccessChange{Text: c.String(), Gained: c.Gained()})
	}
	return nil
}

// SecretError shows an {env}/{file} reference that could not be read as
// E034 at its place in the files; other errors pass through.
func SecretError(ui UI, desired *definitions.Document, err error) error {
	if diags, ok := desired.SecretDiagnostics(err); ok {
		ui.Diagnostics(diags)
		return &ReportedError{Summary: diags[len(diags)-1].String()}
	}
	return err
}

// showNotes shows a target's notes on a plan.
func showNotes(ui UI, t seeders.Target, p *plan.Plan, opts plan.Options) {
	if n, ok := t.(seeders.Noter); ok {
		if notes := n.Notes(p, opts); len(notes) > 0 {
			ui.Notes(notes)
		}
	}
}

// liveKinds are the kinds a plan needs to read from the broker: those the
// files manage, and permissions when pruning may delete what lives in a
// vhost (the plan checks the acting user's access there), the vhosts of
// the files' queues, and parameters when the files' vhosts hold limits.
// Reading only these keeps a plan about users fast on a broker with many
// queues.
func liveKinds(desired *definitions.Document, prune bool) []definitions.Kind {
	var out []definitions.Kind
	vhostScoped := false
	for _, k := range definitions.Kinds {
		if desired.Has(k) {
			out = append(out, k)
			if info, _ := definitions.InfoOf(k); info.NeedsVhostAccess {
				vhostScoped = true
			}
		}
	}
	if prune && vhostScoped && desired.Permissions == nil {
		out = append(out, definitions.KindPermission)
	}
	// A queue without a type is of its vhost's default type, which the
	// broker's vhost says when the files do not define the vhost.
	if desired.Queues != nil && desired.Vhosts == nil {
		out = append(out, definitions.KindVhost)
	}
	// Limits inside the files' vhosts are compared as vhost-limits
	// parameters.
	if desired.Parameters == nil && len(definitions.VhostLimitParameters(desired)) > 0 {
		out = append(out, definitions.KindParameter)
	}
	return out
}

// ExportFile is an export file standing for a broker (diff --against):
// it is read, never changed, and it is RabbitMQ's format, so only the
// RabbitMQ targets compare with one.
type ExportFile struct {
	name definitions.TargetName
	doc  *definitions.Document
}

var _ seeders.Target = (*ExportFile)(nil)

// OpenExportFile reads the export at path as the target name; its
// problems are shown.
func OpenExportFile(ui UI, name definitions.TargetName, path string) (*ExportFile, error) {
	if name != definitions.TargetRabbitMQ && name != definitions.TargetAmazonMQRabbitMQ {
		return nil, fmt.Errorf("--against cannot be used with --target %s: an export is RabbitMQ's format", name)
	}
	doc, diags := definitions.Load([]string{path}, definitions.LoadOptions{})
	if doc == nil || diags.HasErrors() {
		ui.Diagnostics(diags)
		return nil, &ReportedError{Summary: fmt.Sprintf("%s cannot be read as an export", path)}
	}
	return &ExportFile{name: name, doc: doc}, nil
}

func (e *ExportFile) Name() definitions.TargetName { return e.name }
func (e *ExportFile) Identity(context.Context) (plan.BrokerID, error) {
	return plan.BrokerID{}, nil
}
func (e *ExportFile) Read(context.Context, []definitions.Kind) (*definitions.Document, error) {
	return e.doc, nil
}
func (e *ExportFile) DiffOptions(context.Context, plan.Options) []plan.DiffOption {
	opts := []plan.DiffOption{plan.WithPasswordsUnshown()}
	if e.name == definitions.TargetAmazonMQRabbitMQ {
		opts = append(opts, amazonmqrabbitmq.DiffOptions()...)
	}
	return opts
}

// Notes counts the export's users without a password hash: their
// passwords are not compared.
func (e *ExportFile) Notes(*plan.Plan, plan.Options) []string {
	n := 0
	for _, u := range e.doc.Users {
		if plan.PasswordUnshown(u) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("Note: the export holds no password hash for %s: a password the files give for one is not compared (warren export --no-trim hashes writes them).", Plural(n, "user"))}
}
func (e *ExportFile) Apply(context.Context, *plan.Plan, seeders.ApplyOptions) error {
	return errors.New("an export file is compared with, never changed")
}
func (e *ExportFile) Unsupported() map[seeders.Option]string {
	return map[seeders.Option]string{
		seeders.OptionReplace:          "an export file is compared with, never changed",
		seeders.OptionDestroyMessages:  "an export file is compared with, never changed",
		seeders.OptionUpdatePasswords:  "an export holds password hashes: passwords are compared",
		seeders.OptionCloseConnections: "an export file has no connections",
	}
}
