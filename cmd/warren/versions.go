package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

func rabbitmqVersionFlag() cli.Flag {
	return &cli.StringFlag{Name: "rabbitmq-version", EnvVars: []string{"WARREN_RABBITMQ_VERSION"},
		Usage: "apply this RabbitMQ version's rules (a series such as 4.0, or a release such as 4.0.5); default: every supported version (docs/rabbitmq-versions.md)"}
}

// rabbitmqVersion reads --rabbitmq-version, noting on standard error when
// RabbitMQ no longer supports that version.
func rabbitmqVersion(c *cli.Context) (string, error) {
	v := c.String("rabbitmq-version")
	supported, err := definitions.CheckRabbitMQVersion(v)
	if err != nil {
		return "", err
	}
	if !supported {
		fmt.Fprintf(c.App.ErrWriter, "warren: RabbitMQ %s is out of support; checking its rules anyway\n", v)
	}
	return v, nil
}

// checkBrokerVersion checks the files against the rules of the broker's
// own version (GET /api/overview) and the deprecated features its node
// permits before a command changes or compares anything: what they refuse
// stops the command, each error at its place in the files. loadValid
// already printed the warnings. Then doc says what that version's import
// keeps where the files say it two ways (definitions.KeepAsImported).
func checkBrokerVersion(c *cli.Context, t seeders.Target, doc *definitions.Document, target definitions.Target) error {
	v, ok := t.(seeders.Versioned)
	if !ok {
		return nil
	}
	version, err := v.Version(c.Context)
	if err != nil {
		return err
	}
	ov := struct{ RabbitMQVersion string }{version}
	supported, err := definitions.CheckRabbitMQVersion(ov.RabbitMQVersion)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warren: the broker runs RabbitMQ %s, whose rules warren does not know; checked for every supported version only\n", ov.RabbitMQVersion)
		return nil
	}
	if !supported {
		fmt.Fprintf(c.App.ErrWriter, "warren: the broker runs RabbitMQ %s, which is out of support (supported: %s); checking its rules anyway\n",
			ov.RabbitMQVersion, strings.Join(definitions.SupportedSeries, ", "))
	}
	opts := definitions.CheckOptions{Target: target, RabbitMQVersion: ov.RabbitMQVersion}
	// What the node permits of its deprecated features decides over the
	// version's defaults (3.13 and later; older brokers have none).
	if f, ok := t.(interface {
		DeprecatedFeatures(context.Context) (map[string]string, error)
	}); ok {
		if opts.DeprecatedFeatures, err = f.DeprecatedFeatures(c.Context); err != nil {
			return err
		}
	}
	var errs schema.Diagnostics
	for _, d := range definitions.Check(doc, opts) {
		if d.Severity == schema.Error {
			errs = append(errs, d)
		}
	}
	if len(errs) == 0 {
		definitions.KeepAsImported(doc, ov.RabbitMQVersion)
		return nil
	}
	errs.Sort()
	printDiagnostics(c.App.ErrWriter, errs)
	fmt.Fprintf(c.App.ErrWriter, "warren: %s for RabbitMQ %s (the broker's version); nothing was changed\n", plural(len(errs), "error"), ov.RabbitMQVersion)
	return exitCodeError{exitError}
}
