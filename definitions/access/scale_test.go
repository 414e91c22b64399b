package access_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
	"github.com/warren-tool/warren/internal/defgen"
)

// allocated is how many bytes f allocates, averaged over runs.
func allocated(runs int, f func()) float64 {
	f()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// questionAllocs are the bytes allocated by the questions warren access
// asks about one user (each vhost, every resource there) and about one
// queue (every user's verdict on it), each on a new model of a document
// of the shape: v vhosts, and 100 users, 10 queues and 2 exchanges in
// each.
func questionAllocs(t *testing.T, v int) (user, resource float64) {
	t.Helper()
	shape := defgen.Shape{Vhosts: v, Users: 100 * v, Queues: 10 * v, Exchanges: 2 * v}
	d, diags := definitions.Parse("defs.json", shape.Broker())
	if diags.HasErrors() {
		t.Fatalf("generated document: %v", diags)
	}
	user = allocated(5, func() {
		m := access.New(d, access.Options{Version: "4.3.6"})
		for _, v := range d.Vhosts {
			if m.Permission("user-5", v.Name) == nil {
				continue
			}
			for _, r := range m.Resources(v.Name) {
				for _, op := range access.Operations {
					if op.AppliesTo(r.Kind) {
						m.Can("user-5", op, r, nil)
					}
				}
			}
		}
	})
	q := access.Resource{Kind: access.Queue, Vhost: "vhost-5", Name: "queue-5"}
	resource = allocated(5, func() {
		m := access.New(d, access.Options{Version: "4.3.6"})
		for _, u := range d.Users {
			if m.Permission(u.Name, q.Vhost) != nil {
				m.Can(u.Name, access.Consume, q, nil)
			}
		}
	})
	return user, resource
}

// TestQuestionsIndexWhatTheyRead: a question about one user indexes that
// user's permission entries and the resources of the vhosts it reads; a
// question about a queue indexes the entries of the queue's vhost. With
// as many users, queues and exchanges in each vhost, ten times as many
// vhosts (so users) allocate no more, but for the few kilobytes the
// runtime's pools vary by (indexing every entry allocated 1 MB more).
func TestQuestionsIndexWhatTheyRead(t *testing.T) {
	const slack = 16 << 10
	smallUser, smallRes := questionAllocs(t, 10)
	bigUser, bigRes := questionAllocs(t, 100)
	if bigUser > smallUser+slack {
		t.Errorf("a user's access: %.0f bytes allocated with 10,000 users, %.0f with 1,000", bigUser, smallUser)
	}
	if bigRes > smallRes+slack {
		t.Errorf("a queue's users: %.0f bytes allocated with 10,000 users, %.0f with 1,000", bigRes, smallRes)
	}
	t.Logf("a user's access: %.0f bytes allocated with 10,000 users, %.0f with 1,000; a queue's users: %.0f and %.0f", bigUser, smallUser, bigRes, smallRes)
}

// TestPermissionIndexes: whatever order the questions come in (one user
// across vhosts, one vhost across users, then any), Permission answers as
// a lookup in the document's entries does.
func TestPermissionIndexes(t *testing.T) {
	d, diags := definitions.Parse("defs.json", defgen.Shape{Vhosts: 7, Users: 60}.Broker())
	if diags.HasErrors() {
		t.Fatalf("generated document: %v", diags)
	}
	want := func(user, vhost string) *definitions.Permission {
		for _, p := range d.Permissions {
			if p.User == user && p.Vhost == vhost {
				return p
			}
		}
		return nil
	}
	m := access.New(d, access.Options{})
	ask := func(user, vhost string) {
		t.Helper()
		if got := m.Permission(user, vhost); got != want(user, vhost) {
			t.Errorf("Permission(%q, %q) = %v, want %v", user, vhost, got, want(user, vhost))
		}
	}
	for _, v := range d.Vhosts {
		ask("user-3", v.Name)
	}
	for _, u := range d.Users {
		ask(u.Name, "vhost-3")
	}
	for _, u := range d.Users {
		for _, v := range d.Vhosts {
			ask(u.Name, v.Name)
		}
	}
	ask("nobody", "nowhere")
}

// TestAuditWorkersAgree: the audit of many permissions, found by several
// workers, is the audit found by one, finding for finding (run with -race:
// the workers share the document and the vhosts' names).
func TestAuditWorkersAgree(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"vhosts":[{"name":"v0"},{"name":"v1"},{"name":"v2"}],"queues":[{"name":"orders","vhost":"v0"},{"name":"app.q","vhost":"v1"}],"permissions":[`)
	patterns := []string{`^user-%d\.`, `.*`, `orders`, `^(app|web)\..*`, `amq\..*`, `^$`, `(?=x)y`, `^app\.`}
	for i := range 3000 {
		if i > 0 {
			b.WriteString(",")
		}
		pat := func(k int) string {
			return strings.ReplaceAll(fmt.Sprintf(patterns[(i+k)%len(patterns)], i), `\`, `\\`)
		}
		fmt.Fprintf(&b, `{"user":"user-%d","vhost":"v%d","configure":"%s","write":"%s","read":"%s"}`, i, i%3, pat(0), pat(3), pat(5))
	}
	b.WriteString(`]}`)
	d, diags := definitions.Parse("defs.json", []byte(b.String()))
	if diags.HasErrors() {
		t.Fatalf("test document: %v", diags)
	}
	audit := func(procs int) string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		return access.New(d, access.Options{}).Audit(access.AuditOptions{}).Error()
	}
	one, four := audit(1), audit(4)
	if one != four {
		t.Errorf("one worker and four disagree:\n%s", cmp.Diff(one, four))
	}
	if strings.Count(one, "\n") < 3000 {
		t.Errorf("want findings for most permissions, got %d lines", strings.Count(one, "\n"))
	}
}

// TestResultAllocatesNothing: a verdict without its reasons allocates
// nothing, for literal patterns and for those the regular expression
// engine matches. A plan's access section asks hundreds of thousands of
// them (412 changed permissions, 110 resources each, 8 operations, two
// models): each check appended to a list no one read, and each name
// matched moved to the heap, once made 42 MB of garbage there.
func TestResultAllocatesNothing(t *testing.T) {
	d, diags := definitions.Parse("defs.yaml", []byte(`
permissions:
  - {user: lit, vhost: v, configure: '^lit\.', write: '.*', read: ''}
  - {user: re, vhost: v, configure: '^(a|b)[0-9]+$', write: 'x|y', read: '[a-z]'}
topic_permissions:
  - {user: lit, vhost: v, exchange: t, write: '^k\.', read: '.*'}
exchanges: [{name: t, vhost: v, type: topic, durable: true}]
queues: [{name: a1, vhost: v, durable: true}]
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m := access.New(d, access.Options{Version: "4.3.6"})
	resources := []access.Resource{{Kind: access.Queue, Vhost: "v", Name: "a1"}, {Kind: access.Exchange, Vhost: "v", Name: "t"}}
	for _, user := range []string{"lit", "re"} {
		for _, r := range resources {
			for _, op := range access.Operations {
				if !op.AppliesTo(r.Kind) {
					continue
				}
				if n := testing.AllocsPerRun(20, func() { m.Result(user, op, r, nil) }); n != 0 {
					t.Errorf("Result(%s, %s, %s) allocates %.0f times, want 0", user, op, r, n)
				}
			}
		}
	}
}

// An audit holds its findings as what each is about and where, not as
// text: the live heap it adds, once its findings are placed, is a few
// dozen bytes a finding (each a permission's grant that matches nothing),
// where the same findings as diagnostics, with their messages and
// pointers, take several times that. Measured after a collection: live
// bytes, no clock.
func TestAuditHoldsNoTextPerFinding(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString(`{"vhosts":[{"name":"v"}],"queues":[{"name":"q","vhost":"v","durable":true}],"permissions":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"user":"user-%d","vhost":"v","configure":"^user-%d\\.","write":".*","read":".*"}`, i, i)
	}
	b.WriteString(`]}`)
	d, diags := definitions.Parse("defs.json", []byte(b.String()))
	if diags.HasErrors() {
		t.Fatalf("test document: %v", diags)
	}
	live := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	m := access.New(d, access.Options{})
	before := live()
	fs := m.Audit(access.AuditOptions{})
	fs.Place()
	held := float64(live()-before) / n
	if fs.Len() != n {
		t.Fatalf("%d findings, want one a permission (%d)", fs.Len(), n)
	}
	before = live()
	ds := fs.Diagnostics()
	asText := float64(live()-before) / n
	runtime.KeepAlive(fs)
	runtime.KeepAlive(ds)
	t.Logf("%.0f bytes a finding held, %.0f as a diagnostic", held, asText)
	if held > 64 {
		t.Errorf("the audit holds %.0f bytes a finding; want at most 64 (as diagnostics: %.0f)", held, asText)
	}
	if asText < 3*held {
		t.Errorf("a diagnostic takes %.0f bytes, a held finding %.0f: the bound no longer tells them apart", asText, held)
	}
}
