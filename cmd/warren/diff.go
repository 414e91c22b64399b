package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
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
		Flags: append(append(connectionFlags(), cloudFlags(false)...),
			&cli.StringFlag{Name: "against", Usage: "compare with this export file instead of a live broker (offline)"},
			&cli.BoolFlag{Name: "prune", Usage: "also delete what the broker has and the files do not name (kinds the files manage only)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json (versioned, see README) or markdown (for a pull-request comment)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "also save the plan to this file, for warren apply PLAN.json (holds no secret)"},
			&cli.BoolFlag{Name: "keep-guest", Usage: "keep the default guest user even when the files do not define it"},
			&cli.BoolFlag{Name: "replace", Usage: "with -o: the saved plan may replace queues and exchanges (as apply --replace)"},
			&cli.BoolFlag{Name: "destroy-messages", Usage: "with -o: the saved plan may delete messages (as apply --destroy-messages)"},
			targetFlag(),
			maxSizeFlag(),
		),
		Action: runDiff,
	}
}

func runDiff(c *cli.Context) error {
	format := c.String("format")
	if format != "text" && format != "json" && format != "markdown" {
		return fmt.Errorf("unknown --format %q: use text, json or markdown", format)
	}
	target, err := parseTarget(c.String("target"))
	if err != nil {
		return err
	}
	for _, f := range []string{"replace", "destroy-messages"} {
		if c.Bool(f) && c.String("output") == "" {
			return fmt.Errorf("--%s only says what a saved plan may do: use it with -o (or give it to warren apply)", f)
		}
	}
	opts := planOptionsOf(c, target)
	desired, err := loadValid(c, target)
	if err != nil {
		return err
	}
	var t seeders.Target
	if against := c.String("against"); against != "" {
		if c.String("output") != "" {
			return fmt.Errorf("-o saves a plan against a live broker; it cannot be used with --against")
		}
		if target != definitions.TargetRabbitMQ && target != definitions.TargetAmazonMQRabbitMQ {
			return fmt.Errorf("--against cannot be used with --target %s: an export is RabbitMQ's format", target)
		}
		doc, diags := definitions.Load([]string{against}, definitions.LoadOptions{})
		if doc == nil || diags.HasErrors() {
			printDiagnostics(c.App.ErrWriter, diags)
			return exitCodeError{exitError}
		}
		t = &exportTarget{name: target, doc: doc}
	} else if t, err = openTarget(c, target); err != nil {
		return err
	}
	if err := refuseUnsupported(c, t, opts); err != nil {
		return err
	}
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
	plan, err := makePlan(c.Context, t, desired, opts)
	if err != nil {
		return secretError(c, desired, err)
	}
	observePlan(c, plan) // for a fleet's report
	if out := c.String("output"); out != "" {
		if err := savePlan(c, out, newSavedPlan(id, opts, plan)); err != nil {
			return err
		}
	}
	if err := renderPlan(c, format, plan); err != nil {
		return err
	}
	// Notes go with a text plan; beside a json or markdown one, to standard
	// error, which a CI job's log shows.
	notes := c.App.ErrWriter
	if format == "text" {
		notes = c.App.Writer
	}
	printNotes(notes, t, plan, opts)
	if !plan.Empty() {
		return exitCodeError{exitDrift}
	}
	return nil
}

// loadValid loads the command's files (or paths, when given) and checks
// them; errors are printed and stop the command, warnings are printed.
func loadValid(c *cli.Context, target definitions.TargetName, paths ...string) (*definitions.Document, error) {
	doc, diags, err := loadFiles(c, paths...)
	if err != nil {
		return nil, err
	}
	if doc != nil {
		diags = remapLayers(c, append(diags, definitions.Check(doc, definitions.CheckOptions{Target: target})...))
	}
	if diags.HasErrors() || doc == nil {
		printDiagnostics(c.App.ErrWriter, diags)
		nerr, _ := diags.Count()
		fmt.Fprintf(c.App.ErrWriter, "warren: %s in the files; nothing was compared\n", plural(nerr, "error"))
		return nil, exitCodeError{exitError}
	}
	// diff and apply check the files again with the broker's own version
	// (checkBrokerVersion), which says what that version does: what only
	// some versions do is said there, not for every supported version
	// here (a vhost's protection is not "ignored before 4.0.6" to a 4.3
	// broker).
	brokerDecides := c.Command != nil && (c.Command.Name == "diff" || c.Command.Name == "apply")
	var warnings schema.Diagnostics
	for _, d := range diags {
		if d.Severity == schema.Warning && !(brokerDecides && versionCodes[d.Code]) {
			warnings = append(warnings, d)
		}
	}
	printDiagnostics(c.App.ErrWriter, warnings)
	return doc, nil
}

// useColor reports whether to color output: a terminal, and no NO_COLOR.
func useColor(w any) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}
