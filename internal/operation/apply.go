package operation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// ApplyRequest asks to make a target match the files.
type ApplyRequest struct {
	Target  seeders.Target
	Desired Desired
	Options plan.Options
	// Given are the options the user gave (refused when the target
	// cannot honour them).
	Given map[seeders.Option]bool
	// Saved, when set, is carried out only when the plan made now is the
	// same; SavedName names it and Remake the command that makes it
	// again, in the refusal.
	Saved     *plan.SavedPlan
	SavedName string
	Remake    string
	// Yes carries the plan out without asking; DryRun shows it only.
	Yes, DryRun bool
	// BreakLock takes the broker's lock from an apply that is gone.
	BreakLock bool
	// Reboot asks the target to apply now (Amazon MQ for ActiveMQ).
	Reboot bool
	// Early, when set, opened the target (OpenEarlyLocked) and may have
	// written the apply lock, which Apply then confirms; Apply catches
	// interrupts from its start, in its stead.
	Early *Early
}

// ApplyResult is an apply's outcome.
type ApplyResult struct {
	Plan *plan.Plan
	// Applied is true when the plan was carried out (not a dry run, not
	// empty).
	Applied bool
}

// BeforeApplyHook, when set (by tests), runs after the lock is taken and
// before the broker is read under it (again, after a confirmation).
var BeforeApplyHook func()

// Apply is apply's path from the desired definitions on: check them
// against the broker's version, make the plan, refuse a saved plan that is
// no longer the plan, show it, confirm, lock, apply, and check the result.
// Interrupted (SIGINT, SIGTERM), it ends the step under way and reports;
// a second signal abandons the step.
func Apply(ctx context.Context, ui UI, req ApplyRequest) (*ApplyResult, error) {
	t := req.Target
	applyCtx, stop := ctx, (<-chan struct{})(nil)
	lw, ok := t.(lockWhiler)
	yesLock := ok && req.Yes && !req.DryRun
	if yesLock {
		// The lock may be held already (OpenEarlyLocked): interrupts are
		// caught from here on, and Early's catcher hands over.
		var release func()
		applyCtx, stop, release = onInterrupt(ctx, ui.Log())
		defer release()
	}
	req.Early.handOff()
	lockedEarly := req.Early.Locked()
	// Waiting for the broker (or a cluster's nodes) happened in Connect:
	// they are waited for before warren decides which of them to trust.
	id, desired, pl, err := preflight(applyCtx, ui, t, t.Name(), req.Desired, req.Options, req.Given)
	if err != nil {
		return nil, err
	}
	opts := pl.opts
	shown := pl // the plan shown says what it changes of access
	shown.withAccess = true
	// With Yes nobody reviews the plan before it is carried out: the lock
	// is taken first and the plan read once, under it, instead of read,
	// locked and read again. The read runs while the lock waits to see off
	// a concurrent taker, so it costs an apply with nothing to do two small
	// requests, and it spares one with changes a whole read.
	var p *plan.Plan
	locked := false
	if yesLock {
		select {
		case <-stop: // before the lock (an early one is given back)
			return nil, errors.New("interrupted: nothing was changed")
		default:
		}
		unlock, err := lw.LockWhile(applyCtx, req.BreakLock, ui.Log(), func(ctx context.Context) error {
			if BeforeApplyHook != nil && !lockedEarly { // OpenEarlyLocked ran it
				BeforeApplyHook()
			}
			var err error
			p, err = shown.plan(ctx, desired)
			return err
		})
		if err != nil {
			return nil, SecretError(ui, desired, err)
		}
		defer releaseLock(ui, unlock)
		locked = true
	} else if p, err = shown.plan(ctx, desired); err != nil {
		return nil, SecretError(ui, desired, err)
	}
	res := &ApplyResult{Plan: p}
	if req.Saved != nil {
		now := NewSavedPlan(id, opts, p)
		now.Files = req.Saved.Files
		if diffs := req.Saved.Differences(now); len(diffs) > 0 {
			logf(ui, "warren: %s is not the plan apply would carry out now; nothing was applied:", req.SavedName)
			for _, d := range diffs {
				logf(ui, "  %s", d)
			}
			logf(ui, "Run %s again and review the new plan.", req.Remake)
			return res, &ReportedError{Summary: fmt.Sprintf("%s is not the plan apply would carry out now; nothing was applied", req.SavedName)}
		}
	}
	ui.Plan(p)
	showNotes(ui, t, p, opts)
	if req.DryRun {
		return res, nil
	}
	applyOpts := seeders.ApplyOptions{Options: opts, Admins: filesAdmins(desired), Reboot: req.Reboot}
	if p.Empty() {
		// Only the owner's record may change: under the lock, as every write.
		if l, ok := t.(seeders.Locker); ok && !locked && p.RecordChanged() {
			unlock, err := l.Lock(ctx, req.BreakLock, ui.Log())
			if err != nil {
				return res, err
			}
			defer releaseLock(ui, unlock)
		}
		if err := writeRecords(ctx, ui, t, p); err != nil {
			return res, err
		}
		return res, finish(ctx, ui, t, applyOpts)
	}
	if !req.Yes {
		if err := ui.Confirm(); err != nil {
			return res, err
		}
	}
	if !locked {
		var release func()
		applyCtx, stop, release = onInterrupt(ctx, ui.Log())
		defer release()
	}
	if l, ok := t.(seeders.Locker); ok && !locked {
		unlock, err := l.Lock(applyCtx, req.BreakLock, ui.Log())
		if err != nil {
			return res, err
		}
		defer releaseLock(ui, unlock)
		if BeforeApplyHook != nil {
			BeforeApplyHook()
		}
		// Read again, under the lock: the plan shown must still be what the
		// broker needs (someone may have changed it while the plan was read).
		again, err := pl.plan(applyCtx, desired)
		if err != nil {
			return res, SecretError(ui, desired, err)
		}
		if again.LiveDigest != p.LiveDigest {
			return res, errors.New("the broker was changed by someone else since the plan was made; nothing was applied: run warren apply again to see the new plan")
		}
		// The records as they are under the lock (another owner's apply may
		// have written its own since).
		p.Record, p.RecordBefore, p.Released = again.Record, again.RecordBefore, again.Released
	}
	// The connections to close are listed before the apply too: those of
	// a user the apply deletes are closed by the broker, and the apply
	// checks that they were.
	var open []seeders.Connection
	if len(p.Disconnect) > 0 {
		if open, err = closerOf(t).Connections(applyCtx, p.Disconnect); err != nil {
			return res, err
		}
	}
	heard := &confirmations{}
	applyOpts.Progress, applyOpts.Stop = heard.hear(ui.Progress), stop
	err = t.Apply(applyCtx, p, applyOpts)
	ui.ProgressDone()
	if err != nil {
		recheckFailed(applyCtx, ui, pl, desired, p, err)
		if len(p.Disconnect) > 0 {
			logf(ui, "No connections were closed: the apply did not finish.")
		}
		return res, reportFailure(ui, err)
	}
	res.Applied = true
	if err := writeRecords(ctx, ui, t, p); err != nil {
		return res, err
	}
	if err := finish(ctx, ui, t, applyOpts); err != nil {
		return res, err
	}
	if err := closeConnections(ctx, ui, t, p.Disconnect, open); err != nil {
		return res, err
	}
	return res, verify(ctx, ui, pl, desired, p, heard.set)
}

// confirmations are the changes the broker answered for one by one
// (seeders.Progress.Confirmed), as an apply reports them.
type confirmations struct {
	mu  sync.Mutex
	set map[changeKey]bool
}

type changeKey struct {
	action plan.Action
	step   plan.Step
	addr   plan.Addr
}

func keyOf(ch plan.Change) changeKey { return changeKey{ch.Action, ch.Step, ch.Addr} }

// hear passes every report on to next, keeping the confirmed changes.
func (c *confirmations) hear(next func(seeders.Progress)) func(seeders.Progress) {
	return func(pr seeders.Progress) {
		if pr.Confirmed {
			c.mu.Lock()
			if c.set == nil {
				c.set = map[changeKey]bool{}
			}
			for _, ch := range pr.Changes {
				c.set[keyOf(ch)] = true
			}
			c.mu.Unlock()
		}
		next(pr)
	}
}

// closerOf is the target's ConnectionCloser; a target without one lists
// close-connections in Unsupported, so it is never asked.
func closerOf(t seeders.Target) seeders.ConnectionCloser {
	c, _ := t.(seeders.ConnectionCloser)
	return c
}

// closeConnections closes, after an apply, the connections who names:
// those open now and those open before the apply (a deleted user's, which
// the broker closed), and says how many closed, user by user.
func closeConnections(ctx context.Context, ui UI, t seeders.Target, who []plan.Disconnect, before []seeders.Connection) error {
	if len(who) == 0 {
		return nil
	}
	c := closerOf(t)
	now, err := c.Connections(ctx, who)
	if err != nil {
		return fmt.Errorf("the apply is done, but its connections were not closed: %w", err)
	}
	conns := slices.Clone(before)
	for _, n := range now {
		if !slices.Contains(conns, n) {
			conns = append(conns, n)
		}
	}
	if err := c.CloseConnections(ctx, conns); err != nil {
		return fmt.Errorf("the apply is done, but not every connection closed: %w", err)
	}
	if len(conns) == 0 {
		logf(ui, "No connections to close: none were open.")
		return nil
	}
	per := map[string]int{}
	for _, conn := range conns {
		per[conn.User]++
	}
	var parts []string
	for _, u := range slices.Sorted(maps.Keys(per)) {
		parts = append(parts, fmt.Sprintf("user %q %d", u, per[u]))
	}
	logf(ui, "Closed %s: %s.", Plural(len(conns), "connection"), strings.Join(parts, ", "))
	return nil
}

// lockWhiler takes the broker's lock running a function once the lock is
// written (rabbitmq.Target.LockWhile).
type lockWhiler interface {
	LockWhile(ctx context.Context, breakLock bool, warn io.Writer, while func(context.Context) error) (func() error, error)
}

// releaseLock gives the broker's lock back, saying so when it cannot.
func releaseLock(ui UI, unlock func() error) {
	if err := unlock(); err != nil {
		logf(ui, "warren: releasing the broker's lock: %v", err)
	}
}

// finish runs what a target does after an apply (a reboot, when asked).
func finish(ctx context.Context, ui UI, t seeders.Target, opts seeders.ApplyOptions) error {
	f, ok := t.(seeders.Finisher)
	if !ok {
		return nil
	}
	msg, err := f.Finish(ctx, opts)
	if msg != "" {
		logf(ui, "%s", msg)
	}
	return err
}

// onInterrupt catches SIGINT and SIGTERM while an apply runs: the first
// closes stop (the apply ends the step under way, takes back its
// temporary grants and reports), a second cancels the returned context
// (the request in flight is abandoned; the grants are still taken back).
func onInterrupt(parent context.Context, w io.Writer) (context.Context, <-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(parent)
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(w, "\nwarren: %v: stopping after the step under way, then taking back temporary grants (again to stop at once)\n", s)
			close(stop)
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(w, "\nwarren: %v: abandoning the step under way\n", s)
			cancel()
		case <-done:
		}
	}()
	return ctx, stop, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// verify reads the broker again after an apply: it must now match the
// files. When the apply removed the user warren logged in as (guest), the
// target already acts as the administrator apply checked with. Passwords
// a cloud API never returns are not compared again. What the broker
// confirmed change by change (a PUT of one permission, answered after it
// was made) is not read again: only the kinds of the other changes are.
func verify(ctx context.Context, ui UI, pl planner, desired *definitions.Document, applied *plan.Plan, confirmed map[changeKey]bool) error {
	t := pl.t
	counts := applied.Counts()
	logf(ui, "Applied: %d created, %d updated, %d replaced, %d deleted.",
		counts[plan.Create], counts[plan.Update], counts[plan.Replace], counts[plan.Delete])
	id, err := t.Identity(ctx)
	if err == nil && id.ActingUser != "" && removedUser(applied, id.ActingUser) {
		err = fmt.Errorf("user %q, which warren logged in as, was removed", id.ActingUser)
	}
	if err != nil {
		return reported(ui, "cannot check the result: %v", err)
	}
	// Only what the plan changed is read again: the rest matched moments
	// ago, and what the broker confirmed it made is made.
	unconfirmed := &plan.Plan{}
	for _, ch := range applied.Changes {
		if !confirmed[keyOf(ch)] {
			unconfirmed.Changes = append(unconfirmed.Changes, ch)
		}
	}
	if len(unconfirmed.Changes) == 0 {
		return matches(ui, applied.LeftDiffering())
	}
	pl.opts.UpdatePasswords = false
	after, err := pl.plan(ctx, changedKinds(desired, unconfirmed))
	if err != nil {
		return fmt.Errorf("reading the broker after the apply: %w", err)
	}
	if !after.Empty() {
		logf(ui, "warren: the broker did not take everything; it still differs from the files:")
		renderLog(ui, after)
		return &ReportedError{Summary: "the broker did not take everything; it still differs from the files"}
	}
	return matches(ui, after.LeftDiffering())
}

// matches says the broker matches the files, but for n objects the plan
// left alone.
func matches(ui UI, n int) error {
	if n > 0 {
		logf(ui, "The broker matches the files, but for %s left alone (see the plan).", Plural(n, "object"))
		return nil
	}
	logf(ui, "The broker matches the files.")
	return nil
}

// recheckFailed reads the broker again after a failed apply, for the kinds
// of the changes that failed: RabbitMQ's import is not atomic, and a
// failed one may have made some of what it held. A failed creation or
// update the broker now matches the files in is moved to Done, so that
// the report is true. When the broker cannot be read, the report stays as
// it was, and says so.
func recheckFailed(applyCtx context.Context, ui UI, pl planner, desired *definitions.Document, p *plan.Plan, err error) {
	var ae *plan.ApplyError
	if !errors.As(err, &ae) || len(ae.Failed) == 0 {
		return
	}
	if applyCtx.Err() != nil { // stopped at once (a second Ctrl-C): no more requests
		logf(ui, "warren: stopped at once: some changes listed as failed may have been made")
		return
	}
	ctx, cancel := context.WithTimeout(applyCtx, 30*time.Second)
	defer cancel()
	// The plan's own options: with update-passwords, a password the
	// target cannot read back (Amazon MQ for ActiveMQ) stays failed.
	after, rerr := pl.plan(ctx, changedKinds(desired, &plan.Plan{Changes: ae.Failed}))
	if rerr != nil {
		logf(ui, "warren: reading the broker again to see what the failed step made: %v (some changes listed as failed may have been made)", rerr)
		return
	}
	pending := make(map[plan.Addr]bool, len(after.Changes))
	for _, ch := range after.Changes {
		pending[ch.Addr] = true
	}
	var failed []plan.Change
	for _, ch := range ae.Failed {
		if (ch.Step == plan.StepCreate || ch.Step == plan.StepUpdate) && !pending[ch.Addr] {
			ae.Done = append(ae.Done, ch)
			continue
		}
		failed = append(failed, ch)
	}
	if len(failed) == len(ae.Failed) {
		return
	}
	ae.Failed = failed
	// Done in the plan's order, as it was made.
	type id struct {
		action plan.Action
		step   plan.Step
		addr   plan.Addr
	}
	order := make(map[id]int, len(p.Changes))
	for i, ch := range p.Changes {
		order[id{ch.Action, ch.Step, ch.Addr}] = i
	}
	slices.SortStableFunc(ae.Done, func(a, b plan.Change) int {
		return cmp.Compare(order[id{a.Action, a.Step, a.Addr}], order[id{b.Action, b.Step, b.Addr}])
	})
}

// changedKinds is desired cut down to the kinds a plan changed, and those
// its deletions and replacements may change on the broker besides
// (sideKinds).
func changedKinds(desired *definitions.Document, p *plan.Plan) *definitions.Document {
	var kinds []definitions.Kind
	add := func(k definitions.Kind) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for _, ch := range p.Changes {
		add(ch.Kind)
		// A vhost-limits parameter may come from limits inside a vhost.
		if ch.Kind == definitions.KindParameter {
			add(definitions.KindVhost)
		}
		if ch.Action == plan.Delete || ch.Action == plan.Replace {
			for _, k := range sideKinds(ch.Kind) {
				add(k)
			}
		}
	}
	cut := *desired
	definitions.Select(&cut, "", kinds)
	return &cut
}

// sideKinds are the kinds the broker changes too when it deletes an object
// of kind k (a replacement deletes it first): an exchange's bindings, and
// on RabbitMQ 4.3 its topic permissions; a queue's bindings; a user's
// permissions and topic permissions; everything in a vhost. The check after
// an apply reads them again, so that what went with a deleted object and
// should not have is seen.
func sideKinds(k definitions.Kind) []definitions.Kind {
	switch k {
	case definitions.KindExchange:
		return []definitions.Kind{definitions.KindBinding, definitions.KindTopicPermission}
	case definitions.KindQueue:
		return []definitions.Kind{definitions.KindBinding}
	case definitions.KindUser:
		return []definitions.Kind{definitions.KindPermission, definitions.KindTopicPermission}
	case definitions.KindVhost:
		var in []definitions.Kind
		for _, k := range definitions.Kinds {
			if k != definitions.KindUser && k != definitions.KindVhost && k != definitions.KindGlobalParameter {
				in = append(in, k)
			}
		}
		return in
	}
	return nil
}

func removedUser(p *plan.Plan, name string) bool {
	for _, ch := range p.Changes {
		if ch.Kind == definitions.KindUser && ch.Action == plan.Delete && ch.Before.(*definitions.User).Name == name {
			return true
		}
	}
	return false
}

// filesAdmins are the files' administrators whose password warren can
// read, by name: apply logs in as one of them before deleting an
// administrator or the user it logs in as.
func filesAdmins(d *definitions.Document) map[string]string {
	out := map[string]string{}
	for _, u := range d.Users {
		if u.Password == nil || !slices.Contains(u.Tags, "administrator") {
			continue
		}
		if pw, err := definitions.ResolveSecret(u.Password); err == nil {
			out[u.Name] = pw
		}
	}
	return out
}

// reportFailure shows what a failed apply did, and did not, and returns
// the error as reported.
func reportFailure(ui UI, err error) error {
	var ae *plan.ApplyError
	if !errors.As(err, &ae) {
		return reported(ui, "%v", err)
	}
	w := ui.Log()
	summary := fmt.Sprintf("the apply stopped: %v", ae.Err)
	fmt.Fprintf(w, "warren: %s\n", summary)
	section := func(title string, chs []plan.Change) {
		if len(chs) == 0 {
			return
		}
		fmt.Fprintf(w, "%s (%d):\n", title, len(chs))
		for _, ch := range chs {
			fmt.Fprintf(w, "  %c %s\n", ch.Action, ch.Addr)
		}
	}
	section("Done", ae.Done)
	section("Failed", ae.Failed)
	section("Not done", ae.Remaining)
	if errors.Is(ae.Err, seeders.ErrInterrupted) {
		fmt.Fprintln(w, "Run warren apply again to finish: it picks up from what the broker has now.")
	} else {
		fmt.Fprintln(w, "Fix the cause and run warren apply again: it picks up from what the broker has now.")
	}
	return &ReportedError{Summary: summary}
}
