package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders"
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
			"Password hashes are left out unless --no-trim hashes asks for them. RabbitMQ's own import of a file\n" +
			"without hashes creates its users unable to log in: warren says how many on standard error, and\n" +
			"--password-refs writes password: {env: WARREN_PASSWORD_<NAME>} references instead (NAME is the user\n" +
			"name in upper case, every character but A-Z and 0-9 turned into _, and names that clash get a suffix\n" +
			"from their own name's SHA-256; the variables are listed).\n" +
			"A file that holds users or URIs with credentials is written 0600.\n\n" +
			"Trims (--trim adds, --no-trim removes; both take comma-separated names):\n" + strings.Join(trims, "\n") +
			"\n\nExit codes: 0 success, 1 error.",
		Flags: append(append(connectionFlags(), cloudFlags(false)...),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file (.json, .yaml or .yml)"},
			&cli.StringFlag{Name: "format", Usage: "json or yaml (default: by -o's extension, else json)"},
			&cli.StringSliceFlag{Name: "trim", Usage: "apply these trims too"},
			&cli.StringSliceFlag{Name: "no-trim", Usage: "do not apply these default trims"},
			&cli.StringFlag{Name: "vhost", Usage: "export only this vhost and what lives in it"},
			&cli.StringFlag{Name: "only", Usage: "export only these kinds (users,vhosts,permissions,…)"},
			&cli.BoolFlag{Name: "password-refs", Usage: "write password: {env: WARREN_PASSWORD_<NAME>} for every user instead of a hash (for seed files; the names are listed on standard error)"},
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

// vhostNames lists vhosts' names for a message, the first ten of them.
func vhostNames(vhosts []*definitions.Vhost) string {
	if len(vhosts) == 0 {
		return "none"
	}
	var names []string
	for _, v := range vhosts {
		names = append(names, strconv.Quote(v.Name))
	}
	slices.Sort(names)
	if len(names) > 10 {
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	return strings.Join(names, ", ")
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
	opts := struct {
		Trims []string
		Vhost string
		Only  []definitions.Kind
	}{Trims: trims, Vhost: c.String("vhost")}
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
	target, err := parseTarget(c.String("target"))
	if err != nil {
		return err
	}
	t, err := openTarget(c, target)
	if err != nil {
		return err
	}
	var doc *definitions.Document
	if e, ok := t.(seeders.Exporter); ok {
		doc, err = e.Export(c.Context)
	} else {
		doc, err = t.Read(c.Context, nil)
	}
	if err != nil {
		return err
	}
	// A vhost the broker lacks would export empty lists, and an empty list
	// manages its kind: diff --prune of that file deletes every vhost.
	if opts.Vhost != "" && !slices.ContainsFunc(doc.Vhosts, func(v *definitions.Vhost) bool { return v.Name == opts.Vhost }) {
		return fmt.Errorf("--vhost %q: the broker has no such vhost (it has %s); nothing was written", opts.Vhost, vhostNames(doc.Vhosts))
	}
	if err := definitions.Trim(doc, opts.Trims); err != nil {
		return err
	}
	definitions.Select(doc, opts.Vhost, opts.Only)
	doc.Sort()
	exportPasswords(c, doc)
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

// exportMode is 0600 for an export that holds users (their hashes, or
// names an attacker wants) or URIs with credentials, 0644 otherwise.
func exportMode(doc *definitions.Document) os.FileMode {
	if len(doc.Users) > 0 {
		return 0o600
	}
	for _, p := range doc.Parameters {
		if definitions.HasCredentials(p.Value) {
			return 0o600
		}
	}
	for _, p := range doc.GlobalParameters {
		if definitions.HasCredentials(p.Value) {
			return 0o600
		}
	}
	return 0o644
}

// exportPasswords writes password references with --password-refs, and
// otherwise says on standard error how many users have no hash: RabbitMQ's
// own import of the file creates them unable to log in.
func exportPasswords(c *cli.Context, doc *definitions.Document) {
	w := c.App.ErrWriter
	if c.Bool("password-refs") {
		names := make([]string, len(doc.Users))
		for i, u := range doc.Users {
			names[i] = u.Name
		}
		vars := passwordVars(names)
		for _, u := range doc.Users {
			v := vars[u.Name]
			u.Password, u.PasswordHash, u.HashingAlgorithm = &definitions.Secret{Env: v}, nil, ""
			fmt.Fprintf(w, "warren: user %q: password: {env: %s}\n", u.Name, v)
		}
		if len(doc.Users) > 0 {
			fmt.Fprintf(w, "warren: %d users written with password references; set these variables before warren apply or warren boot\n", len(doc.Users))
		}
		return
	}
	var without []string
	for _, u := range doc.Users {
		if u.PasswordHash == nil && u.Password == nil {
			without = append(without, fmt.Sprintf("%q", u.Name))
		}
	}
	if len(without) == 0 {
		return
	}
	shown := without
	if len(shown) > 10 {
		shown = append(shown[:10:10], "…")
	}
	fmt.Fprintf(w, "warren: %d users written without password hashes (%s). RabbitMQ's own import of this file "+
		"(POST /api/definitions, import_definitions, a boot-time import) creates them unable to log in, the importing "+
		"administrator included; warren apply leaves existing passwords alone and warren boot refuses such users. "+
		"Use --password-refs for password: {env: …} references, or --no-trim hashes.\n", len(without), strings.Join(shown, ", "))
}

// passwordVars names the environment variable of each user's password:
// WARREN_PASSWORD_ and the name in upper case, every character but A-Z and
// 0-9 turned into _. Names that come out the same (a-b, a.b, A_B) each get
// _ and the first 8 hex digits of their name's SHA-256, so a variable
// depends on the user's own name, never on the order of the others: a user
// added later changes only the names of the users it clashes with.
func passwordVars(names []string) map[string]string {
	base := func(name string) string {
		var b strings.Builder
		b.WriteString("WARREN_PASSWORD_")
		for _, r := range strings.ToUpper(name) {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	count := map[string]int{}
	for _, n := range names {
		count[base(n)]++
	}
	out := map[string]string{}
	for _, n := range names {
		v := base(n)
		if count[v] > 1 {
			sum := sha256.Sum256([]byte(n))
			v += "_" + strings.ToUpper(hex.EncodeToString(sum[:4]))
		}
		out[n] = v
	}
	return out
}
