package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/internal/operation/inventory"
)

// An inventory (operation/inventory) gives commands a broker's settings
// (--broker NAME) and, for diff and apply, a fleet of brokers to work on
// at once (operation.Fleet).

// inventoryFlags are the flags withInventory adds; fleet ones only to
// diff and apply.
func inventoryFlags(fleet bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "inventory", Usage: "inventory file naming brokers (see docs/clusters-and-fleets.md); without --broker, diff and apply work on every selected broker"},
		&cli.StringFlag{Name: "broker", Usage: "take this inventory entry's URLs, credentials, target, TLS and files as defaults (the inventory from --inventory or WARREN_INVENTORY); flags given override them"},
	}
	if fleet {
		flags = append(flags,
			&cli.StringSliceFlag{Name: "select", Usage: "with --inventory: only brokers whose labels match label=value (or not, label!=value); repeat to narrow"},
			&cli.IntFlag{Name: "concurrency", Usage: "with --inventory: brokers worked on at once (default: the inventory's concurrency, else 4)"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "with --inventory: after the first broker that fails, start no other (a diff under way is cancelled; an apply under way finishes)"},
		)
	}
	return flags
}

// withInventory adds --inventory and --broker to a command, and for diff
// and apply the fleet flags and the fleet run.
func withInventory(cmd *cli.Command) *cli.Command {
	fleet := cmd.Name == "diff" || cmd.Name == "apply"
	cmd.Flags = append(cmd.Flags, inventoryFlags(fleet)...)
	if cmd.Name == "watch" {
		cmd.Flags = append(cmd.Flags, &cli.StringSliceFlag{Name: "select", Usage: "with --inventory: only brokers whose labels match label=value (or not, label!=value); repeat to narrow"})
	}
	if cmd.Name == "apply" {
		cmd.Flags = append(cmd.Flags, &cli.StringFlag{Name: "format", Usage: "with --inventory: the fleet report as text or json"})
	}
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		path, name := c.String("inventory"), c.String("broker")
		if path == "" && name != "" {
			path = os.Getenv("WARREN_INVENTORY")
		}
		switch {
		case path == "" && name != "":
			return errors.New("--broker needs an inventory: give --inventory FILE or set WARREN_INVENTORY")
		case path == "":
			for _, f := range []string{"select", "concurrency", "fail-fast"} {
				if c.IsSet(f) {
					return fmt.Errorf("--%s works on an inventory's brokers: give --inventory FILE", f)
				}
			}
			if cmd.Name == "apply" && c.IsSet("format") {
				return errors.New("--format is the fleet report's: give --inventory FILE")
			}
			return action(c)
		}
		inv, err := loadInventory(c, path)
		if err != nil {
			return err
		}
		if name == "" {
			switch {
			case fleet:
				return runFleet(c, cmd.Name, inv)
			case cmd.Name == "validate":
				return validateInventory(c, inv)
			case cmd.Name == "watch":
				return runWatchInventory(c, inv)
			}
			return fmt.Errorf("warren %s works on one broker: give --broker NAME with --inventory", cmd.Name)
		}
		if c.IsSet("select") {
			return errors.New("--select picks brokers for a fleet run; it cannot be used with --broker")
		}
		b, err := inv.Broker(name)
		if err != nil {
			return err
		}
		if err := useBroker(c, b); err != nil {
			return err
		}
		return action(c)
	}
	return cmd
}

// loadInventory loads and checks an inventory; its problems are printed.
func loadInventory(c *cli.Context, path string) (*inventory.Inventory, error) {
	inv, diags := inventory.Load(path)
	if inv == nil {
		printDiagnostics(c.App.ErrWriter, diags)
		nerr, _ := diags.Count()
		fmt.Fprintf(c.App.ErrWriter, "warren: %s in the inventory\n", operation.Plural(nerr, "error"))
		return nil, exitCodeError{exitError}
	}
	printDiagnostics(c.App.ErrWriter, diags)
	return inv, nil
}

// useBroker makes b's settings the defaults of the command: flags given
// (on the command line or in their environment variables) win.
func useBroker(c *cli.Context, b *inventory.Broker) error {
	if hasFlag(c, "output") && c.String("output") != "" && c.Command.Name == "diff" && c.NArg() == 0 {
		return errors.New("-o with --broker needs the files named on the command line: a saved plan records files, not an inventory entry's layers")
	}
	set := func(name, value string) {
		if !c.IsSet(name) && value != "" {
			c.Set(name, value) // a command without the flag (validate) ignores it
		}
	}
	if !c.IsSet("url") {
		for _, u := range b.URLs {
			c.Set("url", u)
		}
	}
	set("username", b.Username)
	if c.Command.Name == "diff" || c.Command.Name == "apply" { // export --owner is asked for, not implied
		set("owner", b.Owner)
	}
	set("target", b.Target)
	switch c.Command.Name {
	case "diff", "apply", "watch": // the limits they check; export refuses the flags
		set("instance-type", b.InstanceType)
		set("deployment-mode", b.DeploymentMode)
	}
	set("ca-cert", b.TLS.CA)
	set("client-cert", b.TLS.ClientCert)
	set("client-key", b.TLS.ClientKey)
	if b.TLS.Insecure {
		set("insecure", "true")
	}
	c.Context = withEntry(c.Context, b)
	if !c.IsSet("password-file") && !c.IsSet("password") && os.Getenv("WARREN_PASSWORD") == "" && hasFlag(c, "password-file") {
		if b.PasswordFile != "" {
			set("password-file", b.PasswordFile)
		} else if b.PasswordEnv != "" {
			pw, err := b.Password()
			if err != nil {
				return err
			}
			c.Context = context.WithValue(c.Context, entryPasswordKey{}, pw)
		}
	}
	return nil
}

func hasFlag(c *cli.Context, name string) bool {
	return slices.ContainsFunc(c.Command.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
}

// cloudOnly are the cloud targets' flags, which a fleet refuses.
// An entry gives its own instance type and deployment mode (an inventory
// holds amazonmq-rabbitmq brokers, of sizes of their own).
var cloudOnly = []string{"endpoint", "broker-id", "region", "project-id", "instance-id", "edition", "instance-type", "deployment-mode"}

func runFleet(c *cli.Context, command string, inv *inventory.Inventory) error {
	format := c.String("format")
	if format == "" {
		format = "text"
	}
	if format != "text" && format != "json" {
		return fmt.Errorf("unknown --format %q for a fleet run: use text or json", format)
	}
	// --amqp-url names one broker's AMQP listener: every broker of the
	// fleet would count its queues' messages on that one.
	for _, f := range []string{"output", "against", "amqp-url"} {
		if hasFlag(c, f) && c.IsSet(f) {
			return fmt.Errorf("--%s works on one broker: use it with --broker NAME", f)
		}
	}
	for _, f := range append([]string{"reboot"}, cloudOnly...) {
		if hasFlag(c, f) && c.IsSet(f) {
			return fmt.Errorf("--%s is for the cloud targets, which an inventory does not hold", f)
		}
	}
	if c.NArg() > 0 {
		return errors.New("a fleet run takes each broker's files from the inventory: name no files (or use --broker NAME)")
	}
	if c.IsSet("password") { // no environment variable: given on the command line
		return errors.New("--password is not passed to a fleet's brokers: each logs in with its own entry's password ({env: NAME} or {file: PATH})")
	}
	if command == "apply" && !c.Bool("yes") && !c.Bool("dry-run") {
		return errors.New("a fleet apply cannot ask for confirmation: review warren diff --inventory, then run again with --yes (or use --dry-run)")
	}
	brokers, err := inv.Select(c.StringSlice("select"))
	if err != nil {
		return err
	}
	if len(inv.Brokers) == 0 {
		return fmt.Errorf("%s lists no brokers", inv.Path)
	}
	if len(brokers) == 0 {
		return fmt.Errorf("no broker of %s matches --select %s", inv.Path, strings.Join(c.StringSlice("select"), " "))
	}
	conc := c.Int("concurrency")
	if c.IsSet("concurrency") && conc < 1 {
		return fmt.Errorf("--concurrency %d: give at least 1 (brokers worked on at once)", conc)
	}
	size, err := parseSize(c.String("max-size"))
	if err != nil {
		return err
	}
	out := c.App.Writer
	if format == "json" {
		out = c.App.ErrWriter // stdout holds only the report
	}
	conn := connectionOf(c)
	opts := planOptionsOf(c, "")
	rep, err := operation.Fleet(c.Context, operation.FleetRequest{
		Apply: command == "apply", Inventory: inv, Brokers: brokers, Concurrency: conc, FailFast: c.Bool("fail-fast"),
		Connection: operation.Connection{Timeout: conn.Timeout, ImportTimeout: conn.ImportTimeout, Wait: conn.Wait, WaitFor: conn.WaitFor},
		Options:    opts, Given: givenOptions(c),
		Yes: c.Bool("yes"), DryRun: c.Bool("dry-run"), BreakLock: c.Bool("break-lock"), MaxSize: size, Workers: workers(),
		NewUI:  func(w io.Writer) operation.UI { return newViewOn(strings.NewReader(""), w, w, "text") },
		Output: out,
	})
	if err != nil {
		return err
	}
	if format == "json" {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		writeFleetTable(c.App.Writer, rep)
	}
	if rep.ExitCode != exitOK {
		return exitCodeError{rep.ExitCode}
	}
	return nil
}

// writeFleetTable writes the text report: one line per broker, then the
// totals. Plain text, no color: it goes to job logs as often as to
// terminals.
func writeFleetTable(w io.Writer, rep *operation.FleetReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tTARGET\tSTATUS\tCREATE\tUPDATE\tREPLACE\tDELETE\tTIME")
	for _, r := range rep.Brokers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.2fs\n", r.Name, r.Target, r.Status,
			r.Counts.Create, r.Counts.Update, r.Counts.Replace, r.Counts.Delete, float64(r.Duration)/1000)
	}
	tw.Flush()
	var parts []string
	for _, s := range operation.Statuses {
		if n := rep.Summary[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	fmt.Fprintf(w, "%s: %s\n", operation.Plural(len(rep.Brokers), "broker"), strings.Join(parts, ", "))
	for _, r := range rep.Brokers {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Name, r.Error)
		}
	}
}

// validateInventory validates every selected entry's files (its base and
// overlays, merged) with its target's rules, and lists what the overlays
// changed and which file set each field.
func validateInventory(c *cli.Context, inv *inventory.Inventory) error {
	format := c.String("format")
	if format != "text" && format != "json" {
		return fmt.Errorf("unknown --format %q: use text or json", format)
	}
	if c.NArg() > 0 {
		return errors.New("validate --inventory takes each broker's files from the inventory: name no files (or use --broker NAME)")
	}
	if len(inv.Brokers) == 0 {
		return fmt.Errorf("%s lists no brokers", inv.Path)
	}
	size, err := parseSize(c.String("max-size"))
	if err != nil {
		return err
	}
	version, err := rabbitmqVersion(c)
	if err != nil {
		return err
	}
	type brokerJSON struct {
		Name string `json:"name"`
		validateReport
		Layers []string `json:"layers"`
	}
	report := struct {
		Version   int          `json:"version"`
		Valid     bool         `json:"valid"`
		Inventory string       `json:"inventory"`
		Brokers   []brokerJSON `json:"brokers"`
	}{Version: 1, Valid: true, Inventory: inv.Path}
	out := c.App.Writer
	for _, b := range inv.Brokers {
		doc, layers, diags := definitions.LoadLayers(b.Files, b.Overlays, definitions.LoadOptions{MaxSize: size, Stdin: c.App.Reader})
		target, err := operation.ParseTarget(b.Target)
		if err != nil {
			return err
		}
		if doc != nil {
			diags = append(diags, layers.Remap(definitions.Check(doc, definitions.CheckOptions{Target: target, RabbitMQVersion: version}))...)
		}
		if c.Bool("strict") {
			diags = diags.Strict()
		}
		diags.Sort()
		nerr, nwarn := diags.Count()
		notes := layers.Describe()
		if nerr > 0 {
			report.Valid = false
		}
		if format == "json" {
			report.Brokers = append(report.Brokers, brokerJSON{Name: b.Name, validateReport: diagnosticsJSON(diags, doc), Layers: append([]string{}, notes...)})
			continue
		}
		fmt.Fprintf(out, "== %s ==\n", b.Name)
		printDiagnostics(out, diags)
		for _, n := range notes {
			fmt.Fprintln(out, "layer: "+n)
		}
		summary := operation.Plural(nerr, "error") + ", " + operation.Plural(nwarn, "warning")
		if doc != nil {
			summary += " in " + operation.Plural(len(doc.Files()), "file")
		}
		fmt.Fprintln(out, summary)
	}
	if format == "json" {
		if err := json.NewEncoder(out).Encode(report); err != nil {
			return err
		}
	}
	if !report.Valid {
		return exitCodeError{exitError}
	}
	return nil
}
