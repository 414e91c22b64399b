package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/amazonmqactivemq"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
	"github.com/warren-tool/warren/seeders/huaweicloud"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// Every target is a seeders.Target: diff, apply and export take one path
// for all of them. The cloud APIs (Amazon MQ for ActiveMQ, Huawei Cloud
// DMS) never return passwords, so both set them on creation and on update
// only with --update-passwords.

func cloudFlags(apply bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "endpoint", EnvVars: []string{"WARREN_ENDPOINT"}, Usage: "the cloud API's URL: amazonmq-activemq defaults to AWS's (or AWS_ENDPOINT_URL_MQ); huaweicloud-rabbitmq needs https://dms.REGION.myhuaweicloud.com"},
		&cli.StringFlag{Name: "broker-id", EnvVars: []string{"WARREN_BROKER_ID"}, Usage: "amazonmq-activemq: the broker (b-…)"},
		&cli.StringFlag{Name: "region", Usage: "amazonmq-activemq: the AWS region (default: AWS_REGION or the shared config)"},
		&cli.StringFlag{Name: "project-id", EnvVars: []string{"WARREN_PROJECT_ID"}, Usage: "huaweicloud-rabbitmq: the project (credentials: HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or HUAWEICLOUD_TOKEN)"},
		&cli.StringFlag{Name: "instance-id", EnvVars: []string{"WARREN_INSTANCE_ID"}, Usage: "huaweicloud-rabbitmq: the DMS instance"},
		&cli.BoolFlag{Name: "update-passwords", Usage: "cloud targets: set every user's password again (the APIs never return passwords, so they are otherwise set on creation only)"},
	}
	if apply {
		flags = append(flags, &cli.BoolFlag{Name: "reboot", Usage: "amazonmq-activemq: reboot the broker after the apply, which applies the changes now instead of in the maintenance window"})
	}
	return flags
}

// openTarget connects to the target --target names (or t), through the
// URLs given (a saved plan's) or the connection flags.
func openTarget(c *cli.Context, t definitions.TargetName, urls ...string) (seeders.Target, error) {
	switch t {
	case definitions.TargetAmazonMQActiveMQ:
		warnClearText(c, []string{c.String("endpoint")}, "the AWS request signature and users' passwords")
		client, err := amazonmqactivemq.New(c.Context, amazonmqactivemq.Config{BrokerID: c.String("broker-id"), Region: c.String("region"), Endpoint: c.String("endpoint")})
		if err != nil {
			return nil, err
		}
		return amazonmqactivemq.NewTarget(client), nil
	case definitions.TargetHuaweiCloudRabbitMQ:
		warnClearText(c, []string{c.String("endpoint")}, "the X-Auth-Token or the request signature, and users' secret keys")
		client, err := huaweicloud.New(huaweicloud.Config{Endpoint: c.String("endpoint"), ProjectID: c.String("project-id"), InstanceID: c.String("instance-id"),
			AK: os.Getenv("HUAWEICLOUD_SDK_AK"), SK: os.Getenv("HUAWEICLOUD_SDK_SK"), Token: os.Getenv("HUAWEICLOUD_TOKEN")})
		if err != nil {
			return nil, err
		}
		return huaweicloud.NewTarget(client), nil
	}
	client, err := connect(c, urls...)
	if err != nil {
		return nil, err
	}
	var rules []rabbitmq.TargetOption
	if t == definitions.TargetAmazonMQRabbitMQ {
		rules = append(rules, rabbitmq.WithDiffOptions(amazonmqrabbitmq.DiffOptions()...),
			rabbitmq.WithExportFilter(amazonmqrabbitmq.DropOwned))
	}
	rt := rabbitmq.NewTarget(client, t, rules...)
	rt.Workers = workers()
	return rt, nil
}

// workers reads WARREN_APPLY_WORKERS, how many deletions run at once (for
// measuring; the default, 4, is what make bench found fastest).
func workers() int {
	var n int
	fmt.Sscan(os.Getenv("WARREN_APPLY_WORKERS"), &n)
	return n
}

// refuseUnsupported refuses a flag (or a saved plan's option) the target
// cannot honour: never ignored.
func refuseUnsupported(c *cli.Context, t seeders.Target, opts plan.Options) error {
	fromPlan := map[string]bool{"prune": opts.Prune, "keep-guest": opts.KeepGuest, "replace": opts.Replace,
		"destroy-messages": opts.DestroyMessages, "update-passwords": opts.UpdatePasswords}
	un := t.Unsupported()
	for _, flag := range slices.Sorted(maps.Keys(un)) {
		if c.IsSet(flag) || fromPlan[flag] {
			return fmt.Errorf("--%s cannot be used with --target %s: %s", flag, t.Name(), un[flag])
		}
	}
	return nil
}

// makePlan reads the kinds a plan needs (liveKinds) and diffs them with
// the target's options.
func makePlan(ctx context.Context, t seeders.Target, desired *definitions.Document, opts plan.Options) (*plan.Plan, error) {
	live, err := t.Read(ctx, liveKinds(desired, opts.Prune))
	if err != nil {
		return nil, err
	}
	diffOpts := append(t.DiffOptions(ctx, opts), plan.WithPrune(opts.Prune), plan.WithKeepGuest(opts.KeepGuest))
	p, err := plan.Diff(desired, live, diffOpts...)
	if err != nil {
		return nil, err
	}
	// Every secret the plan sends is read now, before anything changes:
	// one that cannot be read is an E034 at its place (secretError), from
	// diff as from apply.
	if _, err := p.ReadSecrets(nil); err != nil {
		return nil, err
	}
	return p, nil
}

// secretError prints an {env}/{file} reference that could not be read as
// E034 at its place in the files; other errors pass through.
func secretError(c *cli.Context, desired *definitions.Document, err error) error {
	if diags, ok := desired.SecretDiagnostics(err); ok {
		printDiagnostics(c.App.ErrWriter, diags)
		return exitCodeError{exitError}
	}
	return err
}

// printNotes writes a target's notes on a plan, one a line.
func printNotes(w io.Writer, t seeders.Target, p *plan.Plan, opts plan.Options) {
	if n, ok := t.(seeders.Noter); ok {
		for _, line := range n.Notes(p, opts) {
			fmt.Fprintln(w, line)
		}
	}
}

// exportTarget is an export file standing for a broker (diff --against):
// it is read, never changed, and it is RabbitMQ's format, so only the
// RabbitMQ targets compare with one.
type exportTarget struct {
	name definitions.TargetName
	doc  *definitions.Document
}

var _ seeders.Target = (*exportTarget)(nil)

func (e *exportTarget) Name() definitions.TargetName { return e.name }
func (e *exportTarget) Identity(context.Context) (plan.BrokerID, error) {
	return plan.BrokerID{}, nil
}
func (e *exportTarget) Read(context.Context, []definitions.Kind) (*definitions.Document, error) {
	return e.doc, nil
}
func (e *exportTarget) DiffOptions(context.Context, plan.Options) []plan.DiffOption {
	opts := []plan.DiffOption{plan.WithPasswordsUnshown()}
	if e.name == definitions.TargetAmazonMQRabbitMQ {
		opts = append(opts, amazonmqrabbitmq.DiffOptions()...)
	}
	return opts
}

// Notes counts the export's users without a password hash: their
// passwords are not compared.
func (e *exportTarget) Notes(*plan.Plan, plan.Options) []string {
	n := 0
	for _, u := range e.doc.Users {
		if plan.PasswordUnshown(u) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("Note: the export holds no password hash for %s: a password the files give for one is not compared (warren export --no-trim hashes writes them).", plural(n, "user"))}
}
func (e *exportTarget) Apply(context.Context, *plan.Plan, seeders.ApplyOptions) error {
	return errors.New("an export file is compared with, never changed")
}
func (e *exportTarget) Unsupported() map[string]string {
	return map[string]string{
		"replace":          "an export file is compared with, never changed",
		"destroy-messages": "an export file is compared with, never changed",
		"update-passwords": "an export holds password hashes: passwords are compared",
	}
}

// renderPlan writes a plan in the chosen format.
func renderPlan(c *cli.Context, format string, p *plan.Plan) error {
	w := c.App.Writer
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(render.ToJSON(p))
	case "markdown":
		bw := bufio.NewWriterSize(w, 64<<10)
		render.Markdown(bw, p, "warren diff")
		return bw.Flush()
	default:
		renderText(w, p)
	}
	return nil
}

// renderText prints a plan as text, through a buffer: a plan is a line or
// more per change, and os.Stdout is not buffered (a plan of 41,200
// creations spent 180 ms of warren's 490 in write system calls).
func renderText(w io.Writer, p *plan.Plan) { renderTextAs(w, p, useColor(w)) }

// renderTextAs is renderText, colored or not.
func renderTextAs(w io.Writer, p *plan.Plan, color bool) {
	bw := bufio.NewWriterSize(w, 64<<10)
	render.Text(bw, p, render.Options{Color: color})
	bw.Flush()
}
