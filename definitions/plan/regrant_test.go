package plan_test

import (
	"slices"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// Replacing an exchange writes the topic permissions on it after the
// replacement where RabbitMQ deletes them with the exchange (4.3; and when
// the version is not known), and not on 4.0 and before, which keep them
// (TestApplyReplaceExchangeKeepsTopicPermissions on real nodes).
func TestRegrantAfterReplace(t *testing.T) {
	parse := func(src string) *definitions.Document {
		d, diags := definitions.Parse("defs.yaml", []byte(src))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return d
	}
	live := parse(`
exchanges: [{name: t, vhost: v, type: topic, durable: true}, {name: u, vhost: v, type: topic, durable: true}]
topic_permissions:
  - {user: keep, vhost: v, exchange: t, write: '^k$', read: '^k$'}
  - {user: change, vhost: v, exchange: t, write: '^k$', read: '^k$'}
  - {user: hand, vhost: v, exchange: t, write: '^k$', read: '^k$'}
  - {user: other, vhost: v, exchange: u, write: '^k$', read: '^k$'}
  - {user: pruned, vhost: v, exchange: t, write: '^k$', read: '^k$'}
`)
	desired := parse(`
exchanges: [{name: t, vhost: v, type: topic, durable: false}, {name: u, vhost: v, type: topic, durable: true}]
topic_permissions:
  - {user: keep, vhost: v, exchange: t, write: '^k$', read: '^k$'}
  - {user: change, vhost: v, exchange: t, write: '^j$', read: '^k$'}
  - {user: other, vhost: v, exchange: u, write: '^k$', read: '^k$'}
`)
	for _, tc := range []struct {
		version string
		prune   bool
		want    string
	}{
		{"4.0.5", false, "update change"},
		{"3.10.8", true, "update change"},
		{"4.3.6", false, "rebind change, rebind hand, rebind keep, rebind pruned"},
		{"", false, "rebind change, rebind hand, rebind keep, rebind pruned"},
		// Pruned, hand's and pruned's are deleted, not written again.
		{"4.3.6", true, "rebind change, rebind keep"},
	} {
		p, err := plan.Diff(desired, live, plan.WithRabbitMQVersion(tc.version), plan.WithPrune(tc.prune))
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, c := range p.Changes {
			if tp, ok := c.After.(*definitions.TopicPermission); ok {
				if got != "" {
					got += ", "
				}
				got += string(c.Step) + " " + tp.User
			}
		}
		if got != tc.want {
			t.Errorf("RabbitMQ %q, prune %v: topic permission changes %q, want %q", tc.version, tc.prune, got, tc.want)
		}
		// Written again as they were, keep's and hand's close no
		// connections; change's update narrows (^k$ to ^j$).
		var closes []string
		for _, d := range plan.Disconnects(p) {
			closes = append(closes, d.User)
		}
		if want := []string{"change"}; !slices.Equal(closes, want) {
			t.Errorf("RabbitMQ %q, prune %v: --close-connections closes the connections of %v, want %v", tc.version, tc.prune, closes, want)
		}
	}
}
