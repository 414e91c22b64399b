package rabbitmq

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// Progress reports one step of an apply.
type Progress = seeders.Progress

// Target is RabbitMQ's management API as a seeders.Target. It acts as the
// client's user, and, after an apply that logs in as another (the acting
// user deleted or its password changed), as that one.
type Target struct {
	c      *Client
	acting string
	held   *Held // the apply lock, while Lock holds it
	name   definitions.TargetName
	extra  []plan.DiffOption
	// filter, when set, takes out of an export what the platform owns.
	filter func(*definitions.Document)
	// version is the broker's, once Version has read it.
	version string
	// overview is GET /api/overview's answer, once read: the broker's
	// version and cluster name do not change while warren runs.
	overview *Overview
	// Workers is how many deletions Apply runs at once (0: 4, what make
	// bench found fastest).
	Workers int
	// early is the whole export Prefetch started reading, for the next
	// Read that reads through it; stopEarly cancels it.
	early     <-chan readResult
	stopEarly context.CancelFunc
	// pending is the apply lock LockEarly wrote, for the next LockWhile
	// (pendingErr why it could not: LockWhile says it).
	pending    *pendingLock
	pendingErr error
}

type readResult struct {
	doc *definitions.Document
	err error
}

var (
	_ seeders.Target     = (*Target)(nil)
	_ seeders.Locker     = (*Target)(nil)
	_ seeders.Versioned  = (*Target)(nil)
	_ seeders.Noter      = (*Target)(nil)
	_ seeders.Exporter   = (*Target)(nil)
	_ seeders.Prefetcher = (*Target)(nil)
)

// A TargetOption gives a target the rules of a platform that is RabbitMQ
// with rules of its own (Amazon MQ for RabbitMQ): the platform's package
// states its facts, and whoever opens the target composes them here.
type TargetOption func(*Target)

// WithDiffOptions adds diff options to those the target gives.
func WithDiffOptions(opts ...plan.DiffOption) TargetOption {
	return func(t *Target) { t.extra = append(t.extra, opts...) }
}

// WithExportFilter makes Export pass the broker's definitions through
// filter, which takes out what the platform owns.
func WithExportFilter(filter func(*definitions.Document)) TargetOption {
	return func(t *Target) { t.filter = filter }
}

// NewTarget makes the target name ("" is rabbitmq): RabbitMQ's management
// API, with a platform's rules given as options.
func NewTarget(c *Client, name definitions.TargetName, opts ...TargetOption) *Target {
	t := &Target{c: c, name: cmp.Or(name, definitions.TargetRabbitMQ)}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Client is the client the target talks through now.
func (t *Target) Client() *Client { return t.c }

func (t *Target) Name() definitions.TargetName { return t.name }

// Identity is the management URLs, the cluster's identity (its
// internal_cluster_id and cluster_name, as Client.Identity has them) and
// the user warren logs in as (GET /api/whoami, read once).
// GET /api/global-parameters/internal_cluster_id
func (t *Target) Identity(ctx context.Context) (plan.BrokerID, error) {
	if t.acting == "" {
		who, err := t.c.Whoami(ctx)
		if err != nil {
			return plan.BrokerID{}, err
		}
		t.acting = who.Name
	}
	ov, err := t.readOverview(ctx)
	if err != nil {
		return plan.BrokerID{}, fmt.Errorf("reading the broker's identity: %w", err)
	}
	id := map[string]string{"cluster_name": ov.ClusterName}
	switch v, ok, err := t.c.clusterID(ctx); {
	case err != nil:
		return plan.BrokerID{}, fmt.Errorf("reading the broker's identity: %w", err)
	case ok:
		id["internal_cluster_id"] = fmt.Sprint(v)
	}
	return plan.BrokerID{URLs: t.c.URLs(), Cluster: id, ActingUser: t.acting}, nil
}

// readOverview reads GET /api/overview once, without its statistics: with
// them, RabbitMQ 4.0.5 took 0.2 to 0.9 s to answer on a node with 10,000
// queues (make bench), without them a few milliseconds, and the version,
// product and cluster name are the same.
// GET /api/overview?disable_stats=true
func (t *Target) readOverview(ctx context.Context) (Overview, error) {
	if t.overview != nil {
		return *t.overview, nil
	}
	var o Overview
	if err := t.c.getJSON(ctx, "/api/overview?disable_stats=true", &o); err != nil {
		return Overview{}, err
	}
	t.overview = &o
	return o, nil
}

// Read reads the kinds asked for, the fastest way the broker's version
// offers (wholeFaster): each from its own endpoint (ReadKinds) or through
// one GET /api/definitions (ReadWhole); and, when they leave out
// permissions, the acting user's own: a temporary grant an interrupted
// apply left must show as drift. nil reads the whole export (Client.Read).
func (t *Target) Read(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	if kinds == nil {
		return t.c.Read(ctx)
	}
	var live *definitions.Document
	var err error
	if t.wholeFaster(ctx, kinds) {
		if early, stop := t.takeEarly(); early != nil {
			r := <-early
			stop()
			live, err = r.doc, r.err
			if err == nil {
				live = onlyKinds(live, kinds)
			}
		} else {
			live, err = t.c.ReadWhole(ctx, kinds)
		}
	} else {
		live, err = t.c.ReadKinds(ctx, kinds)
	}
	return t.addActing(ctx, kinds, live, err)
}

// Prefetch starts reading the whole export (Client.Read) on a broker where
// the next Read reads through it (RabbitMQ 4.3 and later: wholeFaster),
// while the caller loads the files: on the make bench node (41,200 objects,
// 4.3.6) loading them took 0.4 s of a 1.8 s diff, before the 1 s read
// began. Elsewhere it reads only the version. The next Read takes what it
// read; ReadIn, which reads less, cancels it.
func (t *Target) Prefetch(ctx context.Context) {
	version, err := t.Version(ctx)
	if err != nil || !readsWhole(version) {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan readResult, 1)
	t.early, t.stopEarly = ch, cancel
	go func() {
		doc, err := t.c.Read(ctx)
		ch <- readResult{doc, err}
	}()
}

// takeEarly returns the read Prefetch started, once, with what cancels
// it (the caller calls it, after taking the result or instead), and nils
// when none is waiting.
func (t *Target) takeEarly() (<-chan readResult, context.CancelFunc) {
	early, stop := t.early, t.stopEarly
	t.early, t.stopEarly = nil, nil
	return early, stop
}

// wholeFaster reports whether one GET /api/definitions reads these kinds
// faster than their listings. On RabbitMQ 4.3 (Khepri) the listings of
// queues and bindings cost the broker more than its whole export, which
// it streams: on the make bench node (41,200 objects, 4.3.6, medians of
// three on a busy machine) GET /api/bindings took 2.9 s and
// GET /api/queues?disable_stats=true (with columns) 0.67 s against 0.43 s
// for GET /api/definitions; the listings of the other kinds take less
// than the export (users 0.19 s, permissions 0.12 s, exchanges 0.03 s).
// On 3.10 and 4.0 the listings, read at once, are the faster: warren diff
// took 0.63 times one GET /api/definitions on 3.10.8 and 1.2 to 1.3 times
// on 4.0.5, whose export took 3.1 to 5.6 s against 1.3 to 4.7 s for its
// slowest listing, the bindings. A version that cannot be read keeps the
// listings.
func (t *Target) wholeFaster(ctx context.Context, kinds []definitions.Kind) bool {
	if !slices.ContainsFunc(kinds, func(k definitions.Kind) bool { return k == definitions.KindQueue || k == definitions.KindBinding }) {
		return false
	}
	version, err := t.Version(ctx)
	return err == nil && readsWhole(version)
}

// readsWhole says whether a plan reads the broker through one whole
// export on this version (wholeFaster): RabbitMQ 4.3 and later.
func readsWhole(version string) bool { return version != "" && versionAtLeast(version, 4, 3) }

var _ seeders.ScopedReader = (*Target)(nil)

// ReadIn is Read of what lives in the vhosts (Client.ReadKindsIn).
func (t *Target) ReadIn(ctx context.Context, kinds []definitions.Kind, vhosts []string) (*definitions.Document, error) {
	if _, stop := t.takeEarly(); stop != nil {
		stop()
	}
	live, err := t.c.ReadKindsIn(ctx, kinds, vhosts)
	return t.addActing(ctx, kinds, live, err)
}

// addActing adds the acting user's permissions to what was read, when
// permissions were not: a plan checks the user's access where it changes
// things.
func (t *Target) addActing(ctx context.Context, kinds []definitions.Kind, live *definitions.Document, err error) (*definitions.Document, error) {
	if err != nil || t.acting == "" || slices.Contains(kinds, definitions.KindPermission) {
		return live, err
	}
	if live.Permissions, err = t.c.UserPermissions(ctx, t.acting); err != nil {
		return nil, err
	}
	return live, nil
}

// DiffOptions: the acting user (never deleted, its password changed last),
// what lives in a vhost the plan deletes, read only then, and the broker's
// version (which protections it honours; when it cannot be read, every
// protection is taken as honoured) and the node's default queue type.
func (t *Target) DiffOptions(ctx context.Context, _ plan.Options) []plan.DiffOption {
	version, _ := t.Version(ctx)
	var queueType string
	if t.overview != nil {
		queueType = t.overview.DefaultQueueType
	}
	return append(slices.Clone(t.extra), plan.WithActingUser(t.acting), plan.WithRabbitMQVersion(version), plan.WithNodeQueueType(queueType),
		plan.WithVhostContents(func(v string) (*plan.VhostContents, error) { return t.c.VhostContents(ctx, v) }))
}

// Unsupported: RabbitMQ returns password hashes, so passwords are compared
// and set only when they differ; nothing waits for a reboot.
func (t *Target) Unsupported() map[seeders.Option]string {
	return map[seeders.Option]string{
		seeders.OptionUpdatePasswords: "RabbitMQ's API returns password hashes: warren compares passwords and sets those that differ",
		seeders.OptionReboot:          "RabbitMQ applies changes at once",
	}
}

// Export is what warren export writes: the whole export (Read with nil),
// without what the platform owns (WithExportFilter).
func (t *Target) Export(ctx context.Context) (*definitions.Document, error) {
	doc, err := t.Read(ctx, nil)
	if err != nil {
		return nil, err
	}
	if t.filter != nil {
		t.filter(doc)
	}
	return doc, nil
}

// Apply carries out plan (Client.Apply) as the acting user; when the apply
// logs in as another user, the target carries on as that one.
func (t *Target) Apply(ctx context.Context, p *plan.Plan, opts seeders.ApplyOptions) error {
	return t.c.Apply(ctx, p, ApplyOptions{Replace: opts.Replace, DestroyMessages: opts.DestroyMessages,
		Progress: opts.Progress, Workers: t.Workers, Acting: t.acting, Admins: opts.Admins, Stop: opts.Stop, Check: t.held.Check,
		LoggedIn: func(user, password string) {
			t.c, t.acting = t.c.As(user, password), user
			if t.held != nil {
				t.held.Use(t.c) // the lock goes back as the user warren now is
			}
		}})
}

// Lock takes the broker's apply lock (Client.Lock), or confirms the one
// LockEarly wrote.
func (t *Target) Lock(ctx context.Context, breakLock bool, warn io.Writer) (func() error, error) {
	return t.LockWhile(ctx, breakLock, warn, nil)
}

// LockWhile takes the broker's apply lock as Lock does, running while
// once the lock is written (LockOptions.While): an apply with nothing to
// review reads its plan under the lock, at the cost of none of Lock's
// wait and without reading the broker a second time. After LockEarly it
// takes the lock LockEarly wrote (or returns why it could not be).
func (t *Target) LockWhile(ctx context.Context, breakLock bool, warn io.Writer, while func(context.Context) error) (func() error, error) {
	var held *Held
	var err error
	if p, perr := t.pending, t.pendingErr; p != nil || perr != nil {
		t.pending, t.pendingErr = nil, nil
		if perr != nil {
			return nil, perr
		}
		held, err = p.finish(ctx, while)
	} else {
		held, err = t.c.Lock(ctx, LockOptions{Break: breakLock, Warn: warn, While: while})
	}
	if err != nil {
		return nil, err
	}
	t.held = held
	return held.Release, nil
}

// LockEarly writes the broker's apply lock before the files are loaded,
// on a broker whose plans read one whole export (RabbitMQ 4.3 and later,
// wholeFaster), and only when no lock is there, stale or not (a lock to
// wait for or to break is LockWhile's, once the files are valid): a read
// Prefetch starts next is a read under the lock, as LockWhile's is, and an
// apply that nobody reviews (--yes) reads its plan while its files load.
// On the make bench node (41,200 objects, 4.3.6) loading them took 0.15 s
// of a 0.6 s apply with nothing to do. It reports whether it wrote the
// lock (or tried to, and failed with err): the next LockWhile (or Lock)
// confirms it, or returns err. A lock no LockWhile takes is given back by
// ReleaseEarly.
// GET, PUT /api/global-parameters/warren-lock
func (t *Target) LockEarly(ctx context.Context, warn io.Writer) (bool, error) {
	version, err := t.Version(ctx)
	if err != nil || !readsWhole(version) {
		return false, nil
	}
	p, err := t.c.beginLock(ctx, LockOptions{IfFree: true, Warn: warn})
	if errors.Is(err, errLockPresent) {
		return false, nil
	}
	t.pending, t.pendingErr = p, err
	return true, err
}

// ReleaseEarly gives back the lock LockEarly wrote, when no LockWhile took
// it (the files were not valid, or the apply stopped before locking).
func (t *Target) ReleaseEarly() error {
	p := t.pending
	t.pending, t.pendingErr = nil, nil
	if p == nil {
		return nil
	}
	return p.h.Release()
}

// Version is the RabbitMQ version the broker runs (readOverview).
func (t *Target) Version(ctx context.Context) (string, error) {
	ov, err := t.readOverview(ctx)
	if err == nil {
		t.version = ov.RabbitMQVersion
	}
	return ov.RabbitMQVersion, err
}

// Notes: what the plan asks of the broker's version that it cannot do, so
// that a diff says it before an apply stops on it (checkQueueTypeChanges).
func (t *Target) Notes(p *plan.Plan, _ plan.Options) []string {
	if t.version == "" || versionAtLeast(t.version, 3, 11) {
		return nil
	}
	var notes []string
	for _, ch := range p.Changes {
		if ch.Step == plan.StepVhostQueueType {
			notes = append(notes, fmt.Sprintf("%s: RabbitMQ %s cannot change an existing vhost's default queue type (3.11 and later can); apply will stop before changing anything. Delete and create the vhost again, or upgrade.", ch.Addr, t.version))
		}
	}
	return notes
}
