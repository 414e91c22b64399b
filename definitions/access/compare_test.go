package access_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
)

func parse(t *testing.T, src string) *access.Model {
	t.Helper()
	d, diags := definitions.Parse("defs.yaml", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return access.New(d, access.Options{Version: "4.3.6"})
}

// TestCompare lists the access changes between two sets of definitions:
// connections gained and lost, and the operations whose verdict a changed
// permission or topic permission changes; new queues change nothing.
func TestCompare(t *testing.T) {
	before := parse(t, `
permissions:
  - {user: app, vhost: v, configure: '', write: '^app\.', read: '^app\.'}
  - {user: old, vhost: v, configure: '.*', write: '.*', read: '.*'}
  - {user: same, vhost: v, configure: '', write: '.*', read: ''}
queues: [{name: app.q, vhost: v, durable: true}, {name: orders, vhost: v, durable: true}]
exchanges: [{name: events, vhost: v, type: topic, durable: true}]
`)
	after := parse(t, `
permissions:
  - {user: app, vhost: v, configure: '', write: '^(app\..*|events)$', read: '^app\.'}
  - {user: new, vhost: v, configure: '', write: '', read: ''}
  - {user: same, vhost: v, configure: '', write: '.*', read: ''}
topic_permissions:
  - {user: same, vhost: v, exchange: events, write: '^same\.', read: '.*'}
queues: [{name: app.q, vhost: v, durable: true}, {name: orders, vhost: v, durable: true}, {name: app.new, vhost: v, durable: true}]
exchanges: [{name: events, vhost: v, type: topic, durable: true}]
`)
	var got []string
	for _, c := range access.Compare(before, after) {
		got = append(got, c.String())
	}
	want := []string{
		`user "app" can now bind to exchange "events" on vhost "v"`,
		`user "app" can now publish to exchange "events" on vhost "v"`,
		`user "new" can now connect to vhost "v"`,
		`user "old" can no longer connect to vhost "v"`,
		`user "same": publish to exchange "events" on vhost "v": allowed → depends on the routing key`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := access.Compare(after, after); len(got) != 0 {
		t.Errorf("no change expected, got %v", got)
	}
	// Reversed, the same changes the other way.
	rev := access.Compare(after, before)
	if len(rev) != len(want) || !strings.Contains(rev[0].String(), "can no longer bind to") || rev[0].Gained() {
		t.Errorf("reversed: %v", rev)
	}
}

// A topic permission given to a user with no permission entry on its vhost
// changes nothing: the user cannot connect before or after (it made
// Compare dereference the missing entry).
func TestCompareTopicPermissionWithoutEntry(t *testing.T) {
	before := parse(t, `
exchanges: [{name: events, vhost: v, type: topic, durable: true}]
`)
	after := parse(t, `
topic_permissions:
  - {user: nobody, vhost: v, exchange: events, write: '.*', read: '.*'}
exchanges: [{name: events, vhost: v, type: topic, durable: true}]
`)
	if got := access.Compare(before, after); len(got) != 0 {
		t.Errorf("no change expected, got %v", got)
	}
	if got := access.Compare(after, before); len(got) != 0 {
		t.Errorf("no change expected the other way, got %v", got)
	}
}

// A topic permission whose pattern changes changes which routing keys the
// user may publish with (write) or bind from the exchange with (read),
// though both verdicts depend on the routing key: the change says both
// patterns. A pattern that stays says nothing.
func TestCompareTopicPatternChange(t *testing.T) {
	src := func(write, read string) string {
		return `
permissions: [{user: app, vhost: v, configure: '', write: '.*', read: '.*'}]
topic_permissions: [{user: app, vhost: v, exchange: events, write: '` + write + `', read: '` + read + `'}]
exchanges: [{name: events, vhost: v, type: topic, durable: true}]
`
	}
	before, after := parse(t, src(`^orders\.eu\.`, `^orders\.`)), parse(t, src(`^orders\.`, `^orders\.`))
	var got []string
	for _, c := range access.Compare(before, after) {
		got = append(got, c.String())
		if c.Gained() {
			t.Errorf("%s: a change of routing keys is not counted as gained: whether it gives more is the patterns'", c)
		}
	}
	want := []string{`user "app" can publish to exchange "events" on vhost "v" with the routing keys of pattern "^orders\.", no longer pattern "^orders\.eu\."`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("write pattern changed (-want +got):\n%s", diff)
	}
	got = nil
	for _, c := range access.Compare(parse(t, src(`^a$`, `^a$`)), parse(t, src(`^a$`, ``))) {
		got = append(got, c.String())
	}
	want = []string{`user "app" can bind from exchange "events" on vhost "v" with the routing keys of pattern "" (no access), no longer pattern "^a$"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("read pattern changed (-want +got):\n%s", diff)
	}
}
