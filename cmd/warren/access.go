package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

func accessCommand() *cli.Command {
	return &cli.Command{
		Name:      "access",
		Usage:     "who can do what: a user's access, a queue's or exchange's users, one yes-or-no question for scripts",
		ArgsUsage: "[FILE|DIR|- ...]",
		Description: "Evaluates RabbitMQ's permissions as the broker does (docs/access.md): a user with no permission in a\n" +
			"vhost cannot connect; declare and delete need configure, publish and binding to a resource need write,\n" +
			"consume, get, purge and binding from an exchange need read, each pattern matched (unanchored, PCRE) against\n" +
			"the name (amq.default for the default exchange, '' meaning nothing); topic permissions also check the\n" +
			"routing key on topic exchanges. It reads the files named, an export (--against) or, without either, the\n" +
			"broker (--url). A pattern warren cannot evaluate as the broker would is reported as unknown.\n\n" +
			"   warren access defs/ --user app [--vhost V]\n" +
			"   warren access defs/ --resource exchange:VHOST/NAME [--routing-key K]   (queue:/NAME on the vhost /)\n" +
			"   warren access defs/ --vhost V                                         (users by resources)\n" +
			"   warren access defs/ --user app --can publish exchange:VHOST/NAME --routing-key K\n\n" +
			"Operations: declare, delete, bind-source, bind-destination, publish (exchanges), consume, get, purge (queues).\n\n" +
			"Exit codes: 0 answered (--can: allowed), 1 error (--can: denied, unknown, or depends on a routing key not given;\n" +
			"the reason is on standard error).",
		Flags: append(append(withoutFlags(append(connectionFlags(), cloudFlags(false)...), append([]string{"amqp-url", "import-timeout"}, notForExport...)...),
			refusedFlags(sizingFlags...)...),
			&cli.StringFlag{Name: "against", Usage: "read this export file instead of a live broker (offline)"},
			&cli.StringFlag{Name: "user", Usage: "the user whose access to show (with --can: the user asking)"},
			&cli.StringFlag{Name: "vhost", Usage: "with --user: only this vhost; alone: every user by every queue and exchange of this vhost"},
			&cli.StringFlag{Name: "resource", Usage: "queue:VHOST/NAME or exchange:VHOST/NAME: who can do what to it"},
			&cli.StringFlag{Name: "can", Usage: "with --user and a resource (argument or --resource): may the user do this operation? exit 0 yes, 1 no"},
			&cli.StringFlag{Name: "routing-key", Usage: "the routing key of a publish, or the binding key of a bind from a topic exchange"},
			&cli.BoolFlag{Name: "audit", Usage: "report least-privilege findings (codes W200-W208, docs/diagnostics.md) as warnings at their place in the files"},
			&cli.BoolFlag{Name: "strict", Usage: "with --audit: treat every finding as an error (exit 1), for CI"},
			&cli.IntFlag{Name: "max-admins", Usage: "with --audit: report the administrators when more users than this are tagged administrator"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json or markdown (--audit: text or json)"},
			rabbitmqVersionFlag(),
			targetFlag(),
			maxSizeFlag(),
		),
		Action: runAccess,
	}
}

// isResource says whether an argument names a resource rather than a file.
func isResource(arg string) bool {
	return strings.HasPrefix(arg, "queue:") || strings.HasPrefix(arg, "exchange:")
}

// withoutFlags is flags without those named: what a command that only
// reads has no use for.
func withoutFlags(flags []cli.Flag, names ...string) []cli.Flag {
	return slices.DeleteFunc(flags, func(f cli.Flag) bool { return slices.Contains(names, f.Names()[0]) })
}

func runAccess(c *cli.Context) error {
	if err := refuseFlags(c, "access", sizingFlags...); err != nil {
		return err
	}
	format := c.String("format")
	if format != "text" && format != "json" && format != "markdown" {
		return fmt.Errorf("unknown --format %q: use text, json or markdown", format)
	}
	version, err := rabbitmqVersion(c)
	if err != nil {
		return err
	}
	req := operation.AccessRequest{User: c.String("user"), Vhost: c.String("vhost"), Version: version}
	args := c.Args().Slice()
	res := c.String("resource")
	if c.IsSet("can") {
		op, err := access.ParseOperation(c.String("can"))
		if err != nil {
			return err
		}
		req.Can = op
		// The resource may be given as an argument, among the files.
		if i := slices.IndexFunc(args, isResource); res == "" && i >= 0 {
			res, args = args[i], slices.Delete(slices.Clone(args), i, i+1)
		}
		if req.User == "" || res == "" {
			return errors.New("--can needs --user and a resource: --can publish exchange:VHOST/NAME")
		}
	}
	if res != "" {
		r, err := access.ParseResource(res)
		if err != nil {
			return err
		}
		req.Resource = &r
	}
	if c.IsSet("routing-key") {
		k := c.String("routing-key")
		req.RoutingKey = &k
	}
	req.Audit, req.AuditOpts.MaxAdmins = c.Bool("audit"), c.Int("max-admins")
	req.Where = format == "text" // the text view says where permissions are defined
	switch {
	case req.Audit && (req.User != "" || req.Resource != nil || req.Can != ""):
		return errors.New("--audit looks at every user: it cannot be used with --user, --resource or --can")
	case !req.Audit && (c.IsSet("strict") || c.IsSet("max-admins")):
		return errors.New("--strict and --max-admins go with --audit")
	case c.IsSet("max-admins") && c.Int("max-admins") < 1:
		// 0 would read as no limit: say so rather than audit nothing.
		return fmt.Errorf("--max-admins %d: give 1 or more (a broker needs an administrator)", c.Int("max-admins"))
	case req.Audit && format == "markdown":
		return errors.New("--audit prints diagnostics: use --format text or json")
	case !req.Audit && req.User == "" && req.Resource == nil && req.Vhost == "":
		return errors.New("ask --user U, --resource queue:VHOST/NAME, --vhost V (every user by every resource), --user U --can OPERATION RESOURCE, or --audit")
	}
	name, err := operation.ParseTarget(c.String("target"))
	if err != nil {
		return err
	}
	ui := newView(c, format)
	var result *operation.AccessResult
	switch {
	case len(args) > 0:
		if c.IsSet("against") {
			return errors.New("give files or --against, not both")
		}
		// The question is answered while the files are checked, and the
		// answer shown only when they hold no error.
		var aerr error
		during := func(doc *definitions.Document) {
			r := req
			r.Desired = doc
			result, aerr = operation.Access(c.Context, ui, r)
		}
		if _, err := loadValidWhile(c, ui, name, false, during, args...); err != nil {
			return err
		}
		if aerr != nil {
			return aerr
		}
	case c.IsSet("against"):
		t, err := operation.OpenExportFile(ui, name, c.String("against"))
		if err != nil {
			return err
		}
		req.Target = t
	default:
		var t seeders.Target
		if t, err = openTarget(c, ui, name); err != nil {
			return err
		}
		req.Target = t
	}
	if result == nil {
		if result, err = operation.Access(c.Context, ui, req); err != nil {
			return err
		}
	}
	if req.Audit {
		return printAudit(c, result, format)
	}
	bw := bufio.NewWriterSize(c.App.Writer, 64<<10)
	defer bw.Flush()
	switch format {
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(accessJSON(result)); err != nil {
			return err
		}
	case "markdown":
		accessMarkdown(bw, result)
	default:
		accessText(bw, result)
	}
	if v := result.Can; v != nil {
		bw.Flush()
		fmt.Fprintln(c.App.ErrWriter, operation.CanLine(*v))
		if v.Result != access.Allowed {
			return exitCodeError{exitError}
		}
	}
	return nil
}

// printAudit prints the audit's findings as validate prints diagnostics:
// one per line and a count, or validate's json report, each finding
// written as it is made (they are not all held as text at once). Exit 1
// with --strict when there is any.
func printAudit(c *cli.Context, r *operation.AccessResult, format string) error {
	strict := c.Bool("strict")
	all := func(yield func(schema.Diagnostic) bool) {
		for d := range r.Findings.All() {
			if strict {
				d.Severity = schema.Error
			}
			if !yield(d) {
				return
			}
		}
	}
	n := r.Findings.Len()
	// The findings were made while the files were checked; they are
	// placed in the files now that the checks are done, once what loading
	// and checking left is collected and its pages returned: placing
	// 10,000 findings allocates 2 MB, which on top of the checks' took the
	// peak above validate's.
	debug.FreeOSMemory()
	r.Findings.Place()
	// One write per 64 KiB, not per finding: 10,000 findings were as many
	// system calls.
	out := bufio.NewWriterSize(c.App.Writer, 64<<10)
	if format == "json" {
		if err := streamDiagnosticsJSON(out, n, strict, all, r.Model.Document()); err != nil {
			return err
		}
	} else {
		// Each line is written from the finding: no pointer or message
		// string is made for it.
		var line []byte
		for i := range n {
			line = append(r.Findings.AppendText(line[:0], i), '\n')
			out.Write(line)
		}
		fmt.Fprintln(out, operation.Plural(n, "finding"))
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if strict && n > 0 {
		return exitCodeError{exitError}
	}
	return nil
}

// streamDiagnosticsJSON writes what json.Encoder writes of
// diagnosticsJSON for n diagnostics, all errors when strict, all warnings
// otherwise: the report's head, then each diagnostic as it comes.
func streamDiagnosticsJSON(w io.Writer, n int, strict bool, all iter.Seq[schema.Diagnostic], doc *definitions.Document) error {
	head := diagnosticsJSON(nil, doc)
	head.Valid, head.Errors, head.Warnings = !strict || n == 0, 0, n
	if strict {
		head.Errors, head.Warnings = n, 0
	}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// The report ends with its diagnostics: "diagnostics":[]}.
	b, ok := bytes.CutSuffix(b, []byte("]}"))
	if !ok {
		return errors.New("access: the json report does not end with its diagnostics")
	}
	first := true
	for d := range all {
		if !first {
			b = append(b, ',')
		}
		first = false
		one, err := json.Marshal(diagnosticsJSON(schema.Diagnostics{d}, nil).Diagnostics[0])
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, one...)); err != nil {
			return err
		}
		b = b[:0]
	}
	_, err = w.Write(append(b, "]}\n"...))
	return err
}

// mark is a verdict's cell: yes, no, key (allowed for some routing keys),
// ? (unknown).
func mark(r access.Result) string {
	return [...]string{"no", "yes", "key", "?"}[r]
}

// noEntryLine names the users who have no permission in a vhost (a
// resource's or a matrix's), the first few by name.
func noEntryLine(r *operation.AccessResult) string {
	if len(r.NoEntry) == 0 {
		return ""
	}
	const shown = 5
	var names []string
	for _, u := range r.NoEntry[:min(shown, len(r.NoEntry))] {
		names = append(names, strconv.Quote(u))
	}
	more := ""
	if n := len(r.NoEntry) - shown; n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	who := fmt.Sprintf("%d users have", len(r.NoEntry))
	if len(r.NoEntry) == 1 {
		who = "1 user has"
	}
	return fmt.Sprintf("%s no permission on vhost %q and cannot connect to it: %s%s", who, r.NoEntryVhost, strings.Join(names, ", "), more)
}

func accessText(w io.Writer, r *operation.AccessResult) {
	switch {
	case r.Matrix != nil:
		matrixTable(w, r.Matrix, false)
		if l := noEntryLine(r); l != "" {
			fmt.Fprintln(w, l)
		}
	case r.Can != nil:
		fmt.Fprintln(w, r.Can.Result)
	case r.Users != nil || r.Vhosts == nil:
		for _, u := range r.Users {
			fmt.Fprintf(w, "user %q\n", u.User)
			for _, v := range u.Verdicts {
				fmt.Fprintf(w, "  %-16s %-4s %s\n", v.Operation, mark(v.Result), v.Brief())
			}
		}
		if l := noEntryLine(r); l != "" {
			fmt.Fprintln(w, l)
		}
	default:
		for _, uv := range r.Vhosts {
			if uv.Permission == nil {
				fmt.Fprintf(w, "vhost %q: no permission, cannot connect\n", uv.Vhost)
				continue
			}
			p := uv.Permission
			fmt.Fprintf(w, "vhost %q: can connect; configure %s, write %s, read %s%s\n", uv.Vhost, q(p.Configure), q(p.Write), q(p.Read), at(r, p))
			for _, tp := range uv.Topic {
				fmt.Fprintf(w, "  topic permission on exchange %q: write %s, read %s%s\n", tp.Exchange, q(tp.Write), q(tp.Read), at(r, tp))
			}
			var last access.Resource
			for _, v := range uv.Verdicts {
				if v.Resource != last {
					last = v.Resource
					fmt.Fprintf(w, "  %s %q\n", v.Resource.Kind, v.Resource.Name)
				}
				fmt.Fprintf(w, "    %-16s %-4s %s\n", v.Operation, mark(v.Result), v.Brief())
			}
		}
	}
}

// q quotes a pattern, its backslashes single.
func q(s string) string { return access.Quote(s) }

// matrixLegend says what a matrix cell means.
const matrixLegend = "c configure (declare, delete), w write (publish to an exchange, bind to a queue), r read (consume from a queue, bind from an exchange); " +
	"- denied, k by routing key, ? unknown"

// mdText escapes a name for a markdown table cell: a | would end the
// cell, and * _ ` < \ would format what follows.
var mdText = strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", "\n", " ", "\r", " ")

// matrixTable prints users by resources, as text or a markdown table.
func matrixTable(w io.Writer, mx *operation.Matrix, markdown bool) {
	head := []string{"user"}
	for _, r := range mx.Resources {
		name := r.Name
		if r.Kind == access.Exchange && name == "" {
			name = "(default)"
		}
		head = append(head, string(r.Kind)+" "+name)
	}
	rows := [][]string{head}
	for i, u := range mx.Users {
		rows = append(rows, append([]string{u}, mx.Cells[i]...))
	}
	if markdown {
		fmt.Fprintf(w, "### vhost `%s`\n\n", mx.Vhost)
		for i, row := range rows {
			cells := make([]string, len(row))
			for j, c := range row {
				cells[j] = mdText.Replace(c)
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
			if i == 0 {
				fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(row)))
			}
		}
		fmt.Fprintf(w, "\n%s\n", matrixLegend)
		return
	}
	width := make([]int, len(head))
	for _, row := range rows {
		for j, c := range row {
			width[j] = max(width[j], len(c))
		}
	}
	fmt.Fprintf(w, "vhost %q\n", mx.Vhost)
	for _, row := range rows {
		for j, c := range row {
			if j < len(row)-1 {
				fmt.Fprintf(w, "%-*s  ", width[j], c)
			} else {
				fmt.Fprintln(w, c)
			}
		}
	}
	fmt.Fprintln(w, matrixLegend)
}

// at is where an object was defined, " (file:line:col)", or "".
func at(r *operation.AccessResult, o definitions.Object) string {
	d, ok := r.Where[o]
	if !ok {
		dg := definitions.Diagnose(o, 0, "", "")
		d = schema.Location{File: dg.File, Pos: dg.Pos}
	}
	if d.File == "" {
		return ""
	}
	if d.Pos.Line == 0 {
		return fmt.Sprintf(" (%s)", d.File)
	}
	return fmt.Sprintf(" (%s:%d:%d)", d.File, d.Pos.Line, d.Pos.Col)
}

func accessMarkdown(w io.Writer, r *operation.AccessResult) {
	cell := func(v access.Verdict) string {
		s := mark(v.Result)
		if v.Result != access.Allowed {
			s += " — " + mdText.Replace(v.Brief())
		}
		return s
	}
	header := func(k access.Kind, first string) {
		fmt.Fprintf(w, "| %s |", first)
		n := 0
		for _, op := range access.Operations {
			if op.AppliesTo(k) {
				fmt.Fprintf(w, " %s |", op)
				n++
			}
		}
		fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---|", n))
	}
	code := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
	// In a table cell a | ends the cell, in a code span too, unless
	// escaped (GitHub shows \| there as |).
	cellCode := func(s string) string { return strings.ReplaceAll(code(s), "|", `\|`) }
	switch {
	case r.Matrix != nil:
		matrixTable(w, r.Matrix, true)
		if l := noEntryLine(r); l != "" {
			fmt.Fprintf(w, "\n%s\n", l)
		}
	case r.Can != nil:
		fmt.Fprintf(w, "**%s**: %s\n", r.Can.Result, r.Can.Reason())
	case r.Users != nil || r.Vhosts == nil:
		defer func() {
			if l := noEntryLine(r); l != "" {
				fmt.Fprintf(w, "\n%s\n", l)
			}
		}()
		if len(r.Users) == 0 {
			fmt.Fprintln(w, "No users with a permission on the vhost.")
			return
		}
		header(r.Users[0].Verdicts[0].Resource.Kind, "user")
		for _, u := range r.Users {
			fmt.Fprintf(w, "| %s |", cellCode(u.User))
			for _, v := range u.Verdicts {
				fmt.Fprintf(w, " %s |", cell(v))
			}
			fmt.Fprintln(w)
		}
	default:
		for i, uv := range r.Vhosts {
			if i > 0 {
				fmt.Fprintln(w)
			}
			if uv.Permission == nil {
				fmt.Fprintf(w, "### vhost %s\n\nNo permission: the user cannot connect.\n", code(uv.Vhost))
				continue
			}
			p := uv.Permission
			fmt.Fprintf(w, "### vhost %s\n\nconfigure %s, write %s, read %s\n", code(uv.Vhost), code(p.Configure), code(p.Write), code(p.Read))
			for _, k := range []access.Kind{access.Exchange, access.Queue} {
				var last access.Resource
				started := false
				for _, v := range uv.Verdicts {
					if v.Resource.Kind != k {
						continue
					}
					if !started {
						fmt.Fprintln(w)
						header(k, string(k))
						started = true
					}
					if v.Resource != last {
						if last.Kind != "" {
							fmt.Fprintln(w)
						}
						last = v.Resource
						fmt.Fprintf(w, "| %s |", cellCode(v.Resource.Name))
					}
					fmt.Fprintf(w, " %s |", cell(v))
				}
				if started {
					fmt.Fprintln(w)
				}
			}
		}
	}
}

// accessJSON is --format json's shape, version 1: see docs/access.md.
func accessJSON(r *operation.AccessResult) any {
	type check struct {
		Permission string `json:"permission"`
		Subject    string `json:"subject,omitempty"`
		Pattern    string `json:"pattern,omitempty"`
		Expanded   string `json:"expanded,omitempty"`
		By         string `json:"by,omitempty"`
		Result     string `json:"result"`
		Reason     string `json:"reason"`
	}
	type verdict struct {
		User       string  `json:"user"`
		Operation  string  `json:"operation"`
		Resource   string  `json:"resource"`
		RoutingKey *string `json:"routing_key,omitempty"`
		Result     string  `json:"result"`
		Reason     string  `json:"reason"`
		Checks     []check `json:"checks"`
	}
	conv := func(vs []access.Verdict) []verdict {
		out := []verdict{}
		for _, v := range vs {
			jv := verdict{User: v.User, Operation: string(v.Operation), Resource: v.Resource.Ref(), RoutingKey: v.RoutingKey,
				Result: v.Result.String(), Reason: v.Reason(), Checks: []check{}}
			for _, c := range v.Checks {
				jc := check{Permission: string(c.Permission), Subject: c.Subject, Pattern: c.Pattern, Result: c.Result.String(), Reason: c.Why}
				if c.Expanded != c.Pattern {
					jc.Expanded = c.Expanded
				}
				if c.By != nil {
					jc.By = c.By.Addr()
				}
				jv.Checks = append(jv.Checks, jc)
			}
			out = append(out, jv)
		}
		return out
	}
	type perm struct {
		Exchange  string  `json:"exchange,omitempty"`
		Configure *string `json:"configure,omitempty"`
		Write     string  `json:"write"`
		Read      string  `json:"read"`
	}
	type vhost struct {
		Vhost      string    `json:"vhost"`
		CanConnect bool      `json:"can_connect"`
		Permission *perm     `json:"permission,omitempty"`
		Topic      []perm    `json:"topic_permissions,omitempty"`
		Verdicts   []verdict `json:"verdicts"`
	}
	type user struct {
		User     string    `json:"user"`
		Verdicts []verdict `json:"verdicts"`
	}
	out := map[string]any{"version": 1}
	if r.Matrix != nil || r.Users != nil {
		out["no_permission"] = append([]string{}, r.NoEntry...)
	}
	switch {
	case r.Matrix != nil:
		rs := []string{}
		for _, res := range r.Matrix.Resources {
			rs = append(rs, res.Ref())
		}
		out["matrix"] = map[string]any{"vhost": r.Matrix.Vhost, "users": r.Matrix.Users, "resources": rs, "cells": r.Matrix.Cells}
	case r.Can != nil:
		out["can"] = conv([]access.Verdict{*r.Can})[0]
	case r.Users != nil || r.Vhosts == nil:
		users := []user{}
		for _, u := range r.Users {
			users = append(users, user{User: u.User, Verdicts: conv(u.Verdicts)})
		}
		out["users"] = users
	default:
		vhosts := []vhost{}
		for _, uv := range r.Vhosts {
			jv := vhost{Vhost: uv.Vhost, CanConnect: uv.Permission != nil, Verdicts: conv(uv.Verdicts)}
			if p := uv.Permission; p != nil {
				c := p.Configure
				jv.Permission = &perm{Configure: &c, Write: p.Write, Read: p.Read}
			}
			for _, tp := range uv.Topic {
				jv.Topic = append(jv.Topic, perm{Exchange: tp.Exchange, Write: tp.Write, Read: tp.Read})
			}
			vhosts = append(vhosts, jv)
		}
		out["vhosts"] = vhosts
	}
	return out
}
