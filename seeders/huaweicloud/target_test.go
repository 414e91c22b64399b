package huaweicloud_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/huaweicloud"
)

// TestDiffWritesUsersWhole: with DMS's diff options, a changed permission
// is a write of its user carrying every permission the files give it, a
// user's secret is set on creation only, and a vhost is its name.
func TestDiffWritesUsersWhole(t *testing.T) {
	desired, diags := definitions.Parse("desired.yaml", []byte(`users:
  - {name: app, password: {env: APP_PASSWORD}}
  - {name: new, password: {env: NEW_PASSWORD}}
vhosts:
  - {name: v, description: ignored by DMS}
permissions:
  - {user: app, vhost: v, configure: "", write: ".*", read: ".*"}
  - {user: new, vhost: v, configure: "", write: "", read: ".*"}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	live, diags := definitions.Parse("live.json", []byte(`{"users": [{"name": "app"}, {"name": "gone"}], "vhosts": [{"name": "v"}],
"permissions": [{"user": "app", "vhost": "v", "configure": ".*", "write": ".*", "read": ".*"}, {"user": "gone", "vhost": "v", "configure": "", "write": "", "read": ""}]}`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, err := plan.Diff(desired, live, append(huaweicloud.DiffOptions(false, huaweicloud.EditionAMQP), plan.WithPrune(true))...)
	if err != nil {
		t.Fatal(err)
	}
	type step struct {
		Addr, Step string
		Perms      int
	}
	var got []step
	for _, ch := range p.Changes {
		s := step{Addr: ch.Addr.String(), Step: string(ch.Step)}
		if ch.User != nil {
			s.Perms = len(ch.User.Permissions)
		}
		got = append(got, s)
	}
	want := []step{
		{`user "new"`, "write-user", 1},
		{`permission "app" on vhost "v"`, "write-user", 1},
		{`permission "new" on vhost "v"`, "write-user", 1},
		{`permission "gone" on vhost "v"`, "delete", 0},
		{`user "gone"`, "delete", 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}
