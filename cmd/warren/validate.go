package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/schema"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check definitions files against the schema and the broker's rules",
		ArgsUsage: "FILE|DIR|- ...",
		Description: "Loads every file (JSON or YAML; a directory's .json, .yaml and .yml files in sorted order; - for\n" +
			"standard input), merges them, and reports every problem at once, sorted, one per line:\n\n" +
			"   file:line:col: /json/pointer: message [CODE]\n\n" +
			"Codes are explained in docs/diagnostics.md. --target adds a broker target's rules.\n" +
			"--edition names a Huawei Cloud DMS instance's edition (amqp-0-9-1 or 3.x; docs/targets.md).\n" +
			"--rabbitmq-version applies that RabbitMQ version's rules (docs/rabbitmq-versions.md): what it refuses is\n" +
			"an error. Without it, what every supported version refuses is an error and what only some refuse is a\n" +
			"warning naming them.\n\n" +
			"Exit codes: 0 valid (warnings allowed), 1 errors (or warnings with --strict).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "strict", Usage: "treat every warning as an error"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output format: text or json"},
			targetFlag(),
			rabbitmqVersionFlag(),
			editionFlag(),
			maxSizeFlag(),
		},
		Action: runValidate,
	}
}

func runValidate(c *cli.Context) error {
	format := c.String("format")
	if format != "text" && format != "json" {
		return fmt.Errorf("unknown --format %q: use text or json", format)
	}
	target, err := operation.ParseTarget(c.String("target"))
	if err != nil {
		return err
	}
	version, err := rabbitmqVersion(c)
	if err != nil {
		return err
	}
	ed, err := edition(c, target)
	if err != nil {
		return err
	}
	files, err := filesOf(c)
	if err != nil {
		return err
	}
	doc, layers, diags, err := operation.Load(files)
	if err != nil {
		return err
	}
	if doc != nil {
		diags = append(diags, operation.CheckForTarget(doc, definitions.CheckOptions{Target: target, RabbitMQVersion: version, Edition: ed})...)
		if layers != nil {
			diags = layers.Remap(diags)
		}
	}
	if c.Bool("strict") {
		diags = diags.Strict()
	}
	diags.Sort()
	nerr, nwarn := diags.Count()
	out := c.App.Writer
	if format == "json" {
		if err := json.NewEncoder(out).Encode(diagnosticsJSON(diags, doc)); err != nil {
			return err
		}
	} else {
		printDiagnostics(out, diags)
		summary := operation.Plural(nerr, "error") + ", " + operation.Plural(nwarn, "warning")
		if doc != nil {
			summary += " in " + operation.Plural(len(doc.Files()), "file")
		}
		fmt.Fprintln(out, summary)
	}
	if nerr > 0 {
		return exitCodeError{exitError}
	}
	return nil
}

// validateReport is validate's --format json output. Its shape is
// versioned: fields are only ever added within a version.
type validateReport struct {
	Version     int              `json:"version"`
	Valid       bool             `json:"valid"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Files       []string         `json:"files"`
	Diagnostics []diagnosticJSON `json:"diagnostics"`
}

type diagnosticJSON struct {
	File     string        `json:"file,omitempty"`
	Line     int           `json:"line,omitempty"`
	Column   int           `json:"column,omitempty"`
	Pointer  string        `json:"pointer"`
	Severity string        `json:"severity"`
	Code     string        `json:"code"`
	Message  string        `json:"message"`
	Also     *locationJSON `json:"also,omitempty"`
}

type locationJSON struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Pointer string `json:"pointer"`
}

func diagnosticsJSON(diags schema.Diagnostics, doc *definitions.Document) validateReport {
	nerr, nwarn := diags.Count()
	r := validateReport{Version: 1, Valid: nerr == 0, Errors: nerr, Warnings: nwarn, Files: []string{}, Diagnostics: []diagnosticJSON{}}
	if doc != nil {
		for _, f := range doc.Files() {
			r.Files = append(r.Files, f.Name)
		}
	}
	for _, d := range diags {
		dj := diagnosticJSON{File: d.File, Line: d.Pos.Line, Column: d.Pos.Col, Pointer: d.Pointer,
			Severity: d.Severity.String(), Code: string(d.Code), Message: d.Message}
		if a := d.Also; a != nil {
			dj.Also = &locationJSON{File: a.File, Line: a.Pos.Line, Column: a.Pos.Col, Pointer: a.Pointer}
		}
		r.Diagnostics = append(r.Diagnostics, dj)
	}
	return r
}
