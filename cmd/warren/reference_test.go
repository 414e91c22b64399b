package main

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/internal/golden"
)

// TestGoldenCommandReference keeps docs/commands.md equal to what the
// command tree says: every visible command and subcommand with its usage
// line, description and flags (aliases, environment variables, defaults).
// WARREN_UPDATE=1 rewrites the page.
func TestGoldenCommandReference(t *testing.T) {
	const page = "../../docs/commands.md"
	want := commandReference(newApp(strings.NewReader(""), io.Discard, io.Discard))
	golden.File(t, page, want)
}

// TestCommandReferenceCoversFlags: the page names every visible command and
// every visible flag of each, so a flag added to the tree cannot be left out
// of it by the generator.
func TestCommandReferenceCoversFlags(t *testing.T) {
	app := newApp(strings.NewReader(""), io.Discard, io.Discard)
	page := commandReference(app)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			full := path + " " + c.Name
			if !strings.Contains(page, "\n## "+full+"\n") {
				t.Errorf("no section for %q", full)
			}
			for _, f := range c.Flags {
				if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
					continue
				}
				if !strings.Contains(page, "`--"+f.Names()[0]) {
					t.Errorf("%s: flag --%s is not on the page", full, f.Names()[0])
				}
			}
			walk(full, c.Subcommands)
		}
	}
	walk(app.Name, app.Commands)
}

// commandReference renders docs/commands.md from the app's command tree.
// It reads the tree as newApp builds it, before any parsing, so defaults are
// the code's and not the environment's.
func commandReference(app *cli.App) string {
	var b strings.Builder
	b.WriteString("# Command reference\n\n")
	b.WriteString("<!-- Generated from warren's command tree by TestGoldenCommandReference (cmd/warren/reference_test.go):\n" +
		"     WARREN_UPDATE=1 go test -run TestGoldenCommandReference ./cmd/warren rewrites this page. Do not edit it by hand. -->\n\n")
	fmt.Fprintf(&b, "`%s`: %s.\n\n", app.Name, app.Usage)
	b.WriteString("This page is `warren COMMAND --help` for every command, in one place. Every command also takes\n" +
		"`--help` (`-h`); `warren --version` (`-v`) prints the version. A flag's environment variable is read when\n" +
		"the flag is not given; the command line wins. Exit codes are listed under each command and in\n" +
		"[the README](../README.md#exit-codes).\n\n")
	var index func(path string, cmds []*cli.Command, depth int)
	index = func(path string, cmds []*cli.Command, depth int) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			full := path + " " + c.Name
			fmt.Fprintf(&b, "%s- [`%s`](#%s): %s\n", strings.Repeat("  ", depth), full, anchor(full), c.Usage)
			index(full, c.Subcommands, depth+1)
		}
	}
	index(app.Name, app.Commands, 0)
	var section func(path string, cmds []*cli.Command)
	section = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			full := path + " " + c.Name
			commandSection(&b, full, c)
			section(full, c.Subcommands)
		}
	}
	section(app.Name, app.Commands)
	return b.String()
}

func commandSection(b *strings.Builder, full string, c *cli.Command) {
	fmt.Fprintf(b, "\n## %s\n\n", full)
	fmt.Fprintf(b, "%s.\n\n", strings.TrimSuffix(c.Usage, "."))
	if len(c.Aliases) > 0 {
		fmt.Fprintf(b, "Also: `%s`.\n\n", strings.Join(c.Aliases, "`, `"))
	}
	usage := c.UsageText
	if usage == "" {
		usage = full
		if len(visibleCommands(c.Subcommands)) > 0 {
			usage += " COMMAND"
		} else if len(visibleFlags(c.Flags)) > 0 {
			usage += " [options]"
		}
		if c.ArgsUsage != "" {
			usage += " " + c.ArgsUsage
		}
	}
	fmt.Fprintf(b, "```\n%s\n```\n", strings.TrimSpace(usage))
	if d := strings.TrimSpace(c.Description); d != "" {
		fmt.Fprintf(b, "\n```text\n%s\n```\n", d)
	}
	if subs := visibleCommands(c.Subcommands); len(subs) > 0 {
		b.WriteString("\n| command | what it does |\n|---|---|\n")
		for _, s := range subs {
			fmt.Fprintf(b, "| [`%s %s`](#%s) | %s |\n", full, s.Name, anchor(full+" "+s.Name), cell(s.Usage))
		}
	}
	flags := visibleFlags(c.Flags)
	if len(flags) == 0 {
		return
	}
	b.WriteString("\n| flag | environment | default | what it does |\n|---|---|---|---|\n")
	for _, f := range flags {
		b.WriteString(flagRow(f))
	}
}

func flagRow(f cli.DocGenerationFlag) string {
	value := ""
	if f.TakesValue() {
		value = " VALUE"
	}
	var names []string
	for _, n := range f.Names() {
		dash := "--"
		if len(n) == 1 {
			dash = "-"
		}
		names = append(names, "`"+dash+n+value+"`")
	}
	name := strings.Join(names, ", ")
	if s, ok := f.(cli.DocGenerationSliceFlag); ok && s.IsSliceFlag() {
		name += " (repeatable)"
	}
	var env []string
	for _, e := range f.GetEnvVars() {
		env = append(env, "`"+e+"`")
	}
	def := f.GetDefaultText()
	if bf, ok := f.(*cli.BoolFlag); ok && def == "false" && !bf.Value {
		def = "" // a switch is off unless given
	}
	if def != "" {
		def = "`" + strings.ReplaceAll(def, "|", `\|`) + "`"
	}
	return fmt.Sprintf("| %s | %s | %s | %s |\n", name, strings.Join(env, ", "), def, cell(f.GetUsage()))
}

func visibleCommands(cmds []*cli.Command) []*cli.Command {
	var out []*cli.Command
	for _, c := range cmds {
		if !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

func visibleFlags(flags []cli.Flag) []cli.DocGenerationFlag {
	var out []cli.DocGenerationFlag
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		if d, ok := f.(cli.DocGenerationFlag); ok {
			out = append(out, d)
		}
	}
	return out
}

// cell escapes text for a markdown table cell: what would end the cell or
// start emphasis or HTML.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "<", "&lt;", "\n", " ").Replace(s)
}

// anchor is the id GitHub gives a heading: lower case, spaces as dashes,
// other punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
