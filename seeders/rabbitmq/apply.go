package rabbitmq

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/rabbitmq/boot"
)

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// Replace allows the plan's replacements (deleting and creating a queue
	// or exchange again); without it Apply refuses a plan that has any.
	Replace bool
	// Resolve reads passwords given as {env} or {file}; nil means
	// definitions.ResolveSecret.
	Resolve func(*definitions.Secret) (string, error)
	// Progress, when set, hears of every step as it ends.
	Progress func(Progress)
	// Workers is how many deletions run at once; 0 means 4.
	Workers int
	// DestroyMessages allows what deletes messages: deleting a vhost whose
	// queues hold messages, pruning or replacing a queue that holds
	// messages. Without it Apply refuses a plan that deletes a vhost with
	// messages, and deletes queues (a vhost's too) only when the broker
	// finds them empty.
	DestroyMessages bool
	// Acting is the user the client logs in as.
	Acting string
	// Admins are the files' administrators whose password warren can read
	// (name → password). Before deleting an administrator or the acting
	// user, Apply logs in as an administrator that remains: the acting user
	// when it stays, or one of these. When none can, those deletions are
	// not made and Apply fails.
	Admins map[string]string
	// LoggedIn, when set, hears that Apply now logs in as another user:
	// after deleting the acting user, or changing its password.
	LoggedIn func(user, password string)
	// Stop, when closed, makes Apply stop after the step under way (a
	// request in flight finishes unless ctx is cancelled). Apply then takes
	// back its temporary grants and returns an *ApplyError wrapping
	// ErrInterrupted.
	Stop <-chan struct{}
	// Check, when set, says whether the apply may carry on changing the
	// broker: it re-reads the apply lock (Held.Check) before each step
	// (the import, a vhost's PUT, each run of deletions), and the apply
	// stops with its error.
	Check func(context.Context) error
}

// ErrInterrupted is why an apply asked to stop stopped.
var ErrInterrupted = seeders.ErrInterrupted

// Apply carries out a plan, and nothing but the plan:
//
//  0. a vhost whose default queue type changes is PUT first: the import
//     sets a vhost's default queue type only when it creates the vhost
//     (and RabbitMQ 3.10 cannot change it at all: refused before anything);
//  1. every creation and update goes to the broker as one partial
//     definitions document (POST /api/definitions), which is what makes a
//     large apply fast (the broker orders it: vhosts, users, permissions,
//     …, bindings); but up to maxPuts permissions and topic permissions
//     on vhosts that exist already are PUT one by one after it,
//     putWorkers at a time (splitPuts, putAll);
//  2. user limits, which the import only adds to, are set one by one;
//  3. queues and exchanges to replace are deleted (a queue only when
//     empty) and imported again with their bindings;
//  4. deletions run last, in the plan's order, four at a time within a
//     kind (make bench: 1,000 deletions take 30 s one at a time, 4.3 s four
//     at a time, 4.1 s eight at a time); a 404 counts as done.
//
// It stops at the first failure and returns a *plan.ApplyError.
func (c *Client) Apply(ctx context.Context, p *plan.Plan, opts ApplyOptions) error {
	a, err := c.apply(ctx, p, opts)
	var ae *plan.ApplyError
	if err != nil && a != nil && errors.As(err, &ae) {
		a.takeBack(ctx, ae)
	}
	return err
}

// takeBack runs, after an apply stopped, the deletions of the plan's
// temporary grants that remain: the permissions apply gave itself, and
// those RabbitMQ gave it when it created a vhost. One that was never given
// is not found: it leaves Remaining without counting as done (Done lists
// only what the broker did).
func (a *applier) takeBack(ctx context.Context, ae *plan.ApplyError) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var remaining []plan.Change
	for _, ch := range ae.Remaining {
		if !ch.Step.TakesBackGrant() {
			remaining = append(remaining, ch)
			continue
		}
		err := a.c.deleteObject(ctx, ch.Before)
		switch {
		case NotFound(err):
			// Never given (its vhost, say, was never created): nothing to
			// take back, and nothing the broker did, so not Done either.
		case err != nil:
			ae.Failed = append(ae.Failed, ch)
			ae.Err = errors.Join(ae.Err, fmt.Errorf("taking back %s: %w", ch.Addr, err))
		default:
			ae.Done = append(ae.Done, ch)
		}
	}
	ae.Remaining = remaining
}

// check says whether the apply may carry on (ApplyOptions.Check).
func (a *applier) check(ctx context.Context) error {
	if a.opts.Check == nil {
		return nil
	}
	return a.opts.Check(ctx)
}

func (a *applier) stopped() bool {
	select {
	case <-a.opts.Stop:
		return true
	default:
		return false
	}
}

func (c *Client) apply(ctx context.Context, p *plan.Plan, opts ApplyOptions) (*applier, error) {
	if opts.Resolve == nil {
		opts.Resolve = definitions.ResolveSecret
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	a := &applier{c: c, opts: opts, total: len(p.Changes), plan: p}
	var limits, vhostPuts, replaced, afterReplace, deletes, last []plan.Change
	bulk := make([]plan.Change, 0, len(p.Changes)) // most are
	for _, ch := range p.Changes {
		switch ch.Step {
		case plan.StepActingPassword:
			last = append(last, ch) // the acting user's password: after everything else
		case plan.StepVhostQueueType:
			vhostPuts = append(vhostPuts, ch) // the import leaves an existing vhost's default queue type
		case plan.StepDelete, plan.StepTakeBack, plan.StepUngrant, plan.StepRemoveLeftoverGrant, plan.StepRemoveGuest:
			deletes = append(deletes, ch)
		case plan.StepReplace:
			replaced = append(replaced, ch)
			afterReplace = append(afterReplace, ch)
		case plan.StepRebind:
			afterReplace = append(afterReplace, ch) // re-created after its queue or exchange
		case plan.StepCreate, plan.StepUpdate, plan.StepBorrowAccess:
			bulk = append(bulk, ch)
			if ch.Kind == definitions.KindUser && limitsDiffer(ch) {
				limits = append(limits, ch)
			}
		default:
			return nil, &plan.ApplyError{Remaining: p.Changes, Err: fmt.Errorf("rabbitmq: %s: a plan made for another target (step %q)", ch.Addr, ch.Step)}
		}
	}
	// Every secret the plan sends is read before the first request that
	// changes the broker; its values mask what the broker says back.
	values, err := p.ReadSecrets(opts.Resolve)
	if err != nil {
		return nil, &plan.ApplyError{Remaining: p.Changes, Err: err}
	}
	c.Conceal(values...)
	if err := a.checkMessages(p); err != nil {
		return nil, &plan.ApplyError{Remaining: p.Changes, Err: err}
	}
	if err := a.checkReplace(ctx, replaced); err != nil {
		return nil, &plan.ApplyError{Remaining: p.Changes, Err: err}
	}
	if err := a.checkDeletedVhosts(ctx, p); err != nil {
		return nil, &plan.ApplyError{Remaining: p.Changes, Err: err}
	}
	version, err := c.checkQueueTypeChanges(ctx, vhostPuts)
	if err != nil {
		return nil, &plan.ApplyError{Remaining: p.Changes, Err: err}
	}
	if a.stopped() {
		return a, a.fail(ErrInterrupted)
	}
	for _, ch := range vhostPuts {
		if err := a.check(ctx); err != nil {
			return a, a.fail(err)
		}
		if err := c.putVhost(ctx, ch.After.(*definitions.Vhost), version); err != nil {
			return a, a.fail(fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err), ch)
		}
		if v := ch.After.(*definitions.Vhost); v.Protected != nil && slices.ContainsFunc(ch.Fields, func(f plan.FieldChange) bool { return f.Field == "protected_from_deletion" }) {
			// PUT /api/vhosts/{name} leaves the protection as it was.
			if err := c.setVhostProtection(ctx, v.Name, *v.Protected); err != nil {
				return a, a.fail(fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err), ch)
			}
		}
		a.done("PUT vhost", ch)
	}
	bulk, puts := splitPuts(bulk)
	if err := a.importChanges(ctx, bulk, limits); err != nil {
		return a, err
	}
	if err := a.putAll(ctx, puts); err != nil {
		return a, err
	}
	for _, ch := range limits {
		if a.stopped() {
			return a, a.fail(ErrInterrupted)
		}
		if err := c.setUserLimits(ctx, ch); err != nil {
			return a, a.fail(fmt.Errorf("%c %s: limits: %w", ch.Action, ch.Addr, err), ch)
		}
		a.done("limits", ch)
	}
	for _, ch := range replaced {
		if a.stopped() {
			return a, a.fail(ErrInterrupted)
		}
		if err := a.check(ctx); err != nil {
			return a, a.fail(err)
		}
		if err := a.deleteOne(ctx, ch); err != nil && !NotFound(err) {
			return a, a.fail(fmt.Errorf("%c %s: deleting it to create it again: %w", ch.Action, ch.Addr, err), ch)
		}
	}
	if a.stopped() {
		return a, a.fail(ErrInterrupted)
	}
	if err := a.importChanges(ctx, afterReplace, nil); err != nil {
		return a, err
	}
	if err := a.checkDeletedVhosts(ctx, p); err != nil {
		return a, a.fail(err)
	}
	if err := a.deleteAll(ctx, deletes); err != nil {
		return a, err
	}
	return a, a.changeActing(ctx, last)
}

// checkDeletedVhosts refuses a plan that deletes a vhost the broker now
// protects from deletion (protected after the plan was made): the plan
// deletes the vhost's queues, exchanges, policies, … apart and before the
// vhost itself, so the check comes before any of them, not only at the
// vhost's own deletion. It runs before anything is changed, and again
// before the first deletion.
func (a *applier) checkDeletedVhosts(ctx context.Context, p *plan.Plan) error {
	for _, ch := range p.Changes {
		if v, ok := ch.Before.(*definitions.Vhost); ok && ch.Action == plan.Delete {
			if err := a.c.checkVhostUnprotected(ctx, v.Name); err != nil && !NotFound(err) { // a vhost gone is deleted
				return fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err)
			}
		}
	}
	return nil
}

// changeActing changes the acting user's password, last of all, and logs
// in again: with the new password, or, when the files give only a hash, as
// another administrator of the files.
func (a *applier) changeActing(ctx context.Context, last []plan.Change) error {
	for _, ch := range last {
		if a.stopped() {
			return a.fail(ErrInterrupted)
		}
		var notYet []plan.Change
		if limitsDiffer(ch) {
			notYet = append(notYet, ch)
		}
		if err := a.importChanges(ctx, []plan.Change{ch}, notYet); err != nil {
			return err
		}
		u := ch.After.(*definitions.User)
		var next *Client
		if u.Password != nil {
			pw, err := a.opts.Resolve(u.Password)
			if err != nil {
				return a.fail(err)
			}
			next = a.c.As(u.Name, pw)
		} else {
			for _, name := range slices.Sorted(maps.Keys(a.opts.Admins)) {
				if name != u.Name {
					next = a.c.As(name, a.opts.Admins[name])
					break
				}
			}
			if next == nil {
				return a.fail(fmt.Errorf("%s: its password_hash changed, and the files define no other administrator with a password warren can read: warren cannot log in again to finish or check the apply", ch.Addr))
			}
		}
		a.switchTo(next)
		if len(notYet) > 0 {
			if err := a.c.setUserLimits(ctx, ch); err != nil {
				return a.fail(fmt.Errorf("%c %s: limits: %w", ch.Action, ch.Addr, err), ch)
			}
			a.done("limits", ch)
		}
	}
	return nil
}

// importChanges sends creations and updates as partial definitions
// documents; notYet are reported done later (their limits follow). One
// document when it fits in ImportChunk bytes, else several, sent in the
// order of importRank (users, vhosts, permissions, …, queues, exchanges,
// topic permissions, bindings), so each one's objects find what they need
// already there. A broker refuses a body over its management.http.max_body_size
// (20,000,000 bytes by default) before importing anything (tooLargeBody):
// that request is split in two and sent again.
func (a *applier) importChanges(ctx context.Context, changes, notYet []plan.Change) error {
	if len(changes) == 0 {
		return nil
	}
	ordered := slices.Clone(changes)
	slices.SortStableFunc(ordered, func(x, y plan.Change) int { return cmp.Compare(importRank(x.After), importRank(y.After)) })
	parts, err := a.importParts(ordered)
	if err != nil {
		return err
	}
	for len(parts) > 0 {
		part := parts[0]
		if err := a.check(ctx); err != nil {
			return a.fail(err)
		}
		body, err := importDocument(part, a.opts.Resolve)
		if err != nil {
			return a.fail(err, part...)
		}
		err = a.c.PostDefinitions(ctx, body)
		var ae *APIError
		errors.As(err, &ae)
		if tooLargeBody(ae) && len(part) > 1 {
			// Refused whole, before the broker read it: nothing was done.
			half := len(part) / 2
			parts = append([][]plan.Change{part[:half], part[half:]}, parts[1:]...)
			continue
		}
		if err != nil {
			how := "in one request"
			if len(parts) > 1 || len(part) < len(changes) {
				how = fmt.Sprintf("in a request of %d (%d objects imported before it)", len(part), a.imported(changes))
			}
			if tooLargeBody(ae) {
				err = fmt.Errorf("%w: one object is larger than the broker accepts in a request (management.http.max_body_size)", err)
			}
			return a.fail(fmt.Errorf("importing %d objects %s (RabbitMQ's import is not atomic: some may have been created): %w", len(part), how, err), part...)
		}
		a.done("import", without(part, notYet)...)
		parts = parts[1:]
	}
	return nil
}

// maxPuts is the most permissions and topic permissions an apply PUTs one
// by one, putWorkers at a time, rather than import; more go in the import.
// RabbitMQ 4.3 commits an import's permissions one after the other, each
// waiting for its own write to disk, while PUTs in flight together share
// their writes: 412 permissions of make bench's 1% change took 0.61 to
// 0.88 s to import on RabbitMQ 4.3.6 and 0.23 to 0.34 s to PUT 16 at a time
// (0.8 to 1.1 s one at a time); on 4.0.5 0.26 to 0.92 s and 0.48 to 0.54 s.
// Past a few thousand, one request each costs more than it saves, and an
// apply from scratch is the broker's import.
const (
	maxPuts    = 1000
	putWorkers = 16
)

// splitPuts takes the permissions and topic permissions out of an
// import's changes when there are at most maxPuts of them, but those on a
// vhost the import creates: RabbitMQ gives the user that creates a vhost
// full permissions on it, and the plan's marked grant (or the files' own
// permission) must replace that one in the same import, so that an apply
// cut off after it leaves nothing unmarked behind.
func splitPuts(bulk []plan.Change) (imported, puts []plan.Change) {
	created := map[string]bool{}
	for _, ch := range bulk {
		if v, ok := ch.After.(*definitions.Vhost); ok && ch.Action == plan.Create {
			created[v.Name] = true
		}
	}
	alone := func(ch plan.Change) bool {
		switch o := ch.After.(type) {
		case *definitions.Permission:
			return !created[o.Vhost]
		case *definitions.TopicPermission:
			return !created[o.Vhost]
		}
		return false
	}
	n := 0
	for _, ch := range bulk {
		if alone(ch) {
			n++
		}
	}
	if n == 0 || n > maxPuts {
		return bulk, nil
	}
	imported = make([]plan.Change, 0, len(bulk)-n)
	puts = make([]plan.Change, 0, n)
	for _, ch := range bulk {
		if alone(ch) {
			puts = append(puts, ch)
		} else {
			imported = append(imported, ch)
		}
	}
	return imported, puts
}

// putAll PUTs permissions and topic permissions, putWorkers at a time,
// after the import that made their users, vhosts and exchanges. Each one
// the broker answers is done, and confirmed (the check after the apply
// does not read it again). After a failure no more are sent; those sent
// finish.
func (a *applier) putAll(ctx context.Context, puts []plan.Change) error {
	if len(puts) == 0 {
		return nil
	}
	if err := a.check(ctx); err != nil {
		return a.fail(err)
	}
	failed, errs, interrupted := a.each(puts, putWorkers, true, func(ch plan.Change) error {
		if err := a.c.putObject(ctx, ch.After); err != nil {
			return err
		}
		a.confirmed("PUT", ch)
		return nil
	})
	if len(failed) > 0 {
		return a.fail(errors.Join(errs...), failed...)
	}
	if interrupted {
		return a.fail(ErrInterrupted)
	}
	return nil
}

// each runs do for the changes, workers at a time, in their order, until
// the apply is asked to stop, or (firstFailure) one fails: those sent
// finish. It returns the changes that failed, each error naming its
// change, and whether it stopped before sending them all because asked to.
func (a *applier) each(changes []plan.Change, workers int, firstFailure bool, do func(plan.Change) error) (failed []plan.Change, errs []error, interrupted bool) {
	out := make([]error, len(changes))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	var anyFailed atomic.Bool
	for i, ch := range changes {
		sem <- struct{}{}
		if firstFailure && anyFailed.Load() {
			break
		}
		if a.stopped() {
			interrupted = true
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := do(ch); err != nil {
				out[i] = fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err)
				anyFailed.Store(true)
			}
		}()
	}
	wg.Wait()
	for i, err := range out {
		if err != nil {
			failed = append(failed, changes[i])
			errs = append(errs, err)
		}
	}
	return failed, errs, interrupted
}

// putObject writes one permission or topic permission.
// PUT /api/permissions/{vhost}/{user}
// PUT /api/topic-permissions/{vhost}/{user}
func (c *Client) putObject(ctx context.Context, o definitions.Object) error {
	var path string
	var body any
	switch o := o.(type) {
	case *definitions.Permission:
		path = "/api/permissions/" + esc(o.Vhost) + "/" + esc(o.User)
		body = struct {
			Configure string `json:"configure"`
			Write     string `json:"write"`
			Read      string `json:"read"`
		}{o.Configure, o.Write, o.Read}
	case *definitions.TopicPermission:
		path = "/api/topic-permissions/" + esc(o.Vhost) + "/" + esc(o.User)
		body = struct {
			Exchange string `json:"exchange"`
			Write    string `json:"write"`
			Read     string `json:"read"`
		}{o.Exchange, o.Write, o.Read}
	default:
		return fmt.Errorf("rabbitmq: cannot PUT %T alone", o)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, path, data, nil)
}

// tooLargeBody reports whether the broker refused a request for its
// body's size, before reading it: RabbitMQ 4.0.5 and 4.3.6 answer 400
// "Exceeded HTTP request body size limit" past management.http.max_body_size
// (3.10.8 imports a larger body); a proxy in front answers 413.
func tooLargeBody(ae *APIError) bool {
	return ae != nil && (ae.Status == http.StatusRequestEntityTooLarge ||
		ae.Status == http.StatusBadRequest && strings.Contains(ae.Reason+ae.Type, "body size limit"))
}

// importParts splits changes, in the import's order, into runs whose
// document is at most ImportChunk bytes: by count at first, from the size
// of the whole, then in halves where a run is still too large.
func (a *applier) importParts(changes []plan.Change) ([][]plan.Change, error) {
	limit := a.c.importChunk()
	whole, err := importDocument(changes, a.opts.Resolve)
	if err != nil {
		return nil, a.fail(err, changes...)
	}
	if len(whole) <= limit || len(changes) == 1 {
		return [][]plan.Change{changes}, nil
	}
	n := min(len(changes), (len(whole)+limit-1)/limit)
	var out [][]plan.Change
	var split func(run []plan.Change) error
	split = func(run []plan.Change) error {
		if len(run) > 1 {
			body, err := importDocument(run, a.opts.Resolve)
			if err != nil {
				return a.fail(err, run...)
			}
			if len(body) > limit {
				half := len(run) / 2
				if err := split(run[:half]); err != nil {
					return err
				}
				return split(run[half:])
			}
		}
		out = append(out, run)
		return nil
	}
	size := (len(changes) + n - 1) / n
	for run := range slices.Chunk(changes, size) {
		if err := split(run); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// imported counts the changes of an import already done.
func (a *applier) imported(changes []plan.Change) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	in := make(map[changeID]bool, len(changes))
	for _, ch := range changes {
		in[idOf(ch)] = true
	}
	n := 0
	for _, ch := range a.doneList {
		if in[idOf(ch)] {
			n++
		}
	}
	return n
}

// importRank is the place of an object's kind among the imports of a
// split apply: each after what it needs. Topic permissions come after the
// exchanges they name: RabbitMQ 4.3.2 and later refuse one on an exchange
// that does not exist (no_such_exchange), and import exchanges first
// within one document (4.0.5 imported topic permissions first, and kept
// one whatever the exchange).
func importRank(o definitions.Object) int {
	switch o.(type) {
	case *definitions.User:
		return 0
	case *definitions.Vhost:
		return 1
	case *definitions.Permission:
		return 2
	case *definitions.Parameter:
		return 4
	case *definitions.GlobalParameter:
		return 5
	case *definitions.Policy:
		return 6
	case *definitions.Queue:
		return 7
	case *definitions.Exchange:
		return 8
	case *definitions.TopicPermission:
		return 9
	case *definitions.Binding:
		return 10
	}
	return 11
}

type applier struct {
	c         *Client
	plan      *plan.Plan
	checker   *Client // an administrator that remains, once found
	checkErr  error
	checkOnce sync.Once
	opts      ApplyOptions
	total     int
	mu        sync.Mutex
	doneList  []plan.Change // what remains is worked out only if the apply fails
}

// changeID is what tells a plan's changes apart in done and fail.
type changeID struct {
	action plan.Action
	step   plan.Step
	addr   plan.Addr
}

func idOf(ch plan.Change) changeID { return changeID{ch.Action, ch.Step, ch.Addr} }

func (a *applier) done(what string, chs ...plan.Change) { a.report(what, false, chs) }

// confirmed is done for changes the broker answered for one by one.
func (a *applier) confirmed(what string, chs ...plan.Change) { a.report(what, true, chs) }

func (a *applier) report(what string, confirmed bool, chs []plan.Change) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.doneList = append(a.doneList, chs...)
	if a.opts.Progress != nil {
		a.opts.Progress(Progress{What: what, Changes: chs, Done: len(a.doneList), Total: a.total, Confirmed: confirmed})
	}
}

// fail is the ApplyError of a failed apply: what remains is the plan's
// changes less those done (each taking off its first match) and less those
// that failed. It is worked out here, once, and not as changes are done:
// an import of 41,200 objects spent 56 ms keeping it up to date after the
// broker answered.
func (a *applier) fail(err error, failed ...plan.Change) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	pending := make(map[changeID]int, len(a.doneList))
	for _, ch := range a.doneList {
		pending[idOf(ch)]++
	}
	isFailed := make(map[changeID]bool, len(failed))
	for _, f := range failed {
		isFailed[idOf(f)] = true
	}
	var remaining []plan.Change
	for _, r := range a.plan.Changes {
		id := idOf(r)
		if pending[id] > 0 {
			pending[id]--
			continue
		}
		if !isFailed[id] {
			remaining = append(remaining, r)
		}
	}
	return &plan.ApplyError{Done: a.doneList, Failed: failed, Remaining: remaining, Err: err}
}

// checkMessages refuses a plan that deletes vhosts whose queues hold
// messages, or a number of messages that could not be known, unless asked
// to destroy them.
func (a *applier) checkMessages(p *plan.Plan) error {
	destroys := p.DestroysMessages()
	if len(destroys) == 0 || a.opts.DestroyMessages {
		return nil
	}
	var parts []string
	for _, ch := range destroys {
		n, unknown := ch.Takes.Messages(), ch.Takes.Uncountable()
		switch {
		case len(unknown) == 0:
			parts = append(parts, fmt.Sprintf("%s (its queues hold %d messages)", ch.Addr, n))
		default:
			q := make([]string, len(unknown))
			for i, u := range unknown {
				q[i] = strconv.Quote(u)
			}
			held := ""
			if n > 0 {
				held = fmt.Sprintf("hold at least %d messages, and ", n)
			}
			why := ""
			for _, qm := range ch.Takes.Queues {
				if qm.Unknown && !qm.AtApply && qm.Why != "" {
					why = ": " + qm.Why
					break
				}
			}
			parts = append(parts, fmt.Sprintf("%s (its queues %sthe message count of %s could not be known%s)", ch.Addr, held, strings.Join(q, ", "), why))
		}
	}
	return fmt.Errorf("the plan deletes %s, and its messages with it; nothing was changed. Drain the queues, or run again with --destroy-messages to destroy them", strings.Join(parts, ", "))
}

// deleteOne deletes what a change deletes. Without DestroyMessages a queue
// goes only when empty, and a vhost only after each of its queues went
// empty: the broker's own check, whatever the plan's message counts said.
func (a *applier) deleteOne(ctx context.Context, ch plan.Change) error {
	switch o := ch.Before.(type) {
	case *definitions.Queue:
		err := a.c.deleteQueue(ctx, o, a.opts.DestroyMessages)
		var ne *NotEmptyError
		if errors.As(err, &ne) {
			return fmt.Errorf("%w; warren deletes only empty queues (--destroy-messages destroys them)", err)
		}
		return err
	case *definitions.Vhost:
		if ch.Action == plan.Delete {
			// The plan leaves protected vhosts alone; one protected since
			// is refused before anything in it is touched.
			if err := a.c.checkVhostUnprotected(ctx, o.Name); err != nil {
				return err
			}
		}
		if ch.Action == plan.Delete && !a.opts.DestroyMessages {
			deleted, err := a.c.emptyVhostQueues(ctx, o.Name)
			if err == nil {
				err = a.c.deleteObject(ctx, ch.Before)
			}
			return emptiedFirst(err, deleted)
		}
	}
	return a.c.deleteObject(ctx, ch.Before)
}

// checkReplace refuses replacements unless asked for, and the replacement
// of a queue that holds messages in any case.
func (a *applier) checkReplace(ctx context.Context, replaced []plan.Change) error {
	if len(replaced) == 0 {
		return nil
	}
	if !a.opts.Replace {
		names := make([]string, len(replaced))
		for i, ch := range replaced {
			names[i] = ch.Addr.String()
		}
		return fmt.Errorf("the plan replaces %s (deleted and created again, which the broker needs for this change); run again with --replace to allow it", strings.Join(names, ", "))
	}
	for _, ch := range replaced {
		q, ok := ch.Before.(*definitions.Queue)
		if !ok {
			continue
		}
		if a.opts.DestroyMessages {
			continue
		}
		n, err := a.c.QueueMessages(ctx, q.Vhost, q.Name)
		if err != nil {
			return err
		}
		if n.Messages > 0 {
			return fmt.Errorf("%s holds %d messages; warren replaces only empty queues (drain it, change the files back, or run again with --destroy-messages to destroy them)", ch.Addr, n.Messages)
		}
		if !n.Known && !n.NoAccess { // without access now, it is counted when deleted, after access is borrowed
			return fmt.Errorf("%s may hold messages (%s); warren replaces only queues known to be empty (drain it, change the files back, or run again with --destroy-messages to destroy them)", ch.Addr, n.Why)
		}
	}
	return nil
}

// deleteAll runs the deletions in plan order: a run of plain deletions of
// one kind goes a few at a time, the next run only after it, and so does a
// run of grants taken back (each a permission of the acting user on a
// vhost of its own: an apply that creates 100 vhosts takes back 100 grants
// RabbitMQ gave it). The default guest user is deleted on its own, in its
// place: last of all, it may be the user warren is logged in as.
func (a *applier) deleteAll(ctx context.Context, deletes []plan.Change) error {
	var refused []plan.Change
	var refusedErr error
	together := func(s plan.Step) bool { return s == plan.StepDelete || s.TakesBackGrant() }
	for len(deletes) > 0 {
		n := 1
		for n < len(deletes) && deletes[n].Kind == deletes[0].Kind && deletes[n].Step == deletes[0].Step && together(deletes[0].Step) {
			n++
		}
		if err := a.check(ctx); err != nil {
			return a.fail(err, refused...)
		}
		run := deletes[:n]
		deletes = deletes[n:]
		var kept []plan.Change
		for _, ch := range run {
			if a.locksOut(ch) {
				if err := a.findChecker(ctx); err != nil {
					refused = append(refused, ch)
					refusedErr = err
					continue
				}
			}
			kept = append(kept, ch)
		}
		run = kept
		failed, errs, interrupted := a.each(run, a.opts.Workers, false, func(ch plan.Change) error {
			err := a.deleteOne(ctx, ch)
			if NotFound(err) {
				err = nil // already gone: done
			}
			if err != nil {
				return err
			}
			a.done("delete", ch)
			if u, ok := ch.Before.(*definitions.User); ok && u.Name == a.opts.Acting {
				a.switchTo(a.checker)
			}
			return nil
		})
		if len(failed) > 0 {
			return a.fail(errors.Join(errs...), append(failed, refused...)...)
		}
		if interrupted || a.stopped() {
			return a.fail(ErrInterrupted, refused...)
		}
	}
	if len(refused) > 0 {
		names := make([]string, len(refused))
		for i, ch := range refused {
			names[i] = ch.Addr.String()
		}
		return a.fail(fmt.Errorf("not deleted: %s: %w", strings.Join(names, ", "), refusedErr), refused...)
	}
	return nil
}

// locksOut reports whether a deletion could leave nobody able to log in
// as an administrator: that of an administrator or of the acting user.
func (a *applier) locksOut(ch plan.Change) bool {
	u, ok := ch.Before.(*definitions.User)
	return ok && ch.Action == plan.Delete && (u.Name == a.opts.Acting || slices.Contains(u.Tags, "administrator"))
}

// findChecker logs in as an administrator that remains after the plan:
// the acting user when the plan keeps it, else one of the files'
// administrators with a known password.
func (a *applier) findChecker(ctx context.Context) error {
	a.checkOnce.Do(func() {
		deleted := map[string]bool{}
		for _, ch := range a.plan.Changes {
			if ch.Kind == definitions.KindUser && ch.Action == plan.Delete {
				deleted[ch.Before.(*definitions.User).Name] = true
			}
		}
		var tried []string
		try := func(cl *Client, name string) bool {
			tried = append(tried, fmt.Sprintf("%q", name))
			w, err := cl.Whoami(ctx)
			if err == nil && slices.Contains(w.Tags, "administrator") {
				a.checker = cl
				return true
			}
			return false
		}
		if a.opts.Acting != "" && !deleted[a.opts.Acting] && try(a.c, a.opts.Acting) {
			return
		}
		for _, name := range slices.Sorted(maps.Keys(a.opts.Admins)) {
			if !deleted[name] && try(a.c.As(name, a.opts.Admins[name]), name) {
				return
			}
		}
		why := "the files define no administrator with a password warren can read (a password_hash alone cannot be checked)"
		if len(tried) > 0 {
			why = "none of " + strings.Join(tried, ", ") + " could log in as an administrator, and the files define no other administrator with a password warren can read"
		}
		a.checkErr = fmt.Errorf("it could leave nobody able to log in as an administrator: %s. Give an administrator in the files a password ({env} or {file}), or log in as one the files keep", why)
	})
	return a.checkErr
}

// switchTo makes the applier log in as another client's user.
func (a *applier) switchTo(other *Client) {
	if other == nil || other == a.c {
		return
	}
	a.mu.Lock()
	a.c = other
	a.mu.Unlock()
	if a.opts.LoggedIn != nil {
		a.opts.LoggedIn(other.cfg.Username, other.cfg.Password)
	}
}

func without(all, some []plan.Change) []plan.Change {
	return slices.DeleteFunc(slices.Clone(all), func(c plan.Change) bool {
		return slices.ContainsFunc(some, func(s plan.Change) bool { return s.Addr == c.Addr })
	})
}

func limitsDiffer(ch plan.Change) bool {
	after := ch.After.(*definitions.User).Limits
	var before map[string]int64
	if ch.Before != nil {
		before = ch.Before.(*definitions.User).Limits
	}
	if len(after) != len(before) {
		return true
	}
	for k, v := range after {
		if w, ok := before[k]; !ok || w != v {
			return true
		}
	}
	return false
}

// importDocument builds the partial definitions document for the broker's
// import: the objects as the plan wants them, with each user's password
// resolved (or, where the password does not change, the broker's own hash,
// since an update without one would clear it).
func importDocument(changes []plan.Change, resolve func(*definitions.Secret) (string, error)) ([]byte, error) {
	doc := &definitions.Document{}
	for _, ch := range changes {
		switch o := ch.After.(type) {
		case *definitions.User:
			u := *o
			u.Limits, u.ActiveMQ, u.Meta = nil, nil, definitions.Meta{}
			changes := fieldNames(ch)
			switch {
			case u.Password != nil && (ch.Action == plan.Create || slices.Contains(changes, "password")):
				pw, err := resolve(u.Password)
				if err != nil {
					return nil, fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err)
				}
				u.Password, u.PasswordHash, u.HashingAlgorithm = &definitions.Secret{Literal: &pw}, nil, ""
			case u.PasswordHash != nil && (ch.Action == plan.Create || slices.Contains(changes, "password_hash")):
				u.Password = nil
			case ch.Before != nil:
				live := ch.Before.(*definitions.User)
				u.Password, u.PasswordHash, u.HashingAlgorithm = nil, live.PasswordHash, live.HashingAlgorithm
			default:
				u.Password = nil
			}
			doc.Users = append(doc.Users, &u)
		case *definitions.Vhost:
			doc.Vhosts = append(doc.Vhosts, boot.ImportVhost(o))
		case *definitions.Permission:
			doc.Permissions = append(doc.Permissions, o)
		case *definitions.TopicPermission:
			doc.TopicPermissions = append(doc.TopicPermissions, o)
		case *definitions.Parameter:
			p := *o
			v, err := definitions.ResolveValue(p.Value, resolve)
			if err != nil {
				return nil, fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err)
			}
			p.Value = v
			doc.Parameters = append(doc.Parameters, &p)
		case *definitions.GlobalParameter:
			p := *o
			v, err := definitions.ResolveValue(p.Value, resolve)
			if err != nil {
				return nil, fmt.Errorf("%c %s: %w", ch.Action, ch.Addr, err)
			}
			p.Value = v
			doc.GlobalParameters = append(doc.GlobalParameters, &p)
		case *definitions.Policy:
			doc.Policies = append(doc.Policies, o)
		case *definitions.Queue:
			doc.Queues = append(doc.Queues, o)
		case *definitions.Exchange:
			doc.Exchanges = append(doc.Exchanges, o)
		case *definitions.Binding:
			doc.Bindings = append(doc.Bindings, o)
		}
	}
	return doc.EncodeCompactJSON(), nil
}

func fieldNames(ch plan.Change) []string {
	out := make([]string, len(ch.Fields))
	for i, f := range ch.Fields {
		out[i] = f.Field
	}
	return out
}

// setUserLimits makes a user's limits what the plan says.
func (c *Client) setUserLimits(ctx context.Context, ch plan.Change) error {
	u := ch.After.(*definitions.User)
	for _, name := range slices.Sorted(maps.Keys(u.Limits)) {
		body, _ := json.Marshal(map[string]int64{"value": u.Limits[name]})
		// PUT /api/user-limits/{user}/{name}
		if err := c.do(ctx, http.MethodPut, "/api/user-limits/"+esc(u.Name)+"/"+esc(name), body, nil); err != nil {
			return err
		}
	}
	if ch.Before != nil {
		for name := range ch.Before.(*definitions.User).Limits {
			if _, keep := u.Limits[name]; keep {
				continue
			}
			// DELETE /api/user-limits/{user}/{name}
			if err := c.do(ctx, http.MethodDelete, "/api/user-limits/"+esc(u.Name)+"/"+esc(name), nil, nil); err != nil && !NotFound(err) {
				return err
			}
		}
	}
	return nil
}
