package operation

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
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
