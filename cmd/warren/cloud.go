package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/amazonmq"
	"github.com/warren-tool/warren/seeders/huaweicloud"
)

// The cloud targets with APIs of their own: Amazon MQ for ActiveMQ (users)
// and Huawei Cloud DMS for RabbitMQ (users with their permissions, and
// vhosts). Both never return passwords, so both set them on creation and
// on update only with --update-passwords.

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

// cloud is a target reached through its own API.
type cloud interface {
	read(ctx context.Context) (doc *definitions.Document, pending map[string]string, err error)
	diffOption(updatePasswords bool) definitions.DiffOption
	apply(ctx context.Context, plan *definitions.Plan, desired *definitions.Document) error
	// after runs once the changes are made (a reboot, say).
	after(c *cli.Context) error
	note(w io.Writer, plan *definitions.Plan, pending map[string]string)
}

// targetOf reads --target. For a target with an API of its own it returns
// the client for it; nil means RabbitMQ's management API (rabbitmq and
// amazonmq-rabbitmq).
func targetOf(c *cli.Context) (definitions.Target, cloud, error) {
	t, err := parseTarget(c.String("target"))
	if err != nil {
		return "", nil, err
	}
	switch t {
	case definitions.TargetAmazonMQActiveMQ:
		warnClearText(c, []string{c.String("endpoint")}, "the AWS request signature and users' passwords")
		client, err := amazonmq.New(c.Context, amazonmq.Config{BrokerID: c.String("broker-id"), Region: c.String("region"), Endpoint: c.String("endpoint")})
		if err != nil {
			return "", nil, err
		}
		return t, &activeMQ{client}, nil
	case definitions.TargetHuaweiCloudRabbit:
		warnClearText(c, []string{c.String("endpoint")}, "the X-Auth-Token or the request signature, and users' secret keys")
		client, err := huaweicloud.New(huaweicloud.Config{Endpoint: c.String("endpoint"), ProjectID: c.String("project-id"), InstanceID: c.String("instance-id"),
			AK: os.Getenv("HUAWEICLOUD_SDK_AK"), SK: os.Getenv("HUAWEICLOUD_SDK_SK"), Token: os.Getenv("HUAWEICLOUD_TOKEN")})
		if err != nil {
			return "", nil, err
		}
		return t, &huawei{client}, nil
	}
	return t, nil, nil
}

type activeMQ struct{ c *amazonmq.Client }

func (a *activeMQ) read(ctx context.Context) (*definitions.Document, map[string]string, error) {
	return a.c.Read(ctx)
}
func (a *activeMQ) diffOption(up bool) definitions.DiffOption { return definitions.WithActiveMQ(up) }
func (a *activeMQ) apply(ctx context.Context, plan *definitions.Plan, _ *definitions.Document) error {
	return a.c.Apply(ctx, plan, amazonmq.ApplyOptions{})
}
func (a *activeMQ) after(c *cli.Context) error {
	if !c.Bool("reboot") {
		return nil
	}
	if err := a.c.Reboot(c.Context); err != nil {
		return err
	}
	fmt.Fprintln(c.App.ErrWriter, "Rebooting the broker: the changes apply when it is back.")
	return nil
}
func (a *activeMQ) note(w io.Writer, plan *definitions.Plan, pending map[string]string) {
	if len(pending) > 0 {
		names := make([]string, 0, len(pending))
		for n, change := range pending {
			names = append(names, fmt.Sprintf("%s (%s)", n, strings.ToLower(change)))
		}
		slices.Sort(names)
		fmt.Fprintf(w, "Waiting for a reboot of the broker: %s. They count as done.\n", strings.Join(names, ", "))
	}
	if !plan.Empty() {
		fmt.Fprintln(w, "Amazon MQ applies these changes when the broker reboots (warren apply --reboot, or the maintenance window).")
	}
}

type huawei struct{ c *huaweicloud.Client }

func (h *huawei) read(ctx context.Context) (*definitions.Document, map[string]string, error) {
	doc, err := h.c.Read(ctx)
	return doc, nil, err
}
func (h *huawei) diffOption(up bool) definitions.DiffOption { return definitions.WithHuaweiCloud(up) }
func (h *huawei) apply(ctx context.Context, plan *definitions.Plan, desired *definitions.Document) error {
	return h.c.Apply(ctx, plan, huaweicloud.ApplyOptions{})
}
func (h *huawei) after(*cli.Context) error                             { return nil }
func (h *huawei) note(io.Writer, *definitions.Plan, map[string]string) {}

func cloudPlan(c *cli.Context, cl cloud, desired *definitions.Document) (*definitions.Plan, map[string]string, error) {
	live, pending, err := cl.read(c.Context)
	if err != nil {
		return nil, nil, err
	}
	plan, err := definitions.Diff(desired, live, cl.diffOption(c.Bool("update-passwords")), definitions.WithPrune(c.Bool("prune")))
	return plan, pending, err
}

func passwordNote(w io.Writer, c *cli.Context) {
	if !c.Bool("update-passwords") {
		fmt.Fprintln(w, "Passwords are set on creation only; the API never returns them (--update-passwords sets them all again).")
	}
}

func runDiffCloud(c *cli.Context, t definitions.Target, cl cloud, format string) error {
	if c.String("output") != "" || c.String("against") != "" {
		return fmt.Errorf("-o and --against are not supported with --target %s", t)
	}
	desired, err := loadValid(c, t)
	if err != nil {
		return err
	}
	plan, pending, err := cloudPlan(c, cl, desired)
	if err != nil {
		return err
	}
	if err := renderPlan(c, format, plan); err != nil {
		return err
	}
	if format == "text" {
		cl.note(c.App.Writer, plan, pending)
		passwordNote(c.App.Writer, c)
	}
	if !plan.Empty() {
		return exitCodeError{exitDrift}
	}
	return nil
}

func runApplyCloud(c *cli.Context, t definitions.Target, cl cloud) error {
	desired, err := loadValid(c, t)
	if err != nil {
		return err
	}
	plan, pending, err := cloudPlan(c, cl, desired)
	if err != nil {
		return err
	}
	w := c.App.Writer
	definitions.RenderText(w, plan, definitions.RenderOptions{Color: useColor(w)})
	cl.note(w, plan, pending)
	passwordNote(w, c)
	if c.Bool("dry-run") {
		return nil
	}
	if !plan.Empty() {
		if !c.Bool("yes") {
			if err := confirm(c); err != nil {
				return err
			}
		}
		if err := cl.apply(c.Context, plan, desired); err != nil {
			reportFailure(c.App.ErrWriter, err)
			return exitCodeError{exitError}
		}
		counts := plan.Counts()
		fmt.Fprintf(c.App.ErrWriter, "Applied: %d created, %d updated, %d deleted.\n", counts[definitions.Create], counts[definitions.Update], counts[definitions.Delete])
	}
	if err := cl.after(c); err != nil {
		return err
	}
	// Read again: every change must now be in place (or waiting for a
	// reboot). With --update-passwords the passwords always show again.
	after, _, err := cloudPlan(c, cl, desired)
	if err != nil {
		return fmt.Errorf("reading the broker after the apply: %w", err)
	}
	if !c.Bool("update-passwords") && !after.Empty() {
		fmt.Fprintln(c.App.ErrWriter, "warren: the broker did not take everything; it still differs from the files:")
		definitions.RenderText(c.App.ErrWriter, after, definitions.RenderOptions{})
		return exitCodeError{exitError}
	}
	return nil
}

func runExportCloud(c *cli.Context, cl cloud, format, out string) error {
	doc, _, err := cl.read(c.Context)
	if err != nil {
		return err
	}
	doc.Sort()
	data := doc.EncodeJSON()
	if format == "yaml" {
		data = doc.EncodeYAML("")
	}
	if out == "" {
		_, err = c.App.Writer.Write(data)
		return err
	}
	return writeFileAtomic(out, data, exportMode(doc))
}

// renderPlan writes a plan in the chosen format.
func renderPlan(c *cli.Context, format string, plan *definitions.Plan) error {
	w := c.App.Writer
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(definitions.ToJSON(plan))
	case "markdown":
		definitions.RenderMarkdown(w, plan, "warren diff")
	default:
		definitions.RenderText(w, plan, definitions.RenderOptions{Color: useColor(w)})
	}
	return nil
}
