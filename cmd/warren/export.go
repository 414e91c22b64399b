package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/amazonmqrabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

func exportCommand() *cli.Command {
	var trims []string
	for _, t := range definitions.Trims {
		def := ""
		if t.Default {
			def = " (default)"
		}
		trims = append(trims, fmt.Sprintf("   %-36s %s%s", t.Name, t.Help, def))
	}
	return &cli.Command{
		Name:  "export",
		Usage: "write a live broker's definitions to a file, trimmed of what is node-specific",
		Description: "Reads GET /api/definitions (and the vhosts' metadata, which RabbitMQ 3.10 leaves out of it) and writes\n" +
			"it in warren's canonical order, to standard output or -o FILE (JSON, or YAML for .yaml/.yml).\n" +
			"Password hashes are left out unless --no-trim hashes asks for them (the file is then written 0600).\n\n" +
			"Trims (--trim adds, --no-trim removes; both take comma-separated names):\n" + strings.Join(trims, "\n") +
			"\n\nExit codes: 0 success, 1 error.",
		Flags: append(append(connectionFlags(), cloudFlags(false)...),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file (.json, .yaml or .yml)"},
			&cli.StringFlag{Name: "format", Usage: "json or yaml (default: by -o's extension, else json)"},
			&cli.StringSliceFlag{Name: "trim", Usage: "apply these trims too"},
			&cli.StringSliceFlag{Name: "no-trim", Usage: "do not apply these default trims"},
			&cli.StringFlag{Name: "vhost", Usage: "export only this vhost and what lives in it"},
			&cli.StringFlag{Name: "only", Usage: "export only these kinds (users,vhosts,permissions,…)"},
			targetFlag(),
		),
		Action: runExport,
	}
}

// exportTrims works out the trims from the defaults, --trim and --no-trim.
func exportTrims(c *cli.Context) ([]string, error) {
	trims := append(definitions.DefaultTrims(), "hashes")
	for _, n := range splitList(c.StringSlice("trim")) {
		if !slices.Contains(trims, n) {
			trims = append(trims, n)
		}
	}
	for _, n := range splitList(c.StringSlice("no-trim")) {
		if !slices.ContainsFunc(definitions.Trims, func(t definitions.TrimInfo) bool { return t.Name == n }) {
			return nil, fmt.Errorf("unknown trim %q (see warren export --help)", n)
		}
		trims = slices.DeleteFunc(trims, func(t string) bool { return t == n })
	}
	return trims, nil
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func runExport(c *cli.Context) error {
	trims, err := exportTrims(c)
	if err != nil {
		return err
	}
	opts := rabbitmq.ExportOptions{Trims: trims, Vhost: c.String("vhost")}
	if s := c.String("only"); s != "" {
		if opts.Only, err = definitions.ParseKinds(s); err != nil {
			return err
		}
	}
	out := c.String("output")
	format := c.String("format")
	if format == "" {
		format = "json"
		if ext := strings.ToLower(filepath.Ext(out)); ext == ".yaml" || ext == ".yml" {
			format = "yaml"
		}
	}
	if format != "json" && format != "yaml" {
		return fmt.Errorf("unknown --format %q: use json or yaml", format)
	}
	target, cl, err := targetOf(c)
	if err != nil {
		return err
	}
	if cl != nil {
		return runExportCloud(c, cl, format, out)
	}
	client, err := connect(c)
	if err != nil {
		return err
	}
	doc, err := client.Export(c.Context, opts)
	if err != nil {
		return err
	}
	if target == definitions.TargetAmazonMQRabbitMQ {
		amazonmqrabbitmq.DropOwned(doc) // Amazon MQ's own policies and limits are not the user's to keep
	}
	data := doc.EncodeJSON()
	if format == "yaml" {
		data = doc.EncodeYAML("")
	}
	if out == "" {
		_, err = c.App.Writer.Write(data)
		return err
	}
	perm := os.FileMode(0o644)
	if !slices.Contains(trims, "hashes") {
		perm = 0o600 // it holds password hashes
	}
	return writeFileAtomic(out, data, perm)
}
