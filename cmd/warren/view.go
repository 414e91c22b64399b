package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
	"golang.org/x/term"
)

// view is the terminal's operation.UI: results on out (standard output),
// the rest on log (standard error). format is the plan's: text (colored
// on a terminal, without NO_COLOR), json or markdown; beside a json or
// markdown plan, notes go to the log, which a CI job's log shows.
type view struct {
	out, log io.Writer
	in       io.Reader
	format   string
	progress *progress
}

var _ operation.UI = (*view)(nil)

// newView is the command's view, its plan in format.
func newView(c *cli.Context, format string) *view {
	return newViewOn(c.App.Reader, c.App.Writer, c.App.ErrWriter, format)
}

func newViewOn(in io.Reader, out, log io.Writer, format string) *view {
	return &view{out: out, log: log, in: in, format: format, progress: newProgress(log)}
}

func (v *view) Out() io.Writer { return v.out }
func (v *view) Log() io.Writer { return v.log }

func (v *view) Diagnostics(diags schema.Diagnostics) { printDiagnostics(v.log, diags) }

func (v *view) Plan(p *plan.Plan) {
	switch v.format {
	case "json":
		enc := json.NewEncoder(v.out)
		enc.SetIndent("", "  ")
		enc.Encode(render.ToJSON(p))
	case "markdown":
		bw := bufio.NewWriterSize(v.out, 64<<10)
		render.Markdown(bw, p, "warren diff")
		bw.Flush()
	default:
		renderText(v.out, p)
	}
}

func (v *view) Notes(lines []string) {
	w := v.out
	if v.format != "text" {
		w = v.log
	}
	for _, line := range lines {
		fmt.Fprintln(w, line)
	}
}

// Confirm asks on the terminal; without one, --yes is required.
func (v *view) Confirm() error {
	f, ok := v.in.(*os.File)
	if !ok || !isTerminal(f) {
		return errors.New("not on a terminal: review the plan and run again with --yes to apply it")
	}
	fmt.Fprint(v.log, "\nApply these changes? Only 'yes' is accepted: ")
	line, _ := bufio.NewReader(f).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("not applied")
	}
	return nil
}

func (v *view) Progress(pr seeders.Progress) { v.progress.report(pr) }
func (v *view) ProgressDone()                { v.progress.finish() }

// Password asks for the password on the terminal, without echo.
func (v *view) Password(user string) (string, error) {
	f, ok := v.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("no password for user %q: set WARREN_PASSWORD or --password-file", user)
	}
	fmt.Fprintf(v.log, "Password for %s: ", user)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(v.log)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// renderText prints a plan as text, through a buffer: a plan is a line or
// more per change, and os.Stdout is not buffered (a plan of 41,200
// creations spent 180 ms of warren's 490 in write system calls).
func renderText(w io.Writer, p *plan.Plan) {
	bw := bufio.NewWriterSize(w, 64<<10)
	render.Text(bw, p, render.Options{Color: useColor(w)})
	bw.Flush()
}

// useColor reports whether to color output: a terminal, and no NO_COLOR.
func useColor(w any) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}

// progress shows how far an apply got: a bar on a terminal, plain lines
// otherwise.
type progress struct {
	w   io.Writer
	tty bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w, tty: isTerminal(w)} }

func (p *progress) report(pr seeders.Progress) {
	if p.tty {
		const width = 30
		filled := width * pr.Done / max(pr.Total, 1)
		fmt.Fprintf(p.w, "\r  applying [%s%s] %d/%d", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), pr.Done, pr.Total)
		return
	}
	switch {
	case pr.What == "import":
		fmt.Fprintf(p.w, "  imported %s in one request (%d/%d)\n", operation.Plural(len(pr.Changes), "object"), pr.Done, pr.Total)
	default:
		for _, ch := range pr.Changes {
			fmt.Fprintf(p.w, "  %c %s (%d/%d)\n", ch.Action, ch.Addr, pr.Done, pr.Total)
		}
	}
}

func (p *progress) finish() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
