package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/atomicfile"
	"github.com/warren-tool/warren/internal/operation"
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
		Description: "Reads GET /api/definitions, with the vhosts' metadata (which RabbitMQ 3.10 leaves out of it) and the\n" +
			"internal exchanges (which every version leaves out) from their listings, and writes\n" +
			"it in warren's canonical order, to standard output or -o FILE (JSON, or YAML for .yaml/.yml).\n" +
			"Password hashes are left out unless --no-trim hashes asks for them. RabbitMQ's own import of a file\n" +
			"without hashes creates its users unable to log in: warren says how many on standard error, and\n" +
			"--password-refs writes password: {env: WARREN_PASSWORD_<NAME>} references instead (NAME is the user\n" +
			"name in upper case, every character but A-Z and 0-9 turned into _, and names that clash get a suffix\n" +
			"from their own name's SHA-256; the variables are listed).\n" +
			"A file that holds users or URIs with credentials is written 0600.\n" +
			"--format topology-operator writes RabbitMQ Messaging Topology Operator resources instead (one per object, --cluster\n" +
			"names the RabbitmqCluster; see docs/kubernetes.md); what the operator cannot express is a warning (W180), and\n" +
			"credentials go only into Secrets, written with --secrets beside -o FILE (0600).\n" +
			"--instance-type, --deployment-mode and --update-passwords are diff's and apply's: export refuses them\n" +
			"(it checks no limits and writes no passwords) and ignores WARREN_INSTANCE_TYPE and WARREN_DEPLOYMENT_MODE.\n\n" +
			"Trims (--trim adds, --no-trim removes; both take comma-separated names):\n" + strings.Join(trims, "\n") +
			"\n\nExit codes: 0 success, 1 error.",
		Flags: append(append(append(append(connectionFlags(), withoutFlags(cloudFlags(false), notForExport...)...), refusedFlags(notForExport...)...),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file (.json, .yaml or .yml)"},
			&cli.StringFlag{Name: "format", Usage: "json, yaml or topology-operator (default: by -o's extension, else json)"},
			&cli.StringSliceFlag{Name: "trim", Usage: "apply these trims too"},
			&cli.StringSliceFlag{Name: "no-trim", Usage: "do not apply these default trims"},
			&cli.StringSliceFlag{Name: "vhost", Usage: "export only this vhost and what lives in it (repeat for more)"},
			&cli.StringFlag{Name: "owner", Usage: "export only the objects this owner's record on the broker holds (see docs/ownership.md)"},
			&cli.StringFlag{Name: "only", Usage: "export only these kinds (users,vhosts,permissions,…)"},
			&cli.BoolFlag{Name: "password-refs", Usage: "write password: {env: WARREN_PASSWORD_<NAME>} for every user instead of a hash (for seed files; the names are listed on standard error)"},
			targetFlag(),
		), topologyFlags()...),
		Action: runExport,
	}
}

// notForExport are the flags of diff and apply that export has no use for:
// the instance type and deployment mode size an Amazon MQ broker for the
// limits check of diff and apply, and export writes passwords never.
var notForExport = append(slices.Clone(sizingFlags), "update-passwords")

// sizingFlags size an Amazon MQ broker for the limits check of diff and
// apply.
var sizingFlags = []string{"instance-type", "deployment-mode"}

// refusedFlags are names as a command that has no use for them takes them:
// refused when given (refuseFlags), and without their environment
// variables, which a pipeline sets for the diff and apply beside it.
func refusedFlags(names ...string) []cli.Flag {
	var out []cli.Flag
	for _, n := range names {
		if n == "update-passwords" {
			out = append(out, &cli.BoolFlag{Name: n, Hidden: true})
			continue
		}
		out = append(out, &cli.StringFlag{Name: n, Hidden: true})
	}
	return out
}

// refuseFlags refuses the flags of names given to command, which has no
// use for them: accepted, they would be ignored.
func refuseFlags(c *cli.Context, command string, names ...string) error {
	for _, n := range names {
		if !c.IsSet(n) {
			continue
		}
		if n == "update-passwords" {
			return fmt.Errorf("--update-passwords cannot be used with %s: it sets passwords on apply; %s writes none", command, command)
		}
		return fmt.Errorf("--%s cannot be used with %s: --instance-type and --deployment-mode size an Amazon MQ broker for the limits check of diff and apply, and %s checks no limits", n, command, command)
	}
	return nil
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
	if err := refuseFlags(c, "export", notForExport...); err != nil {
		return err
	}
	trims, err := exportTrims(c)
	if err != nil {
		return err
	}
	req := operation.ExportRequest{Trims: trims, Vhosts: c.StringSlice("vhost"), Owner: c.String("owner"), PasswordRefs: c.Bool("password-refs")}
	if s := c.String("only"); s != "" {
		if req.Only, err = definitions.ParseKinds(s); err != nil {
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
	var topo *topologyRequest
	switch {
	case format == formatTopology:
		if topo, err = parseTopologyFlags(c, out); err != nil {
			return err
		}
		if topo.opts.Secrets {
			// The hashes go into the Secrets, written 0600 only when asked.
			req.Trims = slices.DeleteFunc(req.Trims, func(t string) bool { return t == "hashes" })
		}
	case format != "json" && format != "yaml":
		return fmt.Errorf("unknown --format %q: use json, yaml or %s", format, formatTopology)
	case anyTopologyFlag(c):
		return fmt.Errorf("--cluster, --namespace and --secrets go with --format %s", formatTopology)
	}
	name, err := operation.ParseTarget(c.String("target"))
	if err != nil {
		return err
	}
	ui := newView(c, "text")
	if req.Target, err = openTarget(c, ui, name); err != nil {
		return err
	}
	doc, err := operation.Export(c.Context, ui, req)
	if err != nil {
		return err
	}
	if topo != nil {
		return writeTopology(c, doc, topo)
	}
	data := doc.EncodeJSON()
	if format == "yaml" {
		data = doc.EncodeYAML("")
	}
	if out == "" {
		_, err = c.App.Writer.Write(data)
		return err
	}
	return atomicfile.Write(out, data, operation.ExportMode(doc))
}
