package operation

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
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

// TestAccessResourceAllocsPerUser: who can do what to a queue allocates,
// for each user with no permission in its vhost, no more than that user's
// entry in the list of those who cannot connect (one string, 16 bytes):
// not a sorted copy of every user and permission's name and a list grown
// by doubling besides (about 60 bytes a user, 600 KB on make bench's
// 10,000 users).
func TestAccessResourceAllocsPerUser(t *testing.T) {
	doc := func(users int) *definitions.Document {
		d := &definitions.Document{}
		d.Vhosts = []*definitions.Vhost{{Name: "a"}, {Name: "b"}}
		d.Queues = []*definitions.Queue{{Name: "q", Vhost: "a"}}
		for i := range users {
			name := fmt.Sprintf("user-%05d", i)
			d.Users = append(d.Users, &definitions.User{Name: name})
			vhost := "b" // unrelated to the queue's vhost
			if i < 10 {
				vhost = "a"
			}
			d.Permissions = append(d.Permissions, &definitions.Permission{User: name, Vhost: vhost, Configure: ".*", Write: ".*", Read: ".*"})
		}
		return d
	}
	q := &access.Resource{Kind: access.Queue, Vhost: "a", Name: "q"}
	bytesFor := func(users int) float64 {
		d := doc(users)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res, err := Access(t.Context(), nil, AccessRequest{Desired: d, Resource: q})
		runtime.ReadMemStats(&after)
		if err != nil || len(res.Users) != 10 || len(res.NoEntry) != users-10 {
			t.Fatalf("%d users: %v, %d users answered, %d cannot connect", users, err, len(res.Users), len(res.NoEntry))
		}
		return float64(after.TotalAlloc - before.TotalAlloc)
	}
	small, large := bytesFor(1000), bytesFor(21000)
	if per := (large - small) / 20000; per > 20 {
		t.Errorf("%.0f bytes allocated for each user with no permission in the vhost, want 16 at most (a 16-byte string header, and a little)", per)
	}
}

// TestAccessUsers: the users defined and those given permissions, once
// each and sorted, whatever the files' order.
func TestAccessUsers(t *testing.T) {
	d := &definitions.Document{}
	for _, u := range []string{"m", "b", "z", "b"} {
		d.Users = append(d.Users, &definitions.User{Name: u})
	}
	for _, u := range []string{"z", "a", "q", "a", "m"} {
		d.Permissions = append(d.Permissions, &definitions.Permission{User: u, Vhost: "/"})
	}
	if got, want := AccessUsers(d), []string{"a", "b", "m", "q", "z"}; !slices.Equal(got, want) {
		t.Errorf("AccessUsers: %q, want %q", got, want)
	}
}
