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
func checkBrokerVersion(c *cli.Context, t seeders.Target, doc *definitions.Document, target definitions.TargetName) error {
	v, ok := t.(seeders.Versioned)
	if !ok {
		printVersionWarnings(c, doc, target)
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
		printVersionWarnings(c, doc, target)
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
	var errs, ignored schema.Diagnostics
	for _, d := range definitions.Check(doc, opts) {
		switch {
		case d.Severity == schema.Error:
			errs = append(errs, d)
		case versionCodes[d.Code]:
			// What this broker's version ignores (a vhost's protection
			// before 4.0.6, say) or its node may refuse, said with the
			// version's name; loadValid left these to this check.
			ignored = append(ignored, d)
		}
	}
	ignored.Sort()
	printDiagnostics(c.App.ErrWriter, ignored)
	if len(errs) == 0 {
		definitions.KeepAsImported(doc, ov.RabbitMQVersion)
		return nil
	}
	errs.Sort()
	printDiagnostics(c.App.ErrWriter, errs)
	fmt.Fprintf(c.App.ErrWriter, "warren: %s for RabbitMQ %s (the broker's version); nothing was changed\n", plural(len(errs), "error"), ov.RabbitMQVersion)
	return exitCodeError{exitError}
}

// versionCodes are the warnings that say what the broker does with a key
// now: what some versions ignore (W124) or refuse where a node denies a
// deprecated feature (W125). Checked without a version, they speak of every
// supported version (a 4.3 broker would hear that its vhosts' protection
// is "ignored before 4.0.6"); diff and apply say them for the broker's own
// version instead (checkBrokerVersion). What some versions refuse (W120)
// is still said for every supported version: against a 3.x broker, that
// 4.x refuses a policy is what an upgrade needs to know.
var versionCodes = map[schema.Code]bool{schema.WVersionIgnored: true, schema.WDeprecatedFeature: true}

// printVersionWarnings says the version warnings loadValid left to
// checkBrokerVersion, for every supported version, where the broker's own
// version is not known (a target that does not say it, a version whose
// rules warren does not know).
func printVersionWarnings(c *cli.Context, doc *definitions.Document, target definitions.TargetName) {
	var out schema.Diagnostics
	for _, d := range definitions.Check(doc, definitions.CheckOptions{Target: target}) {
		if versionCodes[d.Code] {
			out = append(out, d)
		}
	}
	out.Sort()
	printDiagnostics(c.App.ErrWriter, remapLayers(c, out))
}
