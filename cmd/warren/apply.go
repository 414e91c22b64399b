package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

func applyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "make a live broker match definitions files (or carry out a plan saved by warren diff -o)",
		ArgsUsage: "FILE|DIR|- ... | PLAN.json",
		Description: "Computes the same plan as warren diff, prints it, asks for confirmation (on a terminal; elsewhere\n" +
			"--yes is required), and carries it out: vhosts one by one, every other creation and update in one\n" +
			"partial import (POST /api/definitions), then what an import cannot do object by object, deletions last.\n" +
			"Afterwards warren reads the broker again and reports anything it did not take.\n\n" +
			"Nothing is deleted without --prune, and never the user warren logs in as (except guest, below), built-in\n" +
			"objects or the last administrator. A queue or exchange whose properties cannot change in place is\n" +
			"replaced only with --replace, and a queue only when it holds no messages. When the files define users but\n" +
			"not guest, and guest still has its default password, guest is removed last (--keep-guest keeps it).\n\n" +
			"Exit codes: 0 success (or nothing to do), 1 error, including a failed or partial apply.",
		Flags: append(append(connectionFlags(), cloudFlags(true)...),
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
			&cli.BoolFlag{Name: "prune", Usage: "delete what the broker has and the files do not name (kinds the files manage only)"},
			&cli.BoolFlag{Name: "replace", Usage: "allow replacing queues (empty ones) and exchanges whose properties cannot change in place"},
			&cli.BoolFlag{Name: "keep-guest", Usage: "keep the default guest user even when the files do not define it"},
			&cli.DurationFlag{Name: "wait", Usage: "wait up to this long for the broker's API and health check before starting (init containers, deploy steps)"},
			targetFlag(),
			maxSizeFlag(),
		),
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	target, cl, err := targetOf(c)
	if err != nil {
		return err
	}
	if cl != nil {
		return runApplyCloud(c, target, cl)
	}
	saved, err := readSavedPlan(c)
	if err != nil {
		return err
	}
	opts := planOptions{Prune: c.Bool("prune"), KeepGuest: c.Bool("keep-guest")}
	if saved != nil {
		opts = saved.Options
		if err := saved.checkFiles(); err != nil {
			return err
		}
		if target, err = parseTarget(saved.Options.Target); err != nil {
			return err
		}
	}
	opts.Target = string(target)
	desired, err := loadValid(c, target, savedPaths(saved)...)
	if err != nil {
		return err
	}
	client, err := connect(c)
	if err != nil {
		return err
	}
	if d := c.Duration("wait"); d > 0 {
		if err := waitForBroker(c, client, d); err != nil {
			return err
		}
	}
	who, err := client.Whoami(c.Context)
	if err != nil {
		return err
	}
	if err := checkBrokerVersion(c, client, desired, target); err != nil {
		return err
	}
	plan, err := makePlan(c.Context, client, desired, who.Name, opts)
	if err != nil {
		return err
	}
	if saved != nil && plan.LiveDigest != saved.LiveDigest {
		return errors.New("the broker changed since the plan was made; run warren diff -o again and review the new plan")
	}
	w := c.App.Writer
	definitions.RenderText(w, plan, definitions.RenderOptions{Color: useColor(w)})
	if plan.Empty() || c.Bool("dry-run") {
		return nil
	}
	if !c.Bool("yes") {
		if err := confirm(c); err != nil {
			return err
		}
	}
	progress := newProgress(c.App.ErrWriter)
	err = client.Apply(c.Context, plan, rabbitmq.ApplyOptions{Replace: c.Bool("replace"), Progress: progress.report, Workers: workers()})
	progress.finish()
	if err != nil {
		reportFailure(c.App.ErrWriter, err)
		return exitCodeError{exitError}
	}
	return verify(c, client, desired, who.Name, opts, plan)
}

// planOptions are what decides a plan besides the files and the broker; a
// saved plan records them.
type planOptions struct {
	Prune     bool   `json:"prune"`
	KeepGuest bool   `json:"keep_guest"`
	Target    string `json:"target"`
}

func makePlan(ctx context.Context, client *rabbitmq.Client, desired *definitions.Document, acting string, opts planOptions) (*definitions.Plan, error) {
	live, err := client.ReadKinds(ctx, liveKinds(desired, opts.Prune))
	if err != nil {
		return nil, err
	}
	diffOpts := append(targetDiffOptions(definitions.Target(opts.Target)),
		definitions.WithActingUser(acting), definitions.WithPrune(opts.Prune), definitions.WithKeepGuest(opts.KeepGuest))
	return definitions.Diff(desired, live, diffOpts...)
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
		if desired.ObjectsOf(k) != nil {
			out = append(out, k)
			switch k {
			case definitions.KindQueue, definitions.KindExchange, definitions.KindBinding, definitions.KindPolicy, definitions.KindParameter:
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

// targetDiffOptions are the diff options a target adds.
func targetDiffOptions(t definitions.Target) []definitions.DiffOption {
	if t == definitions.TargetAmazonMQRabbitMQ {
		return amazonmqrabbitmq.DiffOptions()
	}
	return nil
}

// verify reads the broker again after an apply: it must now match the
// files. When the apply removed guest and warren was logged in as guest,
// it logs in as the files' administrator to look.
func verify(c *cli.Context, client *rabbitmq.Client, desired *definitions.Document, acting string, opts planOptions, applied *definitions.Plan) error {
	counts := applied.Counts()
	fmt.Fprintf(c.App.ErrWriter, "Applied: %d created, %d updated, %d replaced, %d deleted.\n",
		counts[definitions.Create], counts[definitions.Update], counts[definitions.Replace], counts[definitions.Delete])
	if acting == "guest" && removedGuest(applied) {
		admin, password, err := filesAdmin(desired)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warren: guest was removed; cannot check the result as another administrator: %v\n", err)
			return nil
		}
		client = client.As(admin, password)
		acting = admin
	}
	// Only what the plan changed is read again: the rest matched moments ago.
	after, err := makePlan(c.Context, client, changedKinds(desired, applied), acting, opts)
	if err != nil {
		return fmt.Errorf("reading the broker after the apply: %w", err)
	}
	if !after.Empty() {
		fmt.Fprintln(c.App.ErrWriter, "warren: the broker did not take everything; it still differs from the files:")
		definitions.RenderText(c.App.ErrWriter, after, definitions.RenderOptions{})
		return exitCodeError{exitError}
	}
	fmt.Fprintln(c.App.ErrWriter, "The broker matches the files.")
	return nil
}

// changedKinds is desired cut down to the kinds a plan changed.
func changedKinds(desired *definitions.Document, p *definitions.Plan) *definitions.Document {
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

func removedGuest(p *definitions.Plan) bool {
	for _, ch := range p.Changes {
		if ch.Kind == definitions.KindUser && ch.Action == definitions.Delete && ch.Addr == `user "guest"` {
			return true
		}
	}
	return false
}

// filesAdmin finds an administrator in the files whose password warren
// can resolve.
func filesAdmin(d *definitions.Document) (string, string, error) {
	for _, u := range d.Users {
		if u.Password == nil || !containsTag(u.Tags, "administrator") {
			continue
		}
		if pw, err := definitions.ResolveSecret(u.Password); err == nil {
			return u.Name, pw, nil
		}
	}
	return "", "", errors.New("no administrator in the files has a password warren can read")
}

func containsTag(tags []string, t string) bool {
	for _, x := range tags {
		if x == t {
			return true
		}
	}
	return false
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

// waitForBroker polls the management API and its health check.
func waitForBroker(c *cli.Context, client *rabbitmq.Client, d time.Duration) error {
	ctx, cancel := context.WithTimeout(c.Context, d)
	defer cancel()
	var last error
	for {
		if _, err := client.Whoami(ctx); err == nil {
			if err = client.Healthy(ctx); err == nil {
				return nil
			}
			last = err
		} else {
			last = err
		}
		var ae *rabbitmq.APIError
		if errors.As(last, &ae) && ae.Status == 401 {
			return last // waiting will not fix credentials
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the broker was not ready within %s: %w", d, last)
		case <-time.After(time.Second):
		}
	}
}

func reportFailure(w io.Writer, err error) {
	var ae *definitions.ApplyError
	if !errors.As(err, &ae) {
		fmt.Fprintf(w, "warren: %v\n", err)
		return
	}
	fmt.Fprintf(w, "warren: the apply stopped: %v\n", ae.Err)
	section := func(title string, chs []definitions.Change) {
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
	fmt.Fprintln(w, "Fix the cause and run warren apply again: it picks up from what the broker has now.")
}

// progress shows how far an apply got: a bar on a terminal, plain lines
// otherwise.
type progress struct {
	w    io.Writer
	tty  bool
	last int
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

func (p *progress) report(pr rabbitmq.Progress) {
	if p.tty {
		const width = 30
		filled := width * pr.Done / max(pr.Total, 1)
		fmt.Fprintf(p.w, "\r  applying [%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pr.Done, pr.Total)
		return
	}
	switch {
	case pr.What == "import":
		fmt.Fprintf(p.w, "  imported %d objects in one request (%d/%d)\n", len(pr.Changes), pr.Done, pr.Total)
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

// A saved plan: what warren diff -o writes and warren apply PLAN.json
// carries out. It holds no secret: the files are named with their digests
// and read again, and the broker must still be as the plan saw it.
type savedPlan struct {
	Warren        string               `json:"warren"` // "plan"
	FormatVersion int                  `json:"format_version"`
	Files         []savedFile          `json:"files"`
	Options       planOptions          `json:"options"`
	LiveDigest    string               `json:"live_digest"`
	Plan          definitions.PlanJSON `json:"plan"`
}

type savedFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// readSavedPlan returns the saved plan when the only argument is one.
func readSavedPlan(c *cli.Context) (*savedPlan, error) {
	if c.NArg() != 1 || !strings.HasSuffix(c.Args().First(), ".json") {
		return nil, nil
	}
	data, err := os.ReadFile(c.Args().First())
	if err != nil {
		return nil, nil // not readable as a plan: load it as definitions
	}
	var sp savedPlan
	if json.Unmarshal(data, &sp) != nil || sp.Warren != "plan" {
		return nil, nil
	}
	if sp.FormatVersion != 1 {
		return nil, fmt.Errorf("%s is a plan of format %d; this warren reads format 1", c.Args().First(), sp.FormatVersion)
	}
	return &sp, nil
}

func savedPaths(sp *savedPlan) []string {
	if sp == nil {
		return nil
	}
	out := make([]string, len(sp.Files))
	for i, f := range sp.Files {
		out[i] = f.Path
	}
	return out
}

func (sp *savedPlan) checkFiles() error {
	for _, f := range sp.Files {
		sum, err := fileDigest(f.Path)
		if err != nil {
			return fmt.Errorf("the plan's file %s: %w", f.Path, err)
		}
		if sum != f.SHA256 {
			return fmt.Errorf("%s changed since the plan was made; run warren diff -o again", f.Path)
		}
	}
	return nil
}

func fileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// workers reads WARREN_APPLY_WORKERS, how many deletions run at once (for
// measuring; the default, 4, is what make bench found fastest).
func workers() int {
	var n int
	fmt.Sscan(os.Getenv("WARREN_APPLY_WORKERS"), &n)
	return n
}
