package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/internal/operation/inventory"
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
		&cli.StringFlag{Name: "inventory", EnvVars: []string{"WARREN_INVENTORY"}, Usage: "inventory file whose broker names --from and --to may give instead of URLs (see docs/clusters-and-fleets.md)"},
		&cli.StringFlag{Name: "from", EnvVars: []string{"WARREN_FROM_URL"}, Usage: "the old cluster's management URL, or a broker's name in --inventory"},
		&cli.StringFlag{Name: "from-username", EnvVars: []string{"WARREN_FROM_USERNAME"}, Usage: "user on the old cluster (default: --username)"},
		&cli.StringFlag{Name: "from-password-file", EnvVars: []string{"WARREN_FROM_PASSWORD_FILE"}, Usage: "its password's file (or WARREN_FROM_PASSWORD; default: as --password-file)"},
		&cli.StringFlag{Name: "to", EnvVars: []string{"WARREN_TO_URL"}, Usage: "the new cluster's management URL, or a broker's name in --inventory"},
		&cli.StringFlag{Name: "to-username", EnvVars: []string{"WARREN_TO_USERNAME"}, Usage: "user on the new cluster (default: --username)"},
		&cli.StringFlag{Name: "to-password-file", EnvVars: []string{"WARREN_TO_PASSWORD_FILE"}, Usage: "its password's file (or WARREN_TO_PASSWORD; default: as --password-file)"},
		&cli.StringFlag{Name: "from-target", EnvVars: []string{"WARREN_FROM_TARGET"}, Value: "rabbitmq", Usage: "what the old cluster is: rabbitmq, or amazonmq-rabbitmq (Amazon MQ's system user, policies, operator policies and limits of / are not moved)"},
		&cli.StringFlag{Name: "to-target", EnvVars: []string{"WARREN_TO_TARGET"}, Value: "rabbitmq", Usage: "what the new cluster is: rabbitmq, or amazonmq-rabbitmq (Amazon MQ's objects are left alone, its rules checked as apply --target amazonmq-rabbitmq does)"},
	)
	if upstream {
		flags = append(flags,
			&cli.StringFlag{Name: "from-file", Usage: "read the old cluster's definitions from this export (warren export --no-trim hashes, or RabbitMQ's own) instead of --from"},
			&cli.StringFlag{Name: "upstream-uri", EnvVars: []string{"WARREN_UPSTREAM_URI"},
				Usage: "how the new cluster reaches the old one over AMQP: env:NAME or file:PATH where the URI with its password is read when warren applies it ({vhost} stands for each vhost: / is DEFAULT in env names, default in paths), or amqp[s]://[user@]host[:port] without a password"},
			maxSizeFlag(),
			&cli.StringFlag{Name: "owner", EnvVars: []string{"WARREN_OWNER"}, Usage: "record the new cluster's objects as this owner's (see docs/ownership.md)"},
		)
	}
	return flags
}

// migrateSide is the connection to one side ("from" or "to") of the
// migration, named by url: a management URL or an inventory broker's name.
func migrateSide(c *cli.Context, side, url string) (operation.Connection, error) {
	if url == "" {
		return operation.Connection{}, fmt.Errorf("no --%s: give the %s cluster's management URL", side, map[string]string{"from": "old", "to": "new"}[side])
	}
	conn := connectionOf(c)
	l := operation.Login{User: c.String("username"), PasswordFile: c.String("password-file"), PasswordEnv: "WARREN_PASSWORD", Password: c.String("password")}
	urls := []string{url}
	if !strings.Contains(url, "://") { // a broker's name in the inventory
		b, err := inventoryBroker(c, side, url)
		if err != nil {
			return operation.Connection{}, err
		}
		urls = b.URLs
		if b.Username != "" {
			l.User = b.Username
		}
		if l.Known, err = b.Password(); err != nil {
			return operation.Connection{}, err
		}
		conn.TLS = operation.TLS{CACert: cmp.Or(b.TLS.CA, conn.TLS.CACert), ClientCert: cmp.Or(b.TLS.ClientCert, conn.TLS.ClientCert),
			ClientKey: cmp.Or(b.TLS.ClientKey, conn.TLS.ClientKey), Insecure: conn.TLS.Insecure || b.TLS.Insecure}
	}
	if u := c.String(side + "-username"); u != "" {
		l.User = u
	}
	if f := c.String(side + "-password-file"); f != "" {
		l.PasswordFile, l.FileFlag = f, side+"-password-file"
	}
	if env := "WARREN_" + strings.ToUpper(side) + "_PASSWORD"; os.Getenv(env) != "" {
		l.PasswordEnv = env
		if c.String(side+"-password-file") == "" {
			l.PasswordFile = ""
		}
	}
	if c.String(side+"-password-file") != "" || os.Getenv("WARREN_"+strings.ToUpper(side)+"_PASSWORD") != "" {
		// --from-…/--to-… given: they override the inventory's, and the
		// --password both sides share (which would reach the other side's
		// cluster).
		l.Known, l.Password = "", ""
	}
	conn.URLs, conn.Login = urls, l
	return conn, nil
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

// migrateRequest reads both sides' flags; to, when set, stands for
// --to (a saved plan's URL).
func migrateRequest(c *cli.Context, from, file, upstream, to string) (operation.MigrateRequest, error) {
	if to == "" {
		to = c.String("to")
	}
	toConn, err := migrateSide(c, "to", to)
	if err != nil {
		return operation.MigrateRequest{}, err
	}
	req := operation.MigrateRequest{To: toConn, ToName: to, FromName: from, FromFile: file, Upstream: upstream, Workers: workers()}
	for _, side := range []struct {
		flag string
		to   *definitions.TargetName
	}{{"from-target", &req.FromTarget}, {"to-target", &req.ToTarget}} {
		name, err := operation.ParseTarget(c.String(side.flag))
		if err != nil {
			return req, fmt.Errorf("--%s: %w", side.flag, err)
		}
		if name != definitions.TargetRabbitMQ && name != definitions.TargetAmazonMQRabbitMQ {
			return req, fmt.Errorf("--%s %s: warren migrate moves between RabbitMQ clusters (rabbitmq or amazonmq-rabbitmq)", side.flag, name)
		}
		*side.to = name
	}
	if hasFlag(c, "owner") {
		req.Owner = c.String("owner")
	}
	if file == "" {
		if req.From, err = migrateSide(c, "from", from); err != nil {
			return req, err
		}
	}
	if hasFlag(c, "max-size") {
		if req.MaxSize, err = parseSize(c.String("max-size")); err != nil {
			return req, err
		}
	}
	return req, nil
}

func runMigratePlan(c *cli.Context) error {
	req, err := migrateRequest(c, c.String("from"), c.String("from-file"), c.String("upstream-uri"), "")
	if err != nil {
		return err
	}
	return operation.MigratePlan(c.Context, newView(c, "text"), operation.MigratePlanRequest{MigrateRequest: req,
		SaveTo: c.String("out"), WriteDefinitions: c.String("write-definitions")})
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
	from, file, upstream, to := c.String("from"), c.String("from-file"), c.String("upstream-uri"), ""
	var saved *plan.SavedMigration
	if c.NArg() > 1 {
		return errors.New("give at most one saved plan (warren migrate plan --out)")
	}
	if c.NArg() == 1 {
		var err error
		if saved, err = operation.ReadSavedMigration(c.Args().First()); err != nil {
			return err
		}
		if !c.IsSet("from") && !c.IsSet("from-file") {
			from, file = saved.From.URL, saved.From.File
		}
		if !c.IsSet("upstream-uri") {
			upstream = saved.Upstream
		}
		if !c.IsSet("to") && len(saved.Plan.Broker.URLs) > 0 {
			to = saved.Plan.Broker.URLs[0]
		}
	}
	req, err := migrateRequest(c, from, file, upstream, to)
	if err != nil {
		return err
	}
	_, err = operation.MigrateApply(c.Context, newView(c, "text"), operation.MigrateApplyRequest{MigrateRequest: req,
		Saved: saved, SavedName: c.Args().First(), Yes: c.Bool("yes"), DryRun: c.Bool("dry-run"), BreakLock: c.Bool("break-lock")})
	return err
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

func runMigrateStatus(c *cli.Context) error {
	format := c.String("format")
	if format != "" && format != "text" && format != "json" {
		return fmt.Errorf("unknown --format %q: use text or json", format)
	}
	req, err := migrateRequest(c, c.String("from"), "", "", "")
	if err != nil {
		return err
	}
	states, err := operation.MigrationStatus(c.Context, newView(c, "text"), req)
	if err != nil {
		return err
	}
	drained := operation.Drained(states)
	if c.String("format") == "json" {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Drained bool                    `json:"drained"`
			Queues  []operation.QueueStatus `json:"queues"`
		}{drained, append([]operation.QueueStatus{}, states...)}); err != nil {
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

func messages(n *int64) string {
	if n == nil {
		return "?"
	}
	return fmt.Sprint(*n)
}

func runMigrateFinish(c *cli.Context) error {
	req, err := migrateRequest(c, c.String("from"), "", "", "")
	if err != nil {
		return err
	}
	return operation.MigrateFinish(c.Context, newView(c, "text"), operation.MigrateFinishRequest{MigrateRequest: req,
		Yes: c.Bool("yes"), DryRun: c.Bool("dry-run"), BreakLock: c.Bool("break-lock")})
}
