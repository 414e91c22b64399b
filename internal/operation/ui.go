package operation

import (
	"errors"
	"fmt"
	"io"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

// UI is what an operation tells its user, and asks. Package main's views
// write to the terminal (text, json or markdown); a fleet gives each
// broker one that writes to a buffer.
type UI interface {
	// Out is where results go: plans, reports (standard output).
	Out() io.Writer
	// Log is where what happens goes: warnings, waiting, the lock,
	// what an apply did (standard error).
	Log() io.Writer
	// Diagnostics shows diagnostics, one per line, sorted.
	Diagnostics(schema.Diagnostics)
	// Plan shows a plan, in the view's format.
	Plan(*plan.Plan)
	// Notes shows a target's notes on the plan just shown.
	Notes([]string)
	// Confirm asks whether to carry out the plan shown; an error says why
	// not (no terminal, an answer other than yes).
	Confirm() error
	// Progress shows how far an apply got; ProgressDone ends it.
	Progress(seeders.Progress)
	ProgressDone()
	// Password asks for a user's password (a prompt on a terminal).
	Password(user string) (string, error)
}

// ReportedError is an error the operation has already shown through its
// UI (diagnostics, a plan the broker did not take, what an apply did):
// the caller exits with an error and prints nothing more. Error is the
// last line shown, which a fleet's report gives as the broker's error.
type ReportedError struct{ Summary string }

func (e *ReportedError) Error() string { return e.Summary }

// reported prints a summary line on the UI's log, as "warren: …", and
// returns it as a ReportedError.
func reported(ui UI, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(ui.Log(), "warren: %s\n", msg)
	return &ReportedError{Summary: msg}
}

// IsReported says whether err was shown already.
func IsReported(err error) bool {
	var r *ReportedError
	return errors.As(err, &r)
}

// logf writes one line on the UI's log.
func logf(ui UI, format string, args ...any) {
	fmt.Fprintf(ui.Log(), format+"\n", args...)
}

// Plural is n and word, with an s unless n is 1.
func Plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// renderLog shows a plan on the UI's log, as plain text.
func renderLog(ui UI, p *plan.Plan) {
	render.Text(ui.Log(), p, render.Options{})
}
