package operation

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// diagUI is a bufferUI that keeps the diagnostics shown.
type diagUI struct {
	bufferUI
	diags schema.Diagnostics
}

func (u *diagUI) Diagnostics(d schema.Diagnostics) { u.diags = append(u.diags, d...) }

// TestLoadValidWhileAnswersDuringChecks: a question answered while the
// checks run (as warren access does on files) gets the answer and the
// checks' warnings, both placed in a file the checks and the answer place
// objects in at once (run with -race: a small file's line index was made
// by whichever came first, unguarded); with an error in the files, the
// question is not answered.
func TestLoadValidWhileAnswersDuringChecks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A permission on an undefined vhost is a warning (W104), placed
	// after the checks; the user's own permissions are placed by the
	// answer.
	good := write("good.json", `{
  "users": [{"name": "app", "tags": ""}],
  "vhosts": [{"name": "a"}],
  "permissions": [
    {"user": "app", "vhost": "a", "configure": "^app\\.", "write": "", "read": ""},
    {"user": "app", "vhost": "nowhere", "configure": "", "write": "", "read": ""}],
  "queues": [{"name": "app.q", "vhost": "a", "durable": true}]
}
`)
	for range 20 {
		ui := &diagUI{bufferUI: bufferUI{out: &bytes.Buffer{}, log: &bytes.Buffer{}}}
		var res *AccessResult
		var aerr error
		d, err := LoadValidWhile(ui, Files{Paths: []string{good}}, definitions.CheckOptions{}, false, func(doc *definitions.Document) {
			res, aerr = Access(t.Context(), ui, AccessRequest{Desired: doc, User: "app", Where: true})
		})
		if err != nil || aerr != nil {
			t.Fatal(err, aerr)
		}
		var w104 *schema.Diagnostic
		for i, d := range ui.diags {
			if d.Code == schema.WUndefinedVhost {
				w104 = &ui.diags[i]
			}
		}
		if w104 == nil || w104.Pos.Line != 6 || ui.diags.HasErrors() {
			t.Fatalf("diagnostics: got %v, want W104 on line 6 and no error", ui.diags)
		}
		p := d.Doc.Permissions[0]
		if got := res.Where[p]; got.File != good || got.Pos.Line != 5 {
			t.Fatalf("the user's permission on vhost a is placed at %+v, want %s line 5", got, good)
		}
	}

	bad := write("bad.json", `{"users": [{"name": "app", "tags": ""}, {"name": "app", "tags": ""}]}`)
	ran := false
	_, err := LoadValidWhile(&diagUI{bufferUI: bufferUI{out: &bytes.Buffer{}, log: &bytes.Buffer{}}}, Files{Paths: []string{bad}},
		definitions.CheckOptions{}, false, func(*definitions.Document) { ran = true })
	if err == nil || ran {
		t.Errorf("files with an error: err %v, question answered %v; want an error and no answer", err, ran)
	}
}
