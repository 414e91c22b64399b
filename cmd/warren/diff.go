package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare definitions files with a live broker (or an export) and show the plan that would make them match",
		ArgsUsage: "FILE|DIR|- ...",
		Description: "Validates the files, reads the broker (--url) or an export (--against FILE), and prints the changes\n" +
			"that would make the broker match the files: + create, ~ update (field by field), ± replace (a queue's or\n" +
			"exchange's property the broker cannot change in place), - delete. Only the kinds the files name are\n" +
			"compared, and live objects the files do not name are deleted only with --prune (never the user warren\n" +
			"logs in as, built-in amq.* objects or the last administrator). Passwords are compared by hashing the\n" +
			"files' password with the broker's salt; no secret is printed.\n\n" +
			"Exit codes: 0 in sync, 2 drift (the plan is not empty), 1 error. Use it as a CI drift check.",
		Flags: append(append(append(connectionFlags(), cloudFlags(false)...),
			&cli.StringFlag{Name: "against", Usage: "compare with this export file instead of a live broker (offline)"},
			&cli.BoolFlag{Name: "prune", Usage: "also delete what the broker has and the files do not name (kinds the files manage only)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json (versioned, see docs/diff-and-apply.md) or markdown (for a pull-request comment)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "also save the plan to this file, for warren apply PLAN.json (holds no secret)"},
			&cli.BoolFlag{Name: "keep-guest", Usage: "keep the default guest user even when the files do not define it"},
			&cli.BoolFlag{Name: "replace", Usage: "with -o: the saved plan may replace queues and exchanges (as apply --replace)"},
			&cli.BoolFlag{Name: "destroy-messages", Usage: "with -o: the saved plan may delete messages (as apply --destroy-messages)"},
			closeConnectionsFlag(),
			targetFlag(),
			maxSizeFlag(),
		), ownerFlags()...),
		Action: runDiff,
	}
}

func runDiff(c *cli.Context) error {
	format := c.String("format")
	if format != "text" && format != "json" && format != "markdown" {
		return fmt.Errorf("unknown --format %q: use text, json or markdown", format)
	}
	name, err := operation.ParseTarget(c.String("target"))
	if err != nil {
		return err
	}
	for _, f := range []string{"replace", "destroy-messages"} {
		if c.Bool(f) && c.String("output") == "" {
			return fmt.Errorf("--%s only says what a saved plan may do: use it with -o (or give it to warren apply)", f)
		}
	}
	ui := newView(c, format)
	// The broker's read starts while the files load (operation.OpenEarly);
	// a diff limited to vhosts reads less, later.
	var early *operation.Early
	if c.String("against") == "" && len(c.StringSlice("vhost")) == 0 {
		early = operation.OpenEarly(c.Context, targetRequest(c, name))
		defer early.Stop()
	}
	desired, err := loadValid(c, ui, name, true)
	if err != nil {
		return err
	}
	var t seeders.Target
	if against := c.String("against"); against != "" {
		if c.String("output") != "" {
			return fmt.Errorf("-o saves a plan against a live broker; it cannot be used with --against")
		}
		if t, err = operation.OpenExportFile(ui, name, against); err != nil {
			return err
		}
	} else if t, err = early.Target(ui); err != nil {
		return err
	} else if t == nil {
		if t, err = openTarget(c, ui, name); err != nil {
			return err
		}
	}
	res, err := operation.Diff(c.Context, ui, operation.DiffRequest{Target: t, Desired: desired, Options: planOptionsOf(c, name),
		Given: givenOptions(c), SaveTo: c.String("output"), Paths: c.Args().Slice()})
	if err != nil {
		return err
	}
	if !res.InSync() {
		return exitCodeError{exitDrift}
	}
	return nil
}

// filesOf are the command's files: its arguments, or the inventory
// entry's (--broker) when it names none.
func filesOf(c *cli.Context, paths ...string) (operation.Files, error) {
	if paths == nil {
		paths = c.Args().Slice()
	}
	size, err := parseSize(c.String("max-size"))
	if err != nil {
		return operation.Files{}, err
	}
	if b := entryOf(c); b != nil && len(paths) == 0 {
		return operation.Files{Paths: b.Files, Overlays: b.Overlays, Layered: true, MaxSize: size}, nil
	}
	return operation.Files{Paths: paths, MaxSize: size, Stdin: c.App.Reader}, nil
}

// loadValid loads the command's files (or paths) and checks them.
func loadValid(c *cli.Context, ui operation.UI, name definitions.TargetName, brokerDecides bool, paths ...string) (operation.Desired, error) {
	return loadValidWhile(c, ui, name, brokerDecides, nil, paths...)
}

// loadValidWhile is loadValid that runs during on the loaded document
// while the checks run (operation.LoadValidWhile).
func loadValidWhile(c *cli.Context, ui operation.UI, name definitions.TargetName, brokerDecides bool, during func(*definitions.Document), paths ...string) (operation.Desired, error) {
	f, err := filesOf(c, paths...)
	if err != nil {
		return operation.Desired{}, err
	}
	ed, err := edition(c, name)
	if err != nil {
		return operation.Desired{}, err
	}
	return operation.LoadValidWhile(ui, f, definitions.CheckOptions{Target: name, Edition: ed}, brokerDecides, during)
}

// planOptionsOf reads the plan options from the command line.
func planOptionsOf(c *cli.Context, t definitions.TargetName) plan.Options {
	return plan.Options{Target: string(t), Prune: c.Bool("prune"), KeepGuest: c.Bool("keep-guest"),
		Replace: c.Bool("replace"), DestroyMessages: c.Bool("destroy-messages"), UpdatePasswords: c.Bool("update-passwords"),
		Owner: c.String("owner"), TakeOver: c.Bool("take-over"), Vhosts: c.StringSlice("vhost"),
		CloseConnections: c.Bool("close-connections"),
		Edition:          savedEdition(c.String("edition")), InstanceType: c.String("instance-type"),
		DeploymentMode: savedDeploymentMode(c.String("deployment-mode"))}
}

// savedEdition and savedDeploymentMode are the values options record:
// "" for the default, so that naming it or not makes the same plan.
func savedEdition(e string) string {
	if e == definitions.HuaweiAMQP {
		return ""
	}
	return e
}

func savedDeploymentMode(m string) string {
	if m == amazonmqrabbitmq.SingleInstance {
		return ""
	}
	return m
}

// closeConnectionsFlag is apply's --close-connections, and diff's, which
// lists in the plan whose connections it closes.
func closeConnectionsFlag() cli.Flag {
	return &cli.BoolFlag{Name: "close-connections", Usage: "when the apply is done, close the connections of users whose password changed, who were deleted, " +
		"or whose permissions may allow less (to those vhosts), so that they connect again with what the files say; the plan lists them. " +
		"RabbitMQ checks credentials and permissions when a connection opens, and does not close one when they change"}
}

// ownerFlags say whose objects a diff or apply manages, and where.
func ownerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "owner", EnvVars: []string{"WARREN_OWNER"}, Usage: "the owner of the files' objects on a shared broker (or warren: owner in the files): --prune deletes only objects in that owner's record, which apply keeps on the broker (see docs/ownership.md)"},
		&cli.BoolFlag{Name: "take-over", Usage: "take over the objects the files name that another owner's record holds (the plan lists them)"},
		&cli.StringSliceFlag{Name: "vhost", Usage: "compare, change and prune only what lives in this vhost (repeat for more); users and global parameters are left out"},
	}
}
