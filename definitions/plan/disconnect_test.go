package plan_test

import (
	"slices"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

func TestDisconnects(t *testing.T) {
	perm := func(user, vhost, c, w, r string) *definitions.Permission {
		return &definitions.Permission{User: user, Vhost: vhost, Configure: c, Write: w, Read: r}
	}
	topic := func(user, vhost, w, r string) *definitions.TopicPermission {
		return &definitions.TopicPermission{User: user, Vhost: vhost, Exchange: "amq.topic", Write: w, Read: r}
	}
	user := func(name string) *definitions.User { return &definitions.User{Name: name} }
	p := &plan.Plan{Changes: []plan.Change{
		// every connection
		{Action: plan.Update, Kind: definitions.KindUser, Before: user("rot"), After: user("rot"),
			Fields: []plan.FieldChange{{Field: "password_hash", Sensitive: true}}},
		{Action: plan.Delete, Kind: definitions.KindUser, Before: user("gone")},
		// tags only: no
		{Action: plan.Update, Kind: definitions.KindUser, Before: user("tagged"), After: user("tagged"),
			Fields: []plan.FieldChange{{Field: "tags", Before: []any{}, After: []any{"monitoring"}}}},
		// the deleted user's permission: covered by its every connection
		{Action: plan.Delete, Kind: definitions.KindPermission, Before: perm("gone", "v", ".*", ".*", ".*")},
		// narrower, deleted, empty before, everything after
		{Action: plan.Update, Kind: definitions.KindPermission, Before: perm("narrow", "v", ".*", ".*", ".*"), After: perm("narrow", "v", "^a", ".*", ".*")},
		{Action: plan.Delete, Kind: definitions.KindPermission, Before: perm("revoked", "v", "", "", "^x$")},
		{Action: plan.Delete, Kind: definitions.KindPermission, Before: perm("nothing", "v", "", "^$", "")},
		{Action: plan.Update, Kind: definitions.KindPermission, Before: perm("wider", "v", "^$", "^a", "^a"), After: perm("wider", "v", "^b", ".*", "^.*$")},
		{Action: plan.Create, Kind: definitions.KindPermission, After: perm("new", "v", "", "", "")},
		// topic permissions: a new one restricts, a deleted one does not
		{Action: plan.Create, Kind: definitions.KindTopicPermission, After: topic("topical", "v", "^k", ".*")},
		{Action: plan.Create, Kind: definitions.KindTopicPermission, After: topic("open", "v", ".*", ".*")},
		{Action: plan.Delete, Kind: definitions.KindTopicPermission, Before: topic("untopical", "v", "^k", "^k")},
		{Action: plan.Update, Kind: definitions.KindTopicPermission, Before: topic("retopic", "w", ".*", "^k"), After: topic("retopic", "w", "^k", "^k")},
	}}
	want := []plan.Disconnect{
		{User: "gone", Why: "deleted"},
		{User: "narrow", Vhost: "v", Why: "permissions reduced"},
		{User: "retopic", Vhost: "w", Why: "topic permissions reduced"},
		{User: "revoked", Vhost: "v", Why: "permissions reduced"},
		{User: "rot", Why: "password changed"},
		{User: "topical", Vhost: "v", Why: "topic permissions reduced"},
	}
	if got := plan.Disconnects(p); !slices.Equal(got, want) {
		t.Errorf("Disconnects:\n got %v\nwant %v", got, want)
	}
}
