package operation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/migrate"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/atomicfile"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// migrate: a blue-green move from a 3.x cluster to a 4.x one
// (definitions/migrate makes the new cluster's definitions and the
// federation; everything else is the ordinary plan and apply).

// MigrateRequest names the two clusters of a migration.
type MigrateRequest struct {
	// From reaches the old cluster; FromFile, when set, is an export of
	// it read instead (and wins).
	From     Connection
	FromName string // --from as given: a URL or an inventory's broker name
	FromFile string
	MaxSize  int64
	// To reaches the new cluster; ToName names it in the plan's heading.
	To     Connection
	ToName string
	// Upstream says how the new cluster reaches the old one over AMQP
	// (migrate.ParseURITemplate).
	Upstream string
	Workers  int
	// Owner, when set, records the new cluster's objects as that owner's.
	Owner string
	// FromTarget and ToTarget say what each cluster is: RabbitMQ ("") or
	// Amazon MQ for RabbitMQ, whose own objects are not moved from the
	// old cluster and left alone on the new one.
	FromTarget, ToTarget definitions.TargetName
}

// toTarget is the new cluster's target name.
func (req MigrateRequest) toTarget() definitions.TargetName {
	if req.ToTarget == "" {
		return definitions.TargetRabbitMQ
	}
	return req.ToTarget
}

// target is the new cluster as its target: t, with Amazon MQ's checks
// (amazonMQTarget) when it is Amazon MQ's.
func (req MigrateRequest) target(t *rabbitmq.Target) seeders.Target {
	if req.toTarget() == definitions.TargetAmazonMQRabbitMQ {
		return &amazonMQTarget{Target: t}
	}
	return t
}

// options are the migration's plan options.
func (req MigrateRequest) options() plan.Options {
	o := migrateOptions
	o.Owner = req.Owner
	o.Target = string(req.toTarget())
	return o
}

// migrateOptions are the plan options of a migration: nothing is pruned
// and the new cluster's guest is left alone.
var migrateOptions = plan.Options{Target: string(definitions.TargetRabbitMQ), KeepGuest: true}

// newCluster connects to the new cluster as an ordinary target.
func newCluster(ctx context.Context, ui UI, req MigrateRequest) (*rabbitmq.Target, string, error) {
	client, err := Connect(ctx, ui, req.To)
	if err != nil {
		return nil, "", err
	}
	switch req.toTarget() {
	case definitions.TargetRabbitMQ, definitions.TargetAmazonMQRabbitMQ:
	default:
		return nil, "", fmt.Errorf("--to-target %s: warren migrate moves to a RabbitMQ cluster (rabbitmq or amazonmq-rabbitmq)", req.ToTarget)
	}
	t := rabbitmq.NewTarget(client, req.toTarget(), targetRules(req.toTarget())...)
	t.Workers = req.Workers
	version, err := t.Version(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("reading the new cluster's version: %w", err)
	}
	return t, version, nil
}

// readOld reads the old cluster's definitions, trimmed of what is
// node-specific as export trims them, hashes kept. newCluster is the new
// cluster's identity: an old cluster that is the same cluster is refused
// (migrate changes only the new one).
func readOld(ctx context.Context, ui UI, req MigrateRequest, newCluster map[string]string) (*definitions.Document, plan.MigrationSource, error) {
	var doc *definitions.Document
	var src plan.MigrationSource
	switch {
	case req.FromFile != "":
		abs, err := filepath.Abs(req.FromFile)
		if err != nil {
			return nil, src, err
		}
		d, diags := definitions.Load([]string{abs}, definitions.LoadOptions{MaxSize: req.MaxSize})
		if d == nil || diags.HasErrors() {
			ui.Diagnostics(diags)
			return nil, src, &ReportedError{Summary: fmt.Sprintf("%s cannot be read as an export", req.FromFile)}
		}
		doc, src.File = d, abs
	default:
		client, err := Connect(ctx, ui, req.From)
		if err != nil {
			return nil, src, err
		}
		oldID, err := client.Identity(ctx)
		if err != nil {
			return nil, src, fmt.Errorf("reading the old cluster's identity: %w", err)
		}
		if sameCluster(oldID, newCluster) {
			return nil, src, errors.New("--from and --to are the same cluster: warren migrate moves definitions to a new cluster and never changes the old one")
		}
		if doc, err = client.Read(ctx); err != nil {
			return nil, src, fmt.Errorf("reading the old cluster: %w", err)
		}
		src.URL = req.FromName
	}
	if err := definitions.Trim(doc, definitions.DefaultTrims()); err != nil {
		return nil, src, err
	}
	src.Digest = definitions.Digest(doc)
	return doc, src, nil
}

// sameCluster says whether two clusters' identities are one cluster's
// (their internal_cluster_id).
func sameCluster(a, b map[string]string) bool {
	id := a["internal_cluster_id"]
	return id != "" && id == b["internal_cluster_id"]
}

// transform reads the old cluster and makes the new cluster's
// definitions; what cannot be migrated is shown and stops the operation.
// The new cluster's policies are read too: the federation's go above
// those of its own that match the queues to drain.
func transform(ctx context.Context, ui UI, req MigrateRequest, t *rabbitmq.Target, version string, to plan.BrokerID, quiet bool) (*migrate.Result, plan.MigrationSource, error) {
	if req.Upstream == "" {
		return nil, plan.MigrationSource{}, errors.New("no --upstream-uri: say how the new cluster reaches the old one over AMQP (env:NAME, file:PATH, or a URI without a password)")
	}
	tmpl, err := migrate.ParseURITemplate(req.Upstream)
	if err != nil {
		return nil, plan.MigrationSource{}, err
	}
	old, src, err := readOld(ctx, ui, req, to.Cluster)
	if err != nil {
		return nil, src, err
	}
	live, err := t.Read(ctx, []definitions.Kind{definitions.KindPolicy})
	if err != nil {
		return nil, src, fmt.Errorf("reading the new cluster's policies: %w", err)
	}
	opts := migrate.Options{Version: version, Upstream: tmpl, ActingUser: to.ActingUser, LivePolicies: live.Policies}
	if req.FromTarget == definitions.TargetAmazonMQRabbitMQ {
		// Amazon MQ's objects stay with the old broker (its mirroring
		// policies still say which queues become quorum queues).
		opts.NotMoved = amazonmqrabbitmq.Owned
	}
	if req.toTarget() == definitions.TargetAmazonMQRabbitMQ {
		opts.MinPriority = amazonmqrabbitmq.DefaultPolicyPriority + 1
	}
	res := migrate.Transform(old, opts)
	if !quiet || len(res.Problems) > 0 {
		res.Report(ui.Out())
	}
	if len(res.Problems) > 0 {
		return nil, src, reported(ui, "%s cannot be migrated automatically (listed above); nothing was planned or changed", Plural(len(res.Problems), "thing"))
	}
	return res, src, nil
}

// MigratePlanRequest asks for a migration's plan.
type MigratePlanRequest struct {
	MigrateRequest
	// SaveTo saves the plan for MigrateApply; WriteDefinitions writes the
	// new cluster's definitions, without the federation (0600: they hold
	// password hashes).
	SaveTo           string
	WriteDefinitions string
}

// MigratePlan shows what migrating changes and the plan for the new
// cluster; it touches nothing.
func MigratePlan(ctx context.Context, ui UI, req MigratePlanRequest) error {
	t, version, err := newCluster(ctx, ui, req.MigrateRequest)
	if err != nil {
		return err
	}
	id, err := t.Identity(ctx)
	if err != nil {
		return err
	}
	res, src, err := transform(ctx, ui, req.MigrateRequest, t, version, id, false)
	if err != nil {
		return err
	}
	desired := Desired{Doc: res.Desired()}
	v, err := checkBrokerVersion(ctx, ui, t, desired, req.toTarget())
	if err != nil {
		return err
	}
	if err := checkProfile(ctx, ui, req.target(t), desired); err != nil {
		return err
	}
	doc := desired.Doc
	if v != "" {
		doc = definitions.KeepAsImported(doc, v)
	}
	pl, err := withSettings(ctx, ui, planner{t: req.target(t), opts: req.options()}, Desired{Doc: doc})
	if err != nil {
		return err
	}
	p, err := pl.plan(ctx, doc)
	if err != nil {
		return SecretError(ui, doc, err)
	}
	fmt.Fprintf(ui.Out(), "\nNew cluster (%s, RabbitMQ %s):\n", req.ToName, version)
	ui.Plan(p)
	old := src.URL
	if old == "" {
		old = src.File
	}
	fmt.Fprintf(ui.Out(), "\nOld cluster (%s): nothing changes. The federation reads its queues until warren migrate finish.\n", old)
	if out := req.WriteDefinitions; out != "" {
		d := *res.Definitions
		d.Sort()
		data := d.EncodeJSON()
		if ext := strings.ToLower(filepath.Ext(out)); ext == ".yaml" || ext == ".yml" {
			data = d.EncodeYAML("")
		}
		if err := atomicfile.Write(out, data, 0o600); err != nil {
			return err
		}
	}
	if out := req.SaveTo; out != "" {
		sp := NewSavedPlan(id, pl.opts, p)
		if src.File != "" {
			sum, err := fileDigest(src.File)
			if err != nil {
				return err
			}
			sp.Files = []plan.SavedFile{{Path: src.File, SHA256: sum}}
		}
		return writeJSON(out, plan.SavedMigration{Warren: "migrate-plan", FormatVersion: plan.SavedMigrationFormat, From: src, Upstream: req.Upstream, Plan: sp})
	}
	return nil
}

// ReadSavedMigration reads a migration plan saved by MigratePlan.
func ReadSavedMigration(path string) (*plan.SavedMigration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return plan.ReadSavedMigration(path, data)
}

// MigrateApplyRequest asks to carry out a migration on the new cluster.
type MigrateApplyRequest struct {
	MigrateRequest
	// Saved, when set, is carried out only when the old cluster (or the
	// export) and the new cluster are as they were; SavedName names it.
	Saved     *plan.SavedMigration
	SavedName string
	Yes       bool
	DryRun    bool
	BreakLock bool
}

// MigrateApply makes the migration plan again and applies it to the new
// cluster through Apply. The old cluster is not changed.
func MigrateApply(ctx context.Context, ui UI, req MigrateApplyRequest) (*ApplyResult, error) {
	var saved *plan.SavedPlan
	if req.Saved != nil {
		saved = req.Saved.Plan
		if err := CheckFiles(saved); err != nil {
			return nil, err
		}
	}
	t, version, err := newCluster(ctx, ui, req.MigrateRequest)
	if err != nil {
		return nil, err
	}
	id, err := t.Identity(ctx)
	if err != nil {
		return nil, err
	}
	res, src, err := transform(ctx, ui, req.MigrateRequest, t, version, id, true)
	if err != nil {
		return nil, err
	}
	if req.Saved != nil && src.Digest != req.Saved.From.Digest {
		logf(ui, "warren: the old cluster's definitions changed since %s was made; nothing was applied.\nRun warren migrate plan --out again and review the new plan.", req.SavedName)
		return nil, &ReportedError{Summary: fmt.Sprintf("the old cluster's definitions changed since %s was made; nothing was applied.", req.SavedName)}
	}
	return Apply(ctx, ui, ApplyRequest{Target: req.target(t), Desired: Desired{Doc: res.Desired()}, Options: req.options(),
		Saved: saved, SavedName: req.SavedName, Remake: "warren migrate plan --out",
		Yes: req.Yes, DryRun: req.DryRun, BreakLock: req.BreakLock})
}

// QueueStatus is one migrated queue's state on both sides.
type QueueStatus struct {
	Vhost        string `json:"vhost"`
	Queue        string `json:"queue"`
	OldMessages  *int64 `json:"old_messages"` // nil: the old cluster has no statistics for it yet
	OldConsumers int64  `json:"old_consumers"`
	NewMessages  int64  `json:"new_messages"`
	NewConsumers int64  `json:"new_consumers"`
	Link         string `json:"link"` // the federation link's status, "none", or "unknown"
}

// MigrationStatus reads both sides: the migrated queues with their
// messages and consumers, and the federation links.
func MigrationStatus(ctx context.Context, ui UI, req MigrateRequest) ([]QueueStatus, error) {
	states, _, err := migrationState(ctx, ui, req)
	return states, err
}

func migrationState(ctx context.Context, ui UI, req MigrateRequest) ([]QueueStatus, *rabbitmq.Target, error) {
	t, version, err := newCluster(ctx, ui, req)
	if err != nil {
		return nil, nil, err
	}
	oldClient, err := Connect(ctx, ui, req.From)
	if err != nil {
		return nil, nil, err
	}
	// One cluster given twice would read as every queue migrated.
	oldID, err := oldClient.Identity(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the old cluster's identity: %w", err)
	}
	newID, err := t.Client().Identity(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the new cluster's identity: %w", err)
	}
	if sameCluster(oldID, newID) {
		return nil, nil, errors.New("--from and --to are the same cluster: there is no migration between them to report on")
	}
	old, err := oldClient.Read(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the old cluster: %w", err)
	}
	// The queue list does not depend on the upstream: any URI will do.
	res := migrate.Transform(old, migrate.Options{Version: version, Upstream: migrate.URITemplate{Literal: "amqp://old"}})
	oldStates, err := oldClient.QueueStates(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the old cluster's queues: %w", err)
	}
	newStates, err := t.Client().QueueStates(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the new cluster's queues: %w", err)
	}
	links, linkErr := t.Client().FederationLinks(ctx)
	index := func(states []rabbitmq.QueueState) map[[2]string]rabbitmq.QueueState {
		m := map[[2]string]rabbitmq.QueueState{}
		for _, s := range states {
			m[[2]string{s.Vhost, s.Name}] = s
		}
		return m
	}
	oldByName, newByName := index(oldStates), index(newStates)
	var out []QueueStatus
	for _, q := range res.Queues {
		k := [2]string{q.Vhost, q.Name}
		o, onOld := oldByName[k]
		if !onOld {
			o.Messages = new(int64) // gone from the old cluster: nothing left there
		}
		s := QueueStatus{Vhost: q.Vhost, Queue: q.Name, OldMessages: o.Messages, OldConsumers: o.Consumers,
			NewMessages: deref(newByName[k].Messages), NewConsumers: newByName[k].Consumers, Link: "none"}
		if linkErr != nil {
			s.Link = "unknown"
		}
		for _, l := range links {
			if l.Type == "queue" && l.Vhost == q.Vhost && l.Queue == q.Name && l.Upstream == migrate.UpstreamName {
				s.Link = l.Status
			}
		}
		out = append(out, s)
	}
	return out, t, nil
}

// Drained reports whether no message is left on the old cluster: every
// queue's statistics say 0 (a queue without statistics yet is not).
func Drained(states []QueueStatus) bool {
	for _, s := range states {
		if s.OldMessages == nil || *s.OldMessages > 0 {
			return false
		}
	}
	return true
}

func deref(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// StatsInterval is how long MigrateFinish waits to read the old cluster's
// statistics again: the broker's collect_statistics_interval (5 s by
// default) and some.
var StatsInterval = 6 * time.Second

// MigrateFinishRequest asks to remove the federation once the old queues
// are empty.
type MigrateFinishRequest struct {
	MigrateRequest
	Yes, DryRun, BreakLock bool
}

// MigrateFinish checks that every migrated queue is empty on the old
// cluster, twice a statistics interval apart, then deletes the
// federation's policies and upstreams from the new cluster through Apply.
func MigrateFinish(ctx context.Context, ui UI, req MigrateFinishRequest) error {
	states, t, err := migrationState(ctx, ui, req.MigrateRequest)
	if err != nil {
		return err
	}
	// The management API's counts lag by the statistics interval: a
	// message published just now may not show yet. Drained twice, that
	// interval apart, is drained.
	if Drained(states) {
		time.Sleep(StatsInterval)
		if states, t, err = migrationState(ctx, ui, req.MigrateRequest); err != nil {
			return err
		}
	}
	var left []string
	for _, s := range states {
		switch {
		case s.OldMessages == nil:
			left = append(left, fmt.Sprintf("  queue %q on vhost %q: no statistics yet", s.Queue, s.Vhost))
		case *s.OldMessages > 0:
			left = append(left, fmt.Sprintf("  queue %q on vhost %q: %s", s.Queue, s.Vhost, Plural(int(*s.OldMessages), "message")))
		}
	}
	if len(left) > 0 {
		logf(ui, "warren: the old cluster still holds messages; the federation stays (nothing was changed):\n%s", strings.Join(left, "\n"))
		logf(ui, "Give the new queues consumers and watch warren migrate status.")
		return &ReportedError{Summary: "the old cluster still holds messages; the federation stays (nothing was changed)"}
	}
	// The new cluster's policies and parameters as they are, without the
	// federation's: pruning these kinds deletes exactly those.
	live, err := t.Read(ctx, []definitions.Kind{definitions.KindPolicy, definitions.KindParameter})
	if err != nil {
		return err
	}
	desired := &definitions.Document{
		Policies: slices.DeleteFunc(slices.Clone(live.Policies), func(p *definitions.Policy) bool {
			// migrate apply's: its name, and its upstream (a policy of the
			// same name that federates nothing is the user's own).
			return (p.Name == migrate.PolicyPrefix || strings.HasPrefix(p.Name, migrate.PolicyPrefix+".")) &&
				p.Definition["federation-upstream"] == migrate.UpstreamName
		}),
		Parameters: slices.DeleteFunc(slices.Clone(live.Parameters), func(p *definitions.Parameter) bool {
			return p.Component == "federation-upstream" && p.Name == migrate.UpstreamName
		}),
	}
	if len(desired.Policies) == len(live.Policies) && len(desired.Parameters) == len(live.Parameters) {
		fmt.Fprintln(ui.Out(), "No federation left: the migration is finished.")
		return nil
	}
	opts := req.options()
	opts.Owner = ""
	opts.Prune = true
	_, err = Apply(ctx, ui, ApplyRequest{Target: req.target(t), Desired: Desired{Doc: desired}, Options: opts,
		Remake: "warren migrate finish", Yes: req.Yes, DryRun: req.DryRun, BreakLock: req.BreakLock})
	return err
}
