package plan_test

import (
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
`)
	desired := parse(`
exchanges: [{name: t, vhost: v, type: topic, durable: false}, {name: u, vhost: v, type: topic, durable: true}]
topic_permissions:
  - {user: keep, vhost: v, exchange: t, write: '^k$', read: '^k$'}
  - {user: change, vhost: v, exchange: t, write: '^j$', read: '^k$'}
  - {user: other, vhost: v, exchange: u, write: '^k$', read: '^k$'}
`)
	for version, want := range map[string]string{
		"4.0.5":  "update change",
		"3.10.8": "update change",
		"4.3.6":  "rebind change, rebind hand, rebind keep",
		"":       "rebind change, rebind hand, rebind keep",
	} {
		p, err := plan.Diff(desired, live, plan.WithRabbitMQVersion(version))
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
		if got != want {
			t.Errorf("RabbitMQ %q: topic permission changes %q, want %q", version, got, want)
		}
	}
}
