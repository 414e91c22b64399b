package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/seeders"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "make a live broker match definitions files (or carry out a plan saved by warren diff -o)",
		ArgsUsage: "FILE|DIR|- ... | PLAN.json",
		Description: "Computes the same plan as warren diff, prints it, asks for confirmation (on a terminal; elsewhere\n" +
			"--yes is required), and carries it out: every creation and update in one partial import (POST\n" +
			"/api/definitions; a vhost whose default queue type changes is PUT first), then what an import cannot do\n" +
			"object by object, deletions last. Afterwards warren reads the broker again and reports anything it did\n" +
			"not take; after a failed step, it reads the broker again to report what was made.\n\n" +
			"Nothing is deleted without --prune, and never the user warren logs in as (except guest, below), built-in\n" +
			"objects or the last administrator. A queue or exchange whose properties cannot change in place is\n" +
			"replaced only with --replace, and a queue only when it holds no messages (unless --destroy-messages). A\n" +
			"vhost deletion lists what it takes with it, and is refused when its queues hold messages unless\n" +
			"--destroy-messages; a pruned queue goes only when empty unless --destroy-messages. When the files define users but\n" +
			"not guest, and guest still has its default password, guest is removed last (--keep-guest keeps it).\n\n" +
			"Two applies never run at once: apply takes a lock on the broker (the global parameter warren-lock, with\n" +
			"its holder, host, pid and time), reads the broker again under it (refusing when someone changed it since\n" +
			"the plan), and releases it at the end. --break-lock takes a lock left by an apply that is gone.\n\n" +
			"Exit codes: 0 success (or nothing to do), 1 error, including a failed or partial apply.",
		Flags: append(append(append(connectionFlags(), cloudFlags(true)...),
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
			&cli.BoolFlag{Name: "prune", Usage: "delete what the broker has and the files do not name (kinds the files manage only)"},
			&cli.BoolFlag{Name: "replace", Usage: "allow replacing queues (empty ones) and exchanges whose properties cannot change in place"},
			&cli.BoolFlag{Name: "keep-guest", Usage: "keep the default guest user even when the files do not define it"},
			&cli.BoolFlag{Name: "break-lock", Usage: "take the broker's apply lock even when another apply holds it (one that is gone; a lock expires on its own after 2m without renewal)"},
			&cli.BoolFlag{Name: "destroy-messages", Usage: "allow deleting messages: a vhost whose queues hold messages, a pruned or replaced queue that holds messages"},
			targetFlag(),
			maxSizeFlag(),
		), waitFlags()...), // cluster.go
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	target, err := parseTarget(c.String("target"))
	if err != nil {
		return err
	}
	saved, err := readSavedPlan(c)
	if err != nil {
		return err
	}
	opts := planOptionsOf(c, target)
	if saved != nil {
		if err := checkFiles(saved); err != nil {
			return err
		}
		// The saved options hold, unless the command line says otherwise:
		// then the plan made now differs from the saved one and is refused.
		opts = overrideOptions(c, saved.Options)
		if target, err = parseTarget(opts.Target); err != nil {
			return err
		}
	}
	desired, err := loadValid(c, target, savedPaths(saved)...)
	if err != nil {
		return err
	}
	t, err := openTarget(c, target, savedURLs(c, saved)...)
	if err != nil {
		return err
	}
	return applyTo(c, t, target, desired, opts, saved, "warren diff -o")
}

// applyTo is apply's own path from the desired definitions on: check
// them against the broker's version, make the plan, refuse a saved plan
// that is no longer the plan (remake names the command that makes it
// again), show it, confirm, lock, apply, and check the result. warren
// migrate apply and finish go through it too.
func applyTo(c *cli.Context, t seeders.Target, target definitions.TargetName, desired *definitions.Document, opts plan.Options, saved *plan.SavedPlan, remake string) error {
	if err := refuseUnsupported(c, t, opts); err != nil {
		return err
	}
	// --wait (and --wait-for) happened in connect: a cluster's nodes are
	// waited for before warren decides which of them to trust.
	id, err := t.Identity(c.Context)
	if err != nil {
		return err
	}
	if err := checkBrokerVersion(c, t, desired, target); err != nil {
		return err
	}
	if err := checkReferences(c, t, desired); err != nil {
		return err
	}
	// With --yes nobody reviews the plan before it is carried out: the
	// lock is taken first and the plan read once, under it, instead of
	// read, locked and read again. The read runs while the lock waits to
	// see off a concurrent taker, so it costs an apply with nothing to do
	// two small requests, and it spares one with changes a whole read.
	ctx, stop := c.Context, (<-chan struct{})(nil)
	var p *plan.Plan
	var text []byte // the plan as text, when made while the lock waited
	locked := false
	if lw, ok := t.(lockWhiler); ok && c.Bool("yes") && !c.Bool("dry-run") {
		var release func()
		ctx, stop, release = onInterrupt(c.Context, c.App.ErrWriter)
		defer release()
		unlock, err := lw.LockWhile(ctx, c.Bool("break-lock"), c.App.ErrWriter, func(ctx context.Context) error {
			if beforeApply != nil {
				beforeApply()
			}
			var err error
			if p, err = makePlan(ctx, t, desired, opts); err == nil {
				// What is left of the lock's wait (from scratch, the
				// reads are quick) prints the plan, in a buffer for now.
				var b bytes.Buffer
				renderTextAs(&b, p, useColor(c.App.Writer))
				text = b.Bytes()
			}
			return err
		})
		if err != nil {
			return secretError(c, desired, err)
		}
		defer releaseLock(c, unlock)
		locked = true
	} else if p, err = makePlan(c.Context, t, desired, opts); err != nil {
		return secretError(c, desired, err)
	}
	observePlan(c, p) // for a fleet's report
	if saved != nil {
		now := newSavedPlan(id, opts, p)
		now.Files = saved.Files
		if diffs := saved.Differences(now); len(diffs) > 0 {
			fmt.Fprintf(c.App.ErrWriter, "warren: %s is not the plan apply would carry out now; nothing was applied:\n", c.Args().First())
			for _, d := range diffs {
				fmt.Fprintf(c.App.ErrWriter, "  %s\n", d)
			}
			fmt.Fprintf(c.App.ErrWriter, "Run %s again and review the new plan.\n", remake)
			return exitCodeError{exitError}
		}
	}
	w := c.App.Writer
	if text != nil {
		w.Write(text)
	} else {
		renderText(w, p)
	}
	printNotes(c.App.Writer, t, p, opts)
	if c.Bool("dry-run") {
		return nil
	}
	applyOpts := seeders.ApplyOptions{Options: opts, Admins: filesAdmins(desired), Reboot: c.Bool("reboot")}
	if p.Empty() {
		return finish(c, t, applyOpts)
	}
	if !c.Bool("yes") {
		if err := confirm(c); err != nil {
			return err
		}
	}
	if !locked {
		var release func()
		ctx, stop, release = onInterrupt(c.Context, c.App.ErrWriter)
		defer release()
	}
	if l, ok := t.(seeders.Locker); ok && !locked {
		unlock, err := l.Lock(ctx, c.Bool("break-lock"), c.App.ErrWriter)
		if err != nil {
			return err
		}
		defer releaseLock(c, unlock)
		if beforeApply != nil {
			beforeApply()
		}
		// Read again, under the lock: the plan shown must still be what the
		// broker needs (someone may have changed it while the plan was read).
		again, err := makePlan(ctx, t, desired, opts)
		if err != nil {
			return secretError(c, desired, err)
		}
		if again.LiveDigest != p.LiveDigest {
			return errors.New("the broker was changed by someone else since the plan was made; nothing was applied: run warren apply again to see the new plan")
		}
	}
	progress := newProgress(c.App.ErrWriter)
	applyOpts.Progress, applyOpts.Stop = progress.report, stop
	err = t.Apply(ctx, p, applyOpts)
	progress.finish()
	if err != nil {
		recheckFailed(c, ctx, t, desired, opts, p, err)
		reportFailure(c.App.ErrWriter, err)
		return exitCodeError{exitError}
	}
	if err := finish(c, t, applyOpts); err != nil {
		return err
	}
	return verify(c, t, desired, opts, p)
}

// lockWhiler takes the broker's lock running a function once the lock is
// written (rabbitmq.Target.LockWhile).
type lockWhiler interface {
	LockWhile(ctx context.Context, breakLock bool, warn io.Writer, while func(context.Context) error) (func() error, error)
}

// releaseLock gives the broker's lock back, saying so when it cannot.
func releaseLock(c *cli.Context, unlock func() error) {
	if err := unlock(); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warren: releasing the broker's lock: %v\n", err)
	}
}

// finish runs what a target does after an apply (a reboot, when asked).
func finish(c *cli.Context, t seeders.Target, opts seeders.ApplyOptions) error {
	f, ok := t.(seeders.Finisher)
	if !ok {
		return nil
	}
	msg, err := f.Finish(c.Context, opts)
	if msg != "" {
		fmt.Fprintln(c.App.ErrWriter, msg)
	}
	return err
}

// beforeApply, when set (by tests), runs after the lock is taken and
// before the broker is read under it (again, after a confirmation).
var beforeApply func()

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

// verify reads the broker again after an apply: it must now match the
// files. When the apply removed the user warren logged in as (guest), the
// target already acts as the administrator apply checked with. Passwords
// a cloud API never returns are not compared again.
func verify(c *cli.Context, t seeders.Target, desired *definitions.Document, opts plan.Options, applied *plan.Plan) error {
	counts := applied.Counts()
	fmt.Fprintf(c.App.ErrWriter, "Applied: %d created, %d updated, %d replaced, %d deleted.\n",
		counts[plan.Create], counts[plan.Update], counts[plan.Replace], counts[plan.Delete])
	id, err := t.Identity(c.Context)
	if err == nil && id.ActingUser != "" && removedUser(applied, id.ActingUser) {
		err = fmt.Errorf("user %q, which warren logged in as, was removed", id.ActingUser)
	}
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warren: cannot check the result: %v\n", err)
		return exitCodeError{exitError}
	}
	// Only what the plan changed is read again: the rest matched moments ago.
	opts.UpdatePasswords = false
	after, err := makePlan(c.Context, t, changedKinds(desired, applied), opts)
	if err != nil {
		return fmt.Errorf("reading the broker after the apply: %w", err)
	}
	if !after.Empty() {
		fmt.Fprintln(c.App.ErrWriter, "warren: the broker did not take everything; it still differs from the files:")
		render.Text(c.App.ErrWriter, after, render.Options{})
		return exitCodeError{exitError}
	}
	if n := after.LeftDiffering(); n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "The broker matches the files, but for %s left alone (see the plan).\n", plural(n, "object"))
		return nil
	}
	fmt.Fprintln(c.App.ErrWriter, "The broker matches the files.")
	return nil
}

// recheckFailed reads the broker again after a failed apply, for the kinds
// of the changes that failed: RabbitMQ's import is not atomic, and a
// failed one may have made some of what it held. A failed creation or
// update the broker now matches the files in is moved to Done, so that
// the report is true. When the broker cannot be read, the report stays as
// it was, and says so.
func recheckFailed(c *cli.Context, applyCtx context.Context, t seeders.Target, desired *definitions.Document, opts plan.Options, p *plan.Plan, err error) {
	var ae *plan.ApplyError
	if !errors.As(err, &ae) || len(ae.Failed) == 0 {
		return
	}
	if applyCtx.Err() != nil { // stopped at once (a second Ctrl-C): no more requests
		fmt.Fprintln(c.App.ErrWriter, "warren: stopped at once: some changes listed as failed may have been made")
		return
	}
	ctx, cancel := context.WithTimeout(applyCtx, 30*time.Second)
	defer cancel()
	// The plan's own options: with --update-passwords, a password the
	// target cannot read back (Amazon MQ for ActiveMQ) stays failed.
	after, rerr := makePlan(ctx, t, changedKinds(desired, &plan.Plan{Changes: ae.Failed}), opts)
	if rerr != nil {
		fmt.Fprintf(c.App.ErrWriter, "warren: reading the broker again to see what the failed step made: %v (some changes listed as failed may have been made)\n", rerr)
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

// changedKinds is desired cut down to the kinds a plan changed.
func changedKinds(desired *definitions.Document, p *plan.Plan) *definitions.Document {
	var kinds []definitions.Kind
	for _, ch := range p.Changes {
		if !slices.Contains(kinds, ch.Kind) {
			kinds = append(kinds, ch.Kind)
		}
		// A vhost-limits parameter may come from limits inside a vhost.
		if ch.Kind == definitions.KindParameter && !slices.Contains(kinds, definitions.KindVhost) {
			kinds = append(kinds, definitions.KindVhost)
		}
	}
	cut := *desired
	definitions.Select(&cut, "", kinds)
	return &cut
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

// confirm asks on the terminal; without one, --yes is required.
func confirm(c *cli.Context) error {
	f, ok := c.App.Reader.(*os.File)
	if !ok || !isTerminal(f) {
		return errors.New("not on a terminal: review the plan and run again with --yes to apply it")
	}
	fmt.Fprint(c.App.ErrWriter, "\nApply these changes? Only 'yes' is accepted: ")
	line, _ := bufio.NewReader(f).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("not applied")
	}
	return nil
}

func reportFailure(w io.Writer, err error) {
	var ae *plan.ApplyError
	if !errors.As(err, &ae) {
		fmt.Fprintf(w, "warren: %v\n", err)
		return
	}
	fmt.Fprintf(w, "warren: the apply stopped: %v\n", ae.Err)
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
		return
	}
	fmt.Fprintln(w, "Fix the cause and run warren apply again: it picks up from what the broker has now.")
}

// progress shows how far an apply got: a bar on a terminal, plain lines
// otherwise.
type progress struct {
	w   io.Writer
	tty bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

func (p *progress) report(pr seeders.Progress) {
	if p.tty {
		const width = 30
		filled := width * pr.Done / max(pr.Total, 1)
		fmt.Fprintf(p.w, "\r  applying [%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pr.Done, pr.Total)
		return
	}
	switch {
	case pr.What == "import":
		fmt.Fprintf(p.w, "  imported %s in one request (%d/%d)\n", plural(len(pr.Changes), "object"), pr.Done, pr.Total)
	default:
		for _, ch := range pr.Changes {
			fmt.Fprintf(p.w, "  %c %s (%d/%d)\n", ch.Action, ch.Addr, pr.Done, pr.Total)
		}
	}
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
