package operation

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
)

// TestAccessChanges: a plan that widens a permission, adds one, and
// deletes a user and a vhost changes access as the broker would after it:
// the deleted user's and vhost's permissions go with them.
func TestAccessChanges(t *testing.T) {
	live, diags := definitions.Parse("live.json", []byte(`{
	  "users": [{"name": "app", "tags": ""}, {"name": "old", "tags": ""}],
	  "vhosts": [{"name": "v"}, {"name": "gone"}],
	  "permissions": [
	    {"user": "app", "vhost": "v", "configure": "", "write": "^app\\.", "read": ""},
	    {"user": "old", "vhost": "v", "configure": "", "write": "", "read": ""},
	    {"user": "app", "vhost": "gone", "configure": "", "write": "", "read": ""}],
	  "exchanges": [{"name": "orders", "vhost": "v", "type": "direct", "durable": true}]}`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	wider := &definitions.Permission{User: "app", Vhost: "v", Configure: "", Write: "^(app\\..*|orders)$", Read: ""}
	added := &definitions.Permission{User: "new", Vhost: "v"}
	p := &plan.Plan{Changes: []plan.Change{
		{Action: plan.Update, Kind: definitions.KindPermission, Before: live.Permissions[0], After: wider},
		{Action: plan.Create, Kind: definitions.KindPermission, After: added},
		{Action: plan.Delete, Kind: definitions.KindUser, Before: live.Users[1]},
		{Action: plan.Delete, Kind: definitions.KindVhost, Before: live.Vhosts[1]},
	}}
	var got []string
	for _, c := range AccessChanges(live, p, "4.3.6") {
		got = append(got, c.String())
	}
	want := []string{
		`user "app" can no longer connect to vhost "gone"`,
		`user "app" can now bind to exchange "orders" on vhost "v"`,
		`user "app" can now publish to exchange "orders" on vhost "v"`,
		`user "new" can now connect to vhost "v"`,
		`user "old" can no longer connect to vhost "v"`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if got := AccessChanges(live, &plan.Plan{}, ""); len(got) != 0 {
		t.Errorf("an empty plan changes access: %v", got)
	}
}

// TestAccessWhere: asked Where, a user's question places its permissions
// and topic permissions, all at once, where definitions.Diagnose places
// each; not asked, it places none.
func TestAccessWhere(t *testing.T) {
	doc, diags := definitions.Parse("defs.json", []byte(`{
	  "users": [{"name": "multi", "tags": ""}, {"name": "other", "tags": ""}],
	  "vhosts": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}],
	  "permissions": [
	    {"user": "other", "vhost": "a", "configure": "", "write": "", "read": ""},
	    {"user": "multi", "vhost": "a", "configure": "^m\\.", "write": "", "read": ""},
	    {"user": "multi", "vhost": "c", "configure": "", "write": ".*", "read": ""},
	    {"user": "multi", "vhost": "b", "configure": "", "write": "", "read": ".*"}],
	  "topic_permissions": [{"user": "multi", "vhost": "b", "exchange": "amq.topic", "write": "^x", "read": "^y"}],
	  "queues": [{"name": "m.q", "vhost": "a", "durable": true}]}`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res, err := Access(t.Context(), nil, AccessRequest{Desired: doc, User: "multi", Where: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[definitions.Object]schema.Location{}
	for _, o := range []definitions.Object{doc.Permissions[1], doc.Permissions[2], doc.Permissions[3], doc.TopicPermissions[0]} {
		d := definitions.Diagnose(o, 0, "", "")
		if d.Pos.Line == 0 {
			t.Fatalf("%s is not placed by Diagnose", o.Addr())
		}
		want[o] = schema.Location{File: d.File, Pos: d.Pos, Pointer: d.Pointer}
	}
	if diff := cmp.Diff(want, res.Where); diff != "" {
		t.Errorf("Where (-want +got):\n%s", diff)
	}
	res, err = Access(t.Context(), nil, AccessRequest{Desired: doc, User: "multi"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Where != nil {
		t.Errorf("Where not asked, got %v", res.Where)
	}
}
