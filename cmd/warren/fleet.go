package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/inventory"
	"github.com/warren-tool/warren/schema"
)

// An inventory (internal/inventory) gives commands a broker's settings
// (--broker NAME) and, for diff and apply, a fleet of brokers to work on
// at once. Each broker of a fleet run goes through the single-broker
// command (runDiff, runApply) in-process, with its settings as flags and
// its output buffered; the fleet adds the report.

const defaultConcurrency = 4

// inventoryFlags are the flags withInventory adds; fleet ones only to
// diff and apply.
func inventoryFlags(fleet bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "inventory", Usage: "inventory file naming brokers (see README, Clusters and fleets); without --broker, diff and apply work on every selected broker"},
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
	if cmd.Name == "apply" {
		cmd.Flags = append(cmd.Flags, &cli.StringFlag{Name: "format", Usage: "with --inventory: the fleet report as text or json"})
	}
	action := cmd.Action
	cmd.Action = func(c *cli.Context) error {
		if br := brokerRunOf(c); br != nil && br.started != nil {
			br.started() // a fleet's broker: its app is set up
		}
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
		fmt.Fprintf(c.App.ErrWriter, "warren: %s in the inventory\n", plural(nerr, "error"))
		return nil, exitCodeError{exitError}
	}
	printDiagnostics(c.App.ErrWriter, diags)
	return inv, nil
}

// brokerRun is what a command takes from an inventory entry beyond its
// flags: the password (read from the entry's {env}), the files (a base
// and overlays), and, for the fleet's report, the plan it made.
type brokerRun struct {
	broker   *inventory.Broker
	password string
	layers   *definitions.Layers
	plan     *plan.Plan
	// started ends the broker's turn holding appSetup (runOne).
	started func()
	// fleet: a fleet run's broker, which logs in with its own entry's
	// password only (never WARREN_PASSWORD, meant for one broker).
	fleet bool
}

// appSetup: urfave/cli's help flag and help command are package globals
// that every App writes to while it sets up and parses its flags, so the
// apps of a fleet's brokers take turns until their command runs.
var appSetup sync.Mutex

type brokerRunKey struct{}

func brokerRunOf(c *cli.Context) *brokerRun {
	if c == nil || c.Context == nil {
		return nil
	}
	br, _ := c.Context.Value(brokerRunKey{}).(*brokerRun)
	return br
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
	set("target", b.Target)
	set("ca-cert", b.TLS.CA)
	set("client-cert", b.TLS.ClientCert)
	set("client-key", b.TLS.ClientKey)
	if b.TLS.Insecure {
		set("insecure", "true")
	}
	br := &brokerRun{broker: b}
	if !c.IsSet("password-file") && !c.IsSet("password") && os.Getenv("WARREN_PASSWORD") == "" && hasFlag(c, "password-file") {
		if b.PasswordFile != "" {
			set("password-file", b.PasswordFile)
		} else if b.PasswordEnv != "" {
			pw, err := b.Password()
			if err != nil {
				return err
			}
			br.password = pw
		}
	}
	c.Context = context.WithValue(c.Context, brokerRunKey{}, br)
	return nil
}

func hasFlag(c *cli.Context, name string) bool {
	return slices.ContainsFunc(c.Command.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
}

// brokerPassword is the password an inventory entry gave the command
// ("" when none).
func brokerPassword(c *cli.Context) string {
	if br := brokerRunOf(c); br != nil {
		return br.password
	}
	return ""
}

// brokerFiles loads an inventory entry's files when the command names
// none; ok is false without an entry.
func brokerFiles(c *cli.Context, opts definitions.LoadOptions) (*definitions.Document, schema.Diagnostics, bool) {
	br := brokerRunOf(c)
	if br == nil || c.NArg() > 0 {
		return nil, nil, false
	}
	doc, layers, diags := br.broker.Definitions(opts)
	br.layers = layers
	return doc, diags, true
}

// remapLayers points diagnostics about fields an overlay set at that
// overlay.
func remapLayers(c *cli.Context, diags schema.Diagnostics) schema.Diagnostics {
	if br := brokerRunOf(c); br != nil && br.layers != nil {
		return br.layers.Remap(diags)
	}
	return diags
}

// observePlan keeps the plan a command made, for the fleet's report.
func observePlan(c *cli.Context, p *plan.Plan) {
	if br := brokerRunOf(c); br != nil && br.plan == nil {
		br.plan = p
	}
}

// Fleet statuses, in the report.
const (
	statusInSync  = "in sync"
	statusDrift   = "drift"
	statusApplied = "applied"
	statusFailed  = "failed"
	statusNotRun  = "not run"
)

// fleetResult is one broker's line of the report. It holds no secret:
// URLs are redacted and the output is the command's, which prints none.
type fleetResult struct {
	Name     string            `json:"name"`
	Target   string            `json:"target"`
	URLs     []string          `json:"urls"`
	Labels   map[string]string `json:"labels"`
	Status   string            `json:"status"`
	Counts   fleetCounts       `json:"counts"`
	Duration int64             `json:"duration_ms"`
	Error    string            `json:"error,omitempty"`
	output   []byte
}

type fleetCounts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
}

// fleetReport is the --format json report. Its shape is versioned:
// fields are only ever added within a version.
type fleetReport struct {
	Version   int            `json:"version"`
	Command   string         `json:"command"`
	Inventory string         `json:"inventory"`
	Brokers   []*fleetResult `json:"brokers"`
	Summary   map[string]int `json:"summary"`
	ExitCode  int            `json:"exit_code"`
}

// fleetOwn are the flags a fleet run does not pass on to each broker's
// command: the inventory entry sets the connection ones, the fleet uses
// its own. The others are passed on as they were given.
var fleetOwn = append([]string{"url", "username", "password-file", "password", "ca-cert", "client-cert", "client-key", "insecure", "target",
	"inventory", "broker", "select", "concurrency", "fail-fast", "format", "output", "against", "help", "reboot"}, cloudOnly...)

// cloudOnly are the cloud targets' flags, which a fleet refuses.
var cloudOnly = []string{"endpoint", "broker-id", "region", "project-id", "instance-id"}

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
	if conc == 0 {
		conc = inv.Concurrency
	}
	if conc <= 0 {
		conc = defaultConcurrency
	}
	var pass []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if slices.Contains(fleetOwn, name) || !c.IsSet(name) {
			continue
		}
		switch v := c.Value(name).(type) {
		case cli.StringSlice:
			for _, s := range v.Value() {
				pass = append(pass, "--"+name+"="+s)
			}
		default:
			pass = append(pass, "--"+name+"="+fmt.Sprint(v))
		}
	}

	results := make([]*fleetResult, len(brokers))
	done := make([]chan struct{}, len(brokers))
	for i, b := range brokers {
		results[i] = &fleetResult{Name: b.Name, Target: b.Target, URLs: redacted(b.URLs), Labels: b.Labels, Status: statusNotRun}
		done[i] = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	var (
		mu      sync.Mutex
		stopped bool // --fail-fast: a broker failed
	)
	slots := make(chan struct{}, conc)
	go func() {
		for i, b := range brokers {
			slots <- struct{}{}
			mu.Lock()
			stop := stopped
			mu.Unlock()
			if stop {
				<-slots
				close(done[i])
				continue
			}
			go func() {
				defer func() { <-slots; close(done[i]) }()
				runCtx := ctx
				if command == "apply" {
					runCtx = context.WithoutCancel(ctx) // an apply under way finishes
				}
				r := results[i]
				runOne(runCtx, command, b, pass, r)
				if r.Status == statusFailed && c.Bool("fail-fast") {
					mu.Lock()
					stopped = true
					mu.Unlock()
					cancel()
				}
			}()
		}
	}()
	out := c.App.Writer
	if format == "json" {
		out = c.App.ErrWriter // stdout holds only the report
	}
	for i, b := range brokers {
		<-done[i]
		r := results[i]
		if r.Status == statusNotRun {
			continue
		}
		fmt.Fprintf(out, "== %s (%s) ==\n", b.Name, strings.Join(r.URLs, ", "))
		out.Write(r.output)
		if len(r.output) > 0 && !bytes.HasSuffix(r.output, []byte("\n")) {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out)
	}
	rep := fleetReport{Version: 1, Command: command, Inventory: inv.Path, Brokers: results, Summary: map[string]int{}}
	for _, r := range results {
		rep.Summary[r.Status]++
		switch r.Status {
		case statusFailed, statusNotRun:
			rep.ExitCode = exitError
		case statusDrift:
			if command == "diff" && rep.ExitCode == exitOK {
				rep.ExitCode = exitDrift
			}
		}
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

// runOne runs the single-broker command for b, its output into r.
func runOne(ctx context.Context, command string, b *inventory.Broker, pass []string, r *fleetResult) {
	start := time.Now()
	var buf bytes.Buffer
	defer func() {
		r.Duration = time.Since(start).Milliseconds()
		r.output = buf.Bytes()
	}()
	if ctx.Err() != nil {
		return // --fail-fast stopped the run before this broker's turn
	}
	br := &brokerRun{broker: b, fleet: true}
	if b.PasswordEnv != "" {
		pw, err := b.Password()
		if err != nil {
			r.Status, r.Error = statusFailed, err.Error()
			fmt.Fprintf(&buf, "warren: %v\n", err)
			return
		}
		br.password = pw
	}
	args := []string{"warren", command, "--target=" + b.Target, "--username=" + b.Username, "--password-file=" + b.PasswordFile,
		"--ca-cert=" + b.TLS.CA, "--client-cert=" + b.TLS.ClientCert, "--client-key=" + b.TLS.ClientKey,
		"--insecure=" + strconv.FormatBool(b.TLS.Insecure)}
	for _, u := range b.URLs {
		args = append(args, "--url="+u)
	}
	args = append(args, pass...)
	app := newApp(strings.NewReader(""), &buf, &buf)
	appSetup.Lock()
	br.started = sync.OnceFunc(appSetup.Unlock)
	code := runApp(context.WithValue(ctx, brokerRunKey{}, br), app, args, &buf)
	br.started() // when the command never ran (a usage error)
	if br.plan != nil {
		counts := br.plan.Counts()
		r.Counts = fleetCounts{Create: counts[plan.Create], Update: counts[plan.Update], Replace: counts[plan.Replace], Delete: counts[plan.Delete]}
	}
	switch {
	case code == exitDrift:
		r.Status = statusDrift
	case code != exitOK:
		r.Status, r.Error = statusFailed, lastError(buf.Bytes())
		if ctx.Err() != nil {
			r.Error = "cancelled (--fail-fast): " + r.Error
		}
	case br.plan == nil || br.plan.Empty():
		r.Status = statusInSync
	case command == "apply" && !slices.Contains(pass, "--dry-run=true"):
		r.Status = statusApplied
	default:
		r.Status = statusDrift
	}
}

// runApp is run for a fleet's broker: one exit path, in a context.
func runApp(ctx context.Context, app *cli.App, args []string, stderr io.Writer) int {
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	fmt.Fprintf(stderr, "warren: %v\n", err)
	return exitError
}

// lastError is the last "warren: …" line of a command's output: why it
// failed, for the report.
func lastError(out []byte) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "warren: ") {
			return strings.TrimPrefix(lines[i], "warren: ")
		}
	}
	if len(lines) > 0 {
		return lines[len(lines)-1]
	}
	return ""
}

func redacted(urls []string) []string {
	out := make([]string, len(urls))
	for i, raw := range urls {
		if u, err := url.Parse(raw); err == nil {
			out[i] = u.Redacted()
		} else {
			out[i] = "(invalid URL)"
		}
	}
	return out
}

// writeFleetTable writes the text report: one line per broker, then the
// totals. Plain text, no color: it goes to job logs as often as to
// terminals.
func writeFleetTable(w io.Writer, rep fleetReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BROKER\tTARGET\tSTATUS\tCREATE\tUPDATE\tREPLACE\tDELETE\tTIME")
	for _, r := range rep.Brokers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.2fs\n", r.Name, r.Target, r.Status,
			r.Counts.Create, r.Counts.Update, r.Counts.Replace, r.Counts.Delete, float64(r.Duration)/1000)
	}
	tw.Flush()
	var parts []string
	for _, s := range []string{statusInSync, statusDrift, statusApplied, statusFailed, statusNotRun} {
		if n := rep.Summary[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	fmt.Fprintf(w, "%s: %s\n", plural(len(rep.Brokers), "broker"), strings.Join(parts, ", "))
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
		doc, layers, diags := b.Definitions(definitions.LoadOptions{MaxSize: size, Stdin: c.App.Reader})
		target, err := parseTarget(b.Target)
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
		summary := plural(nerr, "error") + ", " + plural(nwarn, "warning")
		if doc != nil {
			summary += " in " + plural(len(doc.Files()), "file")
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
