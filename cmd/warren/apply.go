package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/operation"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "make a live broker match definitions files (or carry out a plan saved by warren diff -o)",
		ArgsUsage: "FILE|DIR|- ... | PLAN.json",
		Description: "Computes the same plan as warren diff, prints it, asks for confirmation (on a terminal; elsewhere\n" +
			"--yes is required), and carries it out: every creation and update in one partial import (POST\n" +
			"/api/definitions; a vhost whose default queue type changes is PUT first; up to 1,000 permissions and\n" +
			"topic permissions are PUT one by one after it, 16 at a time), then what an import cannot do object by\n" +
			"object, deletions last. Afterwards warren reads the broker again, for what the broker did not confirm\n" +
			"object by object, and reports anything it did not take; after a failed step, it reads the broker again\n" +
			"to report what was made.\n\n" +
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
		Flags: append(append(append(append(connectionFlags(), cloudFlags(true)...),
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
			&cli.BoolFlag{Name: "prune", Usage: "delete what the broker has and the files do not name (kinds the files manage only)"},
			&cli.BoolFlag{Name: "replace", Usage: "allow replacing queues (empty ones) and exchanges whose properties cannot change in place"},
			&cli.BoolFlag{Name: "keep-guest", Usage: "keep the default guest user even when the files do not define it"},
			&cli.BoolFlag{Name: "break-lock", Usage: "take the broker's apply lock even when another apply holds it (one that is gone; a lock expires on its own after 2m without renewal)"},
			&cli.BoolFlag{Name: "destroy-messages", Usage: "allow deleting messages: a vhost whose queues hold messages, a pruned or replaced queue that holds messages"},
			closeConnectionsFlag(),
			targetFlag(),
			maxSizeFlag(),
		), waitFlags()...), ownerFlags()...),
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	name, err := operation.ParseTarget(c.String("target"))
	if err != nil {
		return err
	}
	saved, err := operation.ReadSavedPlan(c.Args().Slice())
	if err != nil {
		return err
	}
	opts := planOptionsOf(c, name)
	var paths, urls []string
	if saved != nil {
		if err := operation.CheckFiles(saved); err != nil {
			return err
		}
		// The saved options hold, unless the command line says otherwise:
		// then the plan made now differs from the saved one and is refused.
		opts = overrideOptions(c, saved.Options)
		if name, err = operation.ParseTarget(opts.Target); err != nil {
			return err
		}
		// The plan's edition and sizing are the target's, as if given:
		// its files are checked, its broker read and limited, as the
		// diff that saved it did.
		for flag, v := range map[string]string{"edition": opts.Edition, "instance-type": opts.InstanceType, "deployment-mode": opts.DeploymentMode} {
			if v != "" && c.String(flag) == "" {
				c.Set(flag, v)
			}
		}
		paths = operation.SavedPaths(saved)
		if !c.IsSet("url") { // --url (or WARREN_URL) says where to go
			urls = saved.Broker.URLs
		}
	}
	ui := newView(c, "text")
	// Nobody reviews the plan of apply --yes: it is read under the lock,
	// and on RabbitMQ 4.3 that read starts, under a lock written early,
	// while the files load (operation.OpenEarlyLocked). A lock to break is
	// broken once the files are valid.
	var early *operation.Early
	if c.Bool("yes") && !c.Bool("dry-run") && !c.Bool("break-lock") && saved == nil && len(opts.Vhosts) == 0 {
		early = operation.OpenEarlyLocked(c.Context, targetRequest(c, name), operation.EarlyLock{Interrupted: func(s os.Signal) {
			fmt.Fprintf(c.App.ErrWriter, "warren: %v: stopped before changing anything\n", s)
			os.Exit(exitError)
		}})
		defer early.Stop()
	}
	desired, err := loadValid(c, ui, name, true, paths...)
	if err != nil {
		return err
	}
	t, err := early.Target(ui)
	if err == nil && t == nil {
		t, err = openTarget(c, ui, name, urls...)
	}
	if err != nil {
		return err
	}
	_, err = operation.Apply(c.Context, ui, operation.ApplyRequest{Target: t, Desired: desired, Options: opts, Given: givenOptions(c),
		Saved: saved, SavedName: c.Args().First(), Remake: "warren diff -o",
		Yes: c.Bool("yes"), DryRun: c.Bool("dry-run"), BreakLock: c.Bool("break-lock"), Reboot: c.Bool("reboot"),
		Early: early})
	return err
}

// overrideOptions is a saved plan's options with those the command line
// sets explicitly.
func overrideOptions(c *cli.Context, o plan.Options) plan.Options {
	set := map[string]*bool{"prune": &o.Prune, "keep-guest": &o.KeepGuest, "replace": &o.Replace,
		"destroy-messages": &o.DestroyMessages, "update-passwords": &o.UpdatePasswords, "take-over": &o.TakeOver,
		"close-connections": &o.CloseConnections}
	if c.IsSet("target") {
		o.Target = c.String("target")
	}
	if c.IsSet("owner") {
		o.Owner = c.String("owner")
	}
	if c.IsSet("vhost") {
		o.Vhosts = c.StringSlice("vhost")
	}
	// An empty value (WARREN_HUAWEI_EDITION= exported, say) gives none.
	if e := c.String("edition"); e != "" {
		o.Edition = savedEdition(e)
	}
	if t := c.String("instance-type"); t != "" {
		o.InstanceType = t
	}
	if m := c.String("deployment-mode"); m != "" {
		o.DeploymentMode = savedDeploymentMode(m)
	}
	for name, p := range set {
		if c.IsSet(name) {
			*p = c.Bool(name)
		}
	}
	return o
}
