package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/migrate"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/inventory"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// warren migrate: a blue-green move from a 3.x cluster to a 4.x one
// (definitions/migrate makes the new cluster's definitions and the
// federation; everything else is warren's ordinary plan and apply).
//
// The brokers are named by --from and --to: management URLs, or names of
// an inventory's brokers (--inventory, WARREN_INVENTORY), resolved to URLs,
// credentials and TLS settings in migrateSide, the one place that turns
// flags into a broker.

func migrateCommand() *cli.Command {
	return &cli.Command{
		Name:  "migrate",
		Usage: "move a 3.x cluster to a new 4.x cluster, blue-green: quorum queues for mirrored ones, queue federation to drain the old queues",
		Description: "Steps, in order: plan (shows every change and the plan for the new cluster; touches nothing), apply\n" +
			"(the new cluster's definitions and the federation, as an ordinary apply), status (per queue: messages\n" +
			"left on the old cluster, consumers on each side, federation links), finish (removes the federation once\n" +
			"the old queues are empty). The old cluster is only read, never changed.\n\n" +
			"Exit codes: 0 success (status: drained), 1 error (plan: something cannot be migrated automatically),\n" +
			"2 status: messages are left on the old cluster.",
		Subcommands: []*cli.Command{migratePlanCommand(), migrateApplyCommand(), migrateStatusCommand(), migrateFinishCommand()},
	}
}

// migrateFlags are the two brokers' connection flags. --username and
// --password-file (WARREN_USERNAME, WARREN_PASSWORD[_FILE]) serve both;
// --from-… and --to-… (WARREN_FROM_PASSWORD, WARREN_TO_PASSWORD) where they
// differ. The TLS flags and timeouts are shared.
func migrateFlags(upstream bool) []cli.Flag {
	var flags []cli.Flag
	for _, f := range connectionFlags() {
		if !slices.Contains(f.Names(), "url") {
			flags = append(flags, f)
		}
	}
	flags = append(flags,
		&cli.StringFlag{Name: "inventory", EnvVars: []string{"WARREN_INVENTORY"}, Usage: "inventory file whose broker names --from and --to may give instead of URLs (see README, Clusters and fleets)"},
		&cli.StringFlag{Name: "from", EnvVars: []string{"WARREN_FROM_URL"}, Usage: "the old cluster's management URL, or a broker's name in --inventory"},
		&cli.StringFlag{Name: "from-username", EnvVars: []string{"WARREN_FROM_USERNAME"}, Usage: "user on the old cluster (default: --username)"},
		&cli.StringFlag{Name: "from-password-file", EnvVars: []string{"WARREN_FROM_PASSWORD_FILE"}, Usage: "its password's file (or WARREN_FROM_PASSWORD; default: as --password-file)"},
		&cli.StringFlag{Name: "to", EnvVars: []string{"WARREN_TO_URL"}, Usage: "the new cluster's management URL, or a broker's name in --inventory"},
		&cli.StringFlag{Name: "to-username", EnvVars: []string{"WARREN_TO_USERNAME"}, Usage: "user on the new cluster (default: --username)"},
		&cli.StringFlag{Name: "to-password-file", EnvVars: []string{"WARREN_TO_PASSWORD_FILE"}, Usage: "its password's file (or WARREN_TO_PASSWORD; default: as --password-file)"},
	)
	if upstream {
		flags = append(flags,
			&cli.StringFlag{Name: "from-file", Usage: "read the old cluster's definitions from this export (warren export --no-trim hashes, or RabbitMQ's own) instead of --from"},
			&cli.StringFlag{Name: "upstream-uri", EnvVars: []string{"WARREN_UPSTREAM_URI"},
				Usage: "how the new cluster reaches the old one over AMQP: env:NAME or file:PATH where the URI with its password is read when warren applies it ({vhost} stands for each vhost: / is DEFAULT in env names, default in paths), or amqp[s]://[user@]host[:port] without a password"},
			maxSizeFlag(),
		)
	}
	return flags
}

// migrateSide connects to one side ("from" or "to") of the migration.
func migrateSide(c *cli.Context, side, url string) (*rabbitmq.Client, error) {
	if url == "" {
		return nil, fmt.Errorf("no --%s: give the %s cluster's management URL", side, map[string]string{"from": "old", "to": "new"}[side])
	}
	l := login{user: c.String("username"), passwordFile: c.String("password-file"), passwordEnv: "WARREN_PASSWORD", password: c.String("password")}
	urls := []string{url}
	if !strings.Contains(url, "://") { // a broker's name in the inventory
		b, err := inventoryBroker(c, side, url)
		if err != nil {
			return nil, err
		}
		urls = b.URLs
		if b.Username != "" {
			l.user = b.Username
		}
		if l.known, err = b.Password(); err != nil {
			return nil, err
		}
		l.tls = &b.TLS
	}
	if u := c.String(side + "-username"); u != "" {
		l.user = u
	}
	if f := c.String(side + "-password-file"); f != "" {
		l.passwordFile, l.fileFlag = f, side+"-password-file"
	}
	if env := "WARREN_" + strings.ToUpper(side) + "_PASSWORD"; os.Getenv(env) != "" {
		l.passwordEnv = env
		if c.String(side+"-password-file") == "" {
			l.passwordFile = ""
		}
	}
	if c.String(side+"-password-file") != "" || os.Getenv("WARREN_"+strings.ToUpper(side)+"_PASSWORD") != "" {
		// --from-…/--to-… given: they override the inventory's, and the
		// --password both sides share (which would reach the other side's
		// cluster).
		l.known, l.password = "", ""
	}
	return connectAs(c, l, urls...)
}

// inventoryBroker finds --from's or --to's broker name in the inventory.
func inventoryBroker(c *cli.Context, side, name string) (*inventory.Broker, error) {
	path := c.String("inventory")
	if path == "" {
		return nil, fmt.Errorf("--%s %q is not a URL (http[s]://host:port), and no inventory names brokers: give --inventory FILE or set WARREN_INVENTORY", side, name)
	}
	inv, err := loadInventory(c, path)
	if err != nil {
		return nil, err
	}
	b, err := inv.Broker(name)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", side, err)
	}
	if b.Target != string(definitions.TargetRabbitMQ) {
		return nil, fmt.Errorf("--%s: broker %q is %s; warren migrate moves between RabbitMQ clusters", side, name, b.Target)
	}
	return b, nil
}

// migrateSource is where the old cluster's definitions were read: its
// URL, or an export file (with its digest), and the digest of what was
// read. A saved migration plan is refused when either changed.
type migrateSource struct {
	URL    string `json:"url,omitempty"`
	File   string `json:"file,omitempty"`
	Digest string `json:"digest"`
}

// readOld reads the old cluster's definitions, trimmed of what is
// node-specific as warren export trims them, hashes kept.
// newCluster is the new cluster's identity: an old cluster that is the
// same cluster is refused (migrate changes only the new one).
func readOld(c *cli.Context, from, file string, newCluster map[string]string) (*definitions.Document, migrateSource, error) {
	var doc *definitions.Document
	var src migrateSource
	switch {
	case file != "": // --from-file wins over --from (and WARREN_FROM_URL)
		abs, err := filepath.Abs(file)
		if err != nil {
			return nil, src, err
		}
		size, err := parseSize(c.String("max-size"))
		if err != nil {
			return nil, src, err
		}
		d, diags := definitions.Load([]string{abs}, definitions.LoadOptions{MaxSize: size})
		if d == nil || diags.HasErrors() {
			printDiagnostics(c.App.ErrWriter, diags)
			return nil, src, exitCodeError{exitError}
		}
		doc, src.File = d, abs
	default:
		client, err := migrateSide(c, "from", from)
		if err != nil {
			return nil, src, err
		}
		oldID, err := client.Identity(c.Context)
		if err != nil {
			return nil, src, fmt.Errorf("reading the old cluster's identity: %w", err)
		}
		if sameCluster(oldID, newCluster) {
			return nil, src, errors.New("--from and --to are the same cluster: warren migrate moves definitions to a new cluster and never changes the old one")
		}
		if doc, err = client.Read(c.Context); err != nil {
			return nil, src, fmt.Errorf("reading the old cluster: %w", err)
		}
		src.URL = from
	}
	if err := definitions.Trim(doc, definitions.DefaultTrims()); err != nil {
		return nil, src, err
	}
	src.Digest = definitions.Digest(doc)
	return doc, src, nil
}

// sameCluster says whether two clusters' identities are one cluster's
// (their internal_cluster_id).
func sameCluster(a, b map[string]string) bool {
	id := a["internal_cluster_id"]
	return id != "" && id == b["internal_cluster_id"]
}

// migrateTarget connects to the new cluster as an ordinary target.
func migrateTarget(c *cli.Context) (*rabbitmq.Target, string, error) {
	client, err := migrateSide(c, "to", c.String("to"))
	if err != nil {
		return nil, "", err
	}
	t := rabbitmq.NewTarget(client, definitions.TargetRabbitMQ)
	t.Workers = workers()
	version, err := t.Version(c.Context)
	if err != nil {
		return nil, "", fmt.Errorf("reading the new cluster's version: %w", err)
	}
	return t, version, nil
}

// migrateOptions are the plan options of a migration: nothing is pruned
// and the new cluster's guest is left alone.
var migrateOptions = plan.Options{Target: string(definitions.TargetRabbitMQ), KeepGuest: true}

// transform reads the old cluster and makes the new cluster's
// definitions; what cannot be migrated is printed and stops the command.
func transform(c *cli.Context, from, file, upstream, version string, to plan.BrokerID, quiet bool) (*migrate.Result, migrateSource, error) {
	if upstream == "" {
		return nil, migrateSource{}, errors.New("no --upstream-uri: say how the new cluster reaches the old one over AMQP (env:NAME, file:PATH, or a URI without a password)")
	}
	tmpl, err := migrate.ParseURITemplate(upstream)
	if err != nil {
		return nil, migrateSource{}, err
	}
	old, src, err := readOld(c, from, file, to.Cluster)
	if err != nil {
		return nil, src, err
	}
	res := migrate.Transform(old, migrate.Options{Version: version, Upstream: tmpl, ActingUser: to.ActingUser})
	if !quiet || len(res.Problems) > 0 {
		res.Report(c.App.Writer)
	}
	if len(res.Problems) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "warren: %s cannot be migrated automatically (listed above); nothing was planned or changed\n", plural(len(res.Problems), "thing"))
		return nil, src, exitCodeError{exitError}
	}
	return res, src, nil
}

func migratePlanCommand() *cli.Command {
	return &cli.Command{
		Name:  "plan",
		Usage: "show what migrating the old cluster to the new one changes, and the plan for the new cluster; touches nothing",
		Description: "Reads the old cluster (--from, or an export with --from-file) and the new cluster's version (--to), makes\n" +
			"the new cluster's definitions (mirrored classic queues as quorum queues, policies without ha-* keys,\n" +
			"arguments quorum queues refuse dropped or translated, users with their password hashes) and the\n" +
			"federation that drains the old queues, lists every change with its reason, checks the result against the\n" +
			"new version's rules, and prints the plan for the new cluster. --out saves it for migrate apply;\n" +
			"--write-definitions writes the new cluster's definitions (without the federation) for git and diff.\n\n" +
			"Exit codes: 0 planned, 1 error, or something cannot be migrated automatically (listed, with its place in\n" +
			"an export).",
		Flags: append(migrateFlags(true),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "save the plan for warren migrate apply PLAN.json (holds no secret)"},
			&cli.StringFlag{Name: "write-definitions", Usage: "write the new cluster's definitions, without the federation, to this file (JSON, or YAML for .yaml; 0600: it holds password hashes)"},
		),
		Action: runMigratePlan,
	}
}

func runMigratePlan(c *cli.Context) error {
	t, version, err := migrateTarget(c)
	if err != nil {
		return err
	}
	id, err := t.Identity(c.Context)
	if err != nil {
		return err
	}
	res, src, err := transform(c, c.String("from"), c.String("from-file"), c.String("upstream-uri"), version, id, false)
	if err != nil {
		return err
	}
	desired := res.Desired()
	if err := checkBrokerVersion(c, t, desired, definitions.TargetRabbitMQ); err != nil {
		return err
	}
	p, err := makePlan(c.Context, t, desired, migrateOptions)
	if err != nil {
		return secretError(c, desired, err)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "\nNew cluster (%s, RabbitMQ %s):\n", c.String("to"), version)
	renderText(w, p)
	old := src.URL
	if old == "" {
		old = src.File
	}
	fmt.Fprintf(w, "\nOld cluster (%s): nothing changes. The federation reads its queues until warren migrate finish.\n", old)
	if out := c.String("write-definitions"); out != "" {
		d := *res.Definitions
		d.Sort()
		data := d.EncodeJSON()
		if ext := strings.ToLower(filepath.Ext(out)); ext == ".yaml" || ext == ".yml" {
			data = d.EncodeYAML("")
		}
		if err := writeFileAtomic(out, data, 0o600); err != nil {
			return err
		}
	}
	if out := c.String("out"); out != "" {
		sp := newSavedPlan(id, migrateOptions, p)
		if src.File != "" {
			sum, err := fileDigest(src.File)
			if err != nil {
				return err
			}
			sp.Files = []plan.SavedFile{{Path: src.File, SHA256: sum}}
		}
		mp := migratePlan{Warren: "migrate-plan", FormatVersion: 1, From: src, Upstream: c.String("upstream-uri"), Plan: sp}
		data, err := json.MarshalIndent(mp, "", "  ")
		if err != nil {
			return err
		}
		return writeFileAtomic(out, append(data, '\n'), 0o644)
	}
	return nil
}

// migratePlan is what migrate plan --out saves: where the old cluster was
// read, how the new one reaches it, and the new cluster's saved plan. It
// holds no secret: the upstream URI is a reference or has no password.
type migratePlan struct {
	Warren        string          `json:"warren"` // "migrate-plan"
	FormatVersion int             `json:"format_version"`
	From          migrateSource   `json:"from"`
	Upstream      string          `json:"upstream"`
	Plan          *plan.SavedPlan `json:"plan"`
}

func readMigratePlan(path string) (*migratePlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var mp migratePlan
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&mp); err != nil || mp.Warren != "migrate-plan" || mp.Plan == nil {
		return nil, fmt.Errorf("%s is not a plan saved by warren migrate plan --out", path)
	}
	if mp.FormatVersion != 1 {
		return nil, fmt.Errorf("%s: a migration plan of format %d; this warren reads format 1: run warren migrate plan --out again", path, mp.FormatVersion)
	}
	return &mp, nil
}

// migrateApplyFlags are the flags of the subcommands that change the new
// cluster (apply, finish).
func migrateApplyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
		&cli.BoolFlag{Name: "dry-run", Usage: "print the plan and change nothing"},
		&cli.BoolFlag{Name: "break-lock", Usage: "take the new cluster's apply lock even when another apply holds it"},
	}
}

func migrateApplyCommand() *cli.Command {
	return &cli.Command{
		Name:      "apply",
		Usage:     "carry out the migration on the new cluster: its definitions and the federation, as an ordinary apply",
		ArgsUsage: "[PLAN.json]",
		Description: "Makes the migration plan again (from PLAN.json's source, or the flags) and applies it to the new cluster\n" +
			"through warren apply's own path: a saved plan is refused when the old cluster, the export or the new\n" +
			"cluster changed since; the broker's apply lock is taken; progress is shown; the broker is read again\n" +
			"afterwards. Definitions and federation go in one plan: the import creates the policies and upstreams\n" +
			"before the queues, so each queue is federated from the moment it exists. The old cluster is not changed.\n\n" +
			"Exit codes: 0 applied (or nothing to do), 1 error.",
		Flags:  append(migrateFlags(true), migrateApplyFlags()...),
		Action: runMigrateApply,
	}
}

func runMigrateApply(c *cli.Context) error {
	from, file, upstream := c.String("from"), c.String("from-file"), c.String("upstream-uri")
	var saved *plan.SavedPlan
	var mp *migratePlan
	if c.NArg() > 1 {
		return errors.New("give at most one saved plan (warren migrate plan --out)")
	}
	if c.NArg() == 1 {
		var err error
		if mp, err = readMigratePlan(c.Args().First()); err != nil {
			return err
		}
		saved = mp.Plan
		if err := checkFiles(saved); err != nil {
			return err
		}
		if !c.IsSet("from") && !c.IsSet("from-file") {
			from, file = mp.From.URL, mp.From.File
		}
		if !c.IsSet("upstream-uri") {
			upstream = mp.Upstream
		}
		if !c.IsSet("to") && len(saved.Broker.URLs) > 0 {
			if err := c.Set("to", saved.Broker.URLs[0]); err != nil {
				return err
			}
		}
	}
	t, version, err := migrateTarget(c)
	if err != nil {
		return err
	}
	id, err := t.Identity(c.Context)
	if err != nil {
		return err
	}
	res, src, err := transform(c, from, file, upstream, version, id, true)
	if err != nil {
		return err
	}
	if mp != nil && src.Digest != mp.From.Digest {
		fmt.Fprintf(c.App.ErrWriter, "warren: the old cluster's definitions changed since %s was made; nothing was applied.\nRun warren migrate plan --out again and review the new plan.\n", c.Args().First())
		return exitCodeError{exitError}
	}
	return applyTo(c, t, definitions.TargetRabbitMQ, res.Desired(), migrateOptions, saved, "warren migrate plan --out")
}

func migrateStatusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show, per migrated queue, the messages left on the old cluster, the consumers on each side and the federation link",
		Description: "Reads the old cluster (--from) to know the migrated queues and their messages, and the new cluster (--to)\n" +
			"for its consumers and its federation links (GET /api/federation-links: the\n" +
			"rabbitmq_federation_management plugin; without it the links show as unknown). Federation moves messages\n" +
			"only while the new queue has consumers: move consumers first, then publishers.\n\n" +
			"Exit codes: 0 drained (no message left on the old cluster), 2 not yet, 1 error.",
		Flags: append(migrateFlags(false),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		),
		Action: runMigrateStatus,
	}
}

// queueStatus is one migrated queue in migrate status.
type queueStatus struct {
	Vhost        string `json:"vhost"`
	Queue        string `json:"queue"`
	OldMessages  *int64 `json:"old_messages"` // nil: the old cluster has no statistics for it yet
	OldConsumers int64  `json:"old_consumers"`
	NewMessages  int64  `json:"new_messages"`
	NewConsumers int64  `json:"new_consumers"`
	Link         string `json:"link"` // the federation link's status, "none", or "unknown"
}

// migrationState reads both sides: the migrated queues with their
// messages and consumers.
func migrationState(c *cli.Context) ([]queueStatus, *rabbitmq.Target, error) {
	format := c.String("format")
	if format != "" && format != "text" && format != "json" {
		return nil, nil, fmt.Errorf("unknown --format %q: use text or json", format)
	}
	t, version, err := migrateTarget(c)
	if err != nil {
		return nil, nil, err
	}
	oldClient, err := migrateSide(c, "from", c.String("from"))
	if err != nil {
		return nil, nil, err
	}
	// One cluster given twice would read as every queue migrated.
	oldID, err := oldClient.Identity(c.Context)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the old cluster's identity: %w", err)
	}
	newID, err := t.Client().Identity(c.Context)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the new cluster's identity: %w", err)
	}
	if sameCluster(oldID, newID) {
		return nil, nil, errors.New("--from and --to are the same cluster: there is no migration between them to report on")
	}
	old, err := oldClient.Read(c.Context)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the old cluster: %w", err)
	}
	// The queue list does not depend on the upstream: any URI will do.
	res := migrate.Transform(old, migrate.Options{Version: version, Upstream: migrate.URITemplate{Literal: "amqp://old"}})
	oldStates, err := oldClient.QueueStates(c.Context)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the old cluster's queues: %w", err)
	}
	newStates, err := t.Client().QueueStates(c.Context)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the new cluster's queues: %w", err)
	}
	links, linkErr := t.Client().FederationLinks(c.Context)
	index := func(states []rabbitmq.QueueState) map[[2]string]rabbitmq.QueueState {
		m := map[[2]string]rabbitmq.QueueState{}
		for _, s := range states {
			m[[2]string{s.Vhost, s.Name}] = s
		}
		return m
	}
	oldByName, newByName := index(oldStates), index(newStates)
	var out []queueStatus
	for _, q := range res.Queues {
		k := [2]string{q.Vhost, q.Name}
		o, onOld := oldByName[k]
		if !onOld {
			o.Messages = new(int64) // gone from the old cluster: nothing left there
		}
		s := queueStatus{Vhost: q.Vhost, Queue: q.Name, OldMessages: o.Messages, OldConsumers: o.Consumers,
			NewMessages: deref(newByName[k].Messages), NewConsumers: newByName[k].Consumers, Link: "none"}
		if linkErr != nil {
			s.Link = "unknown"
		}
		for _, l := range links {
			if l.Type == "queue" && l.Vhost == q.Vhost && l.Queue == q.Name && l.Upstream == migrate.UpstreamName {
				s.Link = l.Status
			}
		}
		out = append(out, s)
	}
	return out, t, nil
}

func runMigrateStatus(c *cli.Context) error {
	states, _, err := migrationState(c)
	if err != nil {
		return err
	}
	drained := isDrained(states)
	if c.String("format") == "json" {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Drained bool          `json:"drained"`
			Queues  []queueStatus `json:"queues"`
		}{drained, append([]queueStatus{}, states...)}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VHOST\tQUEUE\tOLD MESSAGES\tOLD CONSUMERS\tNEW CONSUMERS\tNEW MESSAGES\tFEDERATION LINK")
		for _, s := range states {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", s.Vhost, s.Queue, messages(s.OldMessages), s.OldConsumers, s.NewConsumers, s.NewMessages, s.Link)
		}
		tw.Flush()
		if drained {
			fmt.Fprintln(c.App.Writer, "Drained: no message is left on the old cluster. Run warren migrate finish once publishers have moved.")
		} else {
			fmt.Fprintln(c.App.Writer, "Not drained yet: messages are left on the old cluster (they move while the new queues have consumers).")
		}
	}
	if !drained {
		return exitCodeError{exitDrift}
	}
	return nil
}

func migrateFinishCommand() *cli.Command {
	return &cli.Command{
		Name:  "finish",
		Usage: "remove the federation from the new cluster once the old queues are empty",
		Description: "Checks that every migrated queue is empty on the old cluster (refuses otherwise, naming the queues and\n" +
			"their messages), then deletes the federation's policies and upstreams from the new cluster through\n" +
			"warren apply's own path; the plain policies they shadowed apply again. The old cluster is not changed:\n" +
			"retire it when nothing uses it.\n\n" +
			"Exit codes: 0 finished (or nothing to do), 1 error or not drained.",
		Flags:  append(migrateFlags(false), migrateApplyFlags()...),
		Action: runMigrateFinish,
	}
}

// isDrained reports whether no message is left on the old cluster: every
// queue's statistics say 0 (a queue without statistics yet is not).
func isDrained(states []queueStatus) bool {
	for _, s := range states {
		if s.OldMessages == nil || *s.OldMessages > 0 {
			return false
		}
	}
	return true
}

func deref(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

func messages(n *int64) string {
	if n == nil {
		return "?"
	}
	return fmt.Sprint(*n)
}

// statsInterval is how long finish waits to read the old cluster's
// statistics again: the broker's collect_statistics_interval (5 s by
// default) and some.
var statsInterval = 6 * time.Second

func runMigrateFinish(c *cli.Context) error {
	states, t, err := migrationState(c)
	if err != nil {
		return err
	}
	// The management API's counts lag by the statistics interval: a
	// message published just now may not show yet. Drained twice, that
	// interval apart, is drained.
	if isDrained(states) {
		time.Sleep(statsInterval)
		if states, t, err = migrationState(c); err != nil {
			return err
		}
	}
	var left []string
	for _, s := range states {
		switch {
		case s.OldMessages == nil:
			left = append(left, fmt.Sprintf("  queue %q on vhost %q: no statistics yet", s.Queue, s.Vhost))
		case *s.OldMessages > 0:
			left = append(left, fmt.Sprintf("  queue %q on vhost %q: %s", s.Queue, s.Vhost, plural(int(*s.OldMessages), "message")))
		}
	}
	if len(left) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "warren: the old cluster still holds messages; the federation stays (nothing was changed):\n%s\n", strings.Join(left, "\n"))
		fmt.Fprintln(c.App.ErrWriter, "Give the new queues consumers and watch warren migrate status.")
		return exitCodeError{exitError}
	}
	// The new cluster's policies and parameters as they are, without the
	// federation's: pruning these kinds deletes exactly those.
	live, err := t.Read(c.Context, []definitions.Kind{definitions.KindPolicy, definitions.KindParameter})
	if err != nil {
		return err
	}
	desired := &definitions.Document{
		Policies: slices.DeleteFunc(slices.Clone(live.Policies), func(p *definitions.Policy) bool {
			// migrate apply's: its name, and its upstream (a policy of the
			// same name that federates nothing is the user's own).
			return (p.Name == migrate.PolicyPrefix || strings.HasPrefix(p.Name, migrate.PolicyPrefix+".")) &&
				p.Definition["federation-upstream"] == migrate.UpstreamName
		}),
		Parameters: slices.DeleteFunc(slices.Clone(live.Parameters), func(p *definitions.Parameter) bool {
			return p.Component == "federation-upstream" && p.Name == migrate.UpstreamName
		}),
	}
	if len(desired.Policies) == len(live.Policies) && len(desired.Parameters) == len(live.Parameters) {
		fmt.Fprintln(c.App.Writer, "No federation left: the migration is finished.")
		return nil
	}
	opts := migrateOptions
	opts.Prune = true
	return applyTo(c, t, definitions.TargetRabbitMQ, desired, opts, nil, "warren migrate finish")
}
