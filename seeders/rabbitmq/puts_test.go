package rabbitmq_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestApplyPutsPermissionsOneByOne: an apply's permissions and topic
// permissions on a vhost that exists are PUT one by one, after the import
// that creates their users and exchange (a topic permission on an exchange
// the import has not made yet is refused by RabbitMQ 4.3.2 and later);
// each is reported done and confirmed, and nothing else is confirmed.
// (Those on a vhost the apply creates go in its import: see
// TestApplyCutOffBeforeTakeBackLeavesAMarkedGrant.) A diff
// afterwards is empty. When the broker refuses one (its user was deleted
// after the plan was made), the apply fails on that change alone: the
// others are done, the refused one is failed, and its error names it.
func TestApplyPutsPermissionsOneByOne(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	desired := parse(t, "defs.json", []byte(`{
  "vhosts": [{"name": "puts"}],
  "users": [{"name": "puts-a", "password": "secret-a", "tags": []}, {"name": "puts-b", "password": "secret-b", "tags": []}],
  "exchanges": [{"name": "puts.x", "vhost": "puts", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
  "permissions": [
    {"user": "puts-a", "vhost": "puts", "configure": "^puts\\.", "write": ".*", "read": ".*"},
    {"user": "puts-b", "vhost": "puts", "configure": "", "write": "", "read": "^q$"}],
  "topic_permissions": [{"user": "puts-a", "vhost": "puts", "exchange": "puts.x", "write": "^orders\\.", "read": ".*"}]}`))
	t.Cleanup(func() {
		n.Do(ctx, "DELETE", "/api/vhosts/puts", nil, nil)
		n.Do(ctx, "DELETE", "/api/users/puts-a", nil, nil)
		n.Do(ctx, "DELETE", "/api/users/puts-b", nil, nil)
	})
	rec := record(t, n)
	c := rec.client(t, n)
	acting := plan.WithActingUser(n.Admin)
	vhost := parse(t, "vhost.json", []byte(`{"vhosts": [{"name": "puts"}]}`))
	if p, _ := diff(t, c, vhost, acting); c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin}) != nil {
		t.Fatal("creating the vhost failed")
	}
	p, _ := diff(t, c, desired, acting)
	var mu sync.Mutex
	confirmed := map[string]bool{}
	progress := func(pr rabbitmq.Progress) {
		mu.Lock()
		defer mu.Unlock()
		for _, ch := range pr.Changes {
			if pr.Confirmed {
				confirmed[ch.Addr.String()] = true
			} else if _, ok := confirmed[ch.Addr.String()]; !ok {
				confirmed[ch.Addr.String()] = false
			}
		}
	}
	if err := c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin, Progress: progress}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, ch := range p.Changes {
		want := ch.Kind == definitions.KindPermission || ch.Kind == definitions.KindTopicPermission
		if got, ok := confirmed[ch.Addr.String()]; !ok || got != want {
			t.Errorf("%s: reported %v, confirmed %v; want confirmed %v", ch.Addr, ok, got, want)
		}
	}
	reqs := rec.requests()
	var puts []string
	importAt, firstPut := -1, -1
	for i, r := range reqs {
		switch {
		case r == "POST /api/definitions":
			importAt = i
		case strings.HasPrefix(r, "PUT /api/permissions/") || strings.HasPrefix(r, "PUT /api/topic-permissions/"):
			puts = append(puts, r)
			if firstPut < 0 {
				firstPut = i
			}
		}
	}
	slices.Sort(puts)
	var want []string
	for _, ch := range p.Changes {
		switch o := ch.After.(type) {
		case *definitions.Permission:
			want = append(want, "PUT /api/permissions/puts/"+o.User)
		case *definitions.TopicPermission:
			want = append(want, "PUT /api/topic-permissions/puts/"+o.User)
		}
	}
	slices.Sort(want)
	if len(want) != 3 {
		t.Fatalf("the plan has %d permissions and topic permissions, want 3", len(want))
	}
	if !slices.Equal(puts, want) {
		t.Errorf("PUTs of permissions: %q, want %q", puts, want)
	}
	if importAt < 0 || importAt > firstPut {
		t.Errorf("the import (request %d) did not come before the PUTs (the first is request %d):\n%s", importAt, firstPut, strings.Join(reqs, "\n"))
	}
	if after, text := diff(t, c, desired, acting); !after.Empty() {
		t.Fatalf("diff after the apply is not empty:\n%s", text)
	}

	// A refusal: puts-b is deleted after the plan that changes its
	// permission is made.
	changed := parse(t, "defs.json", []byte(`{
  "vhosts": [{"name": "puts"}],
  "users": [{"name": "puts-a", "password": "secret-a", "tags": []}, {"name": "puts-b", "password": "secret-b", "tags": []}],
  "exchanges": [{"name": "puts.x", "vhost": "puts", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
  "permissions": [
    {"user": "puts-a", "vhost": "puts", "configure": "^puts\\.", "write": "^w$", "read": ".*"},
    {"user": "puts-b", "vhost": "puts", "configure": "", "write": "", "read": "^r$"}],
  "topic_permissions": [{"user": "puts-a", "vhost": "puts", "exchange": "puts.x", "write": "^orders\\.", "read": ".*"}]}`))
	p, text := diff(t, c, changed, acting)
	if len(p.Changes) != 2 {
		t.Fatalf("the second plan has %d changes, want the 2 permissions:\n%s", len(p.Changes), text)
	}
	if err := n.Do(ctx, "DELETE", "/api/users/puts-b", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin})
	var ae *plan.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("apply after the user was deleted: %v, want an ApplyError", err)
	}
	names := func(chs []plan.Change) []string {
		var out []string
		for _, ch := range chs {
			out = append(out, ch.Addr.String())
		}
		return out
	}
	if got := names(ae.Failed); len(got) != 1 || !strings.Contains(got[0], "puts-b") {
		t.Errorf("failed: %q, want puts-b's permission", got)
	}
	if got := names(ae.Done); len(got) != 1 || !strings.Contains(got[0], "puts-a") {
		t.Errorf("done: %q, want puts-a's permission", got)
	}
	if len(ae.Remaining) != 0 {
		t.Errorf("remaining: %q, want none", names(ae.Remaining))
	}
	if !strings.Contains(ae.Err.Error(), `"puts-b"`) {
		t.Errorf("the error does not name the refused permission: %v", ae.Err)
	}
	var perm struct{ Write string }
	if err := n.Do(ctx, "GET", "/api/permissions/puts/puts-a", nil, &perm); err != nil || perm.Write != "^w$" {
		t.Errorf("puts-a's permission on the broker: %+v, %v; want write ^w$", perm, err)
	}
}
