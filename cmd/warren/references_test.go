package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestReferencesCheckedAgainstBroker: what the files leave to the broker
// is checked against the live broker by diff and apply before anything
// changes. A vhost or a permission's user neither has is an error on
// every version; a binding's missing source is an error where the broker
// refuses it (3.13.6 and later) and a warning where it drops the binding
// (3.10.8). What the broker has (an exchange made by hand, amq.topic) is
// no diagnostic. The broker's own answer to the binding is checked too.
func TestReferencesCheckedAgainstBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	if err := n.Do(ctx, "PUT", "/api/vhosts/ref-live", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/exchanges/ref-live/by-hand", map[string]any{"type": "topic", "durable": true}, nil); err != nil {
		t.Fatal(err)
	}
	refuses := definitions.Rule(definitions.RuleMissingBindingEnd).AppliesTo(n.Version)

	// Everything named exists, in the files or on the broker: no
	// diagnostic, and the apply goes through.
	fine := writeTemp(t, "fine.yaml", `queues:
  - {name: q, vhost: ref-live}
bindings:
  - {source: by-hand, vhost: ref-live, destination: q, destination_type: queue, routing_key: a}
  - {source: amq.topic, vhost: ref-live, destination: q, destination_type: queue, routing_key: b}
permissions:
  - {user: `+n.Admin+`, vhost: ref-live, configure: ".*", write: ".*", read: ".*"}
`)
	code, out, errOut := warren(t, "apply", "--yes", fine)
	if code != exitOK || strings.Contains(errOut, "E112") || strings.Contains(errOut, "W170") {
		t.Fatalf("apply of files whose references the broker has: exit %d\n%s%s", code, out, errOut)
	}

	// A binding whose source neither the files nor the broker have.
	binding := writeTemp(t, "binding.yaml", `vhosts:
  - name: ref-new
queues:
  - {name: q, vhost: ref-new}
bindings:
  - {source: missing-x, vhost: ref-new, destination: q, destination_type: queue, routing_key: k}
`)
	for _, args := range [][]string{{"diff", binding}, {"apply", "--yes", binding}} {
		code, out, errOut := warren(t, args...)
		switch {
		case refuses:
			if code != exitError || !strings.Contains(errOut, `binding.yaml:6:6: /bindings/0/source: source exchange "missing-x" is neither in the files nor on the broker; RabbitMQ `+n.Version+` refuses the binding (resources_missing)`) || !strings.Contains(errOut, "[E112]") {
				t.Errorf("%v on %s: exit %d, want E112 at the binding's source\n%s%s", args, n.Version, code, out, errOut)
			}
		default:
			if !strings.Contains(errOut, `binding.yaml:6:6: /bindings/0/source: source exchange "missing-x" is neither in the files nor on the broker; RabbitMQ `+n.Version+` accepts the binding and drops it silently`) || !strings.Contains(errOut, "[W170]") {
				t.Errorf("%v on %s: exit %d, want W170 at the binding's source\n%s%s", args, n.Version, code, out, errOut)
			}
		}
	}
	if refuses {
		if err := n.Do(ctx, "GET", "/api/vhosts/ref-new", nil, nil); err == nil {
			t.Error("apply created the vhost of a plan it should have refused")
		}
	}
	// What the broker does with such a binding, as the test claims.
	n.Do(ctx, "PUT", "/api/vhosts/ref-probe", map[string]any{}, nil)
	n.Do(ctx, "PUT", "/api/queues/ref-probe/q", map[string]any{"durable": true}, nil)
	err := n.PostDefinitions(ctx, []byte(`{"bindings":[{"source":"missing-x","vhost":"ref-probe","destination":"q","destination_type":"queue","routing_key":"k","arguments":{}}]}`))
	var bindings []map[string]any
	n.Do(ctx, "GET", "/api/bindings/ref-probe", nil, &bindings)
	raw, _ := json.Marshal(bindings)
	if refuses != (err != nil) || strings.Contains(string(raw), "missing-x") {
		t.Errorf("RabbitMQ %s: import of a binding from a missing exchange: %v; bindings %s", n.Version, err, raw)
	}

	// A permission whose user, and a queue whose vhost, neither has: errors
	// on every version, and apply changes nothing.
	refs := writeTemp(t, "refs.yaml", `vhosts:
  - name: ref-other
permissions:
  - {user: ghost, vhost: ref-other, configure: ".*", write: ".*", read: ".*"}
queues:
  - {name: q, vhost: nowhere}
`)
	for _, args := range [][]string{{"diff", refs}, {"apply", "--yes", refs}} {
		code, out, errOut := warren(t, args...)
		for _, want := range []string{
			`refs.yaml:4:6: /permissions/0/user: permission "ghost" on vhost "ref-other": user "ghost" is neither in the files nor on the broker; RabbitMQ refuses it (no_such_user) [E112]`,
			`refs.yaml:6:15: /queues/0/vhost: queue "q" on vhost "nowhere": vhost "nowhere" is neither in the files nor on the broker; RabbitMQ refuses it (no_such_vhost) [E112]`,
			"nothing was changed",
		} {
			if code != exitError || !strings.Contains(errOut, want) {
				t.Errorf("%v: exit %d, want %q\n%s%s", args, code, want, out, errOut)
			}
		}
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/ref-other", nil, nil); err == nil {
		t.Error("apply created a vhost of files it should have refused")
	}

	// A per-vhost export, as 4.x writes it, names its vhost once
	// (original_vhost_name): that vhost and its bindings' ends are checked
	// as a cluster-wide file's are. Without the check diff gave a plan and
	// apply failed at the broker ("Please create virtual host").
	perVhost := `{
  "rabbitmq_definition_format": "single_virtual_host",
  "original_vhost_name": "VHOST",
  "queues": [{"name": "pq", "durable": true, "auto_delete": false, "arguments": {}}],
  "bindings": [{"source": "missing-x", "destination": "pq", "destination_type": "queue", "routing_key": "k", "arguments": {}}]
}
`
	gone := writeTemp(t, "gone.json", strings.Replace(perVhost, "VHOST", "ref-gone", 1))
	for _, args := range [][]string{{"diff", gone}, {"apply", "--yes", gone}} {
		code, out, errOut := warren(t, args...)
		for _, want := range []string{
			`gone.json:4:14: /queues/0: queue "pq" on vhost "ref-gone": vhost "ref-gone" is neither in the files nor on the broker; RabbitMQ refuses it (no_such_vhost) [E112]`,
			`gone.json:5:16: /bindings/0: binding "missing-x" → queue "pq" on vhost "ref-gone" (routing key "k"): vhost "ref-gone" is neither in the files nor on the broker; RabbitMQ refuses it (no_such_vhost) [E112]`,
			"nothing was changed",
		} {
			if code != exitError || !strings.Contains(errOut, want) {
				t.Errorf("%v: exit %d, want %q\n%s%s", args, code, want, out, errOut)
			}
		}
	}
	live := writeTemp(t, "live.json", strings.Replace(perVhost, "VHOST", "ref-live", 1))
	for _, args := range [][]string{{"diff", live}, {"apply", "--yes", live}} {
		code, out, errOut := warren(t, args...)
		want, wantCode := `live.json:5:17: /bindings/0/source: source exchange "missing-x" is neither in the files nor on the broker; RabbitMQ `+n.Version+` accepts the binding and drops it silently`, code
		if refuses {
			want, wantCode = `live.json:5:17: /bindings/0/source: source exchange "missing-x" is neither in the files nor on the broker; RabbitMQ `+n.Version+` refuses the binding (resources_missing)`, exitError
		}
		if code != wantCode || !strings.Contains(errOut, want) {
			t.Errorf("%v on %s: exit %d, want %q\n%s%s", args, n.Version, code, want, out, errOut)
		}
	}
}

// TestTopicPermissionExchangeCheckedAgainstBroker: a topic permission on
// an exchange that neither the files nor the broker have is an error
// (E112) at its exchange, before anything changes, where the broker
// refuses it (RabbitMQ 4.3.2 and later: no_such_exchange); older versions
// keep such a permission, and the apply makes it. Exchanges the files
// define, one made by hand and amq.topic are no diagnostic.
func TestTopicPermissionExchangeCheckedAgainstBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	t.Cleanup(func() {
		n.Do(ctx, "DELETE", "/api/users/ref-topic-user", nil, nil)
		n.Do(ctx, "DELETE", "/api/vhosts/ref-topic", nil, nil)
	})
	if err := n.Do(ctx, "PUT", "/api/vhosts/ref-topic", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/permissions/ref-topic/"+n.Admin, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/exchanges/ref-topic/by-hand", map[string]any{"type": "topic", "durable": true}, nil); err != nil {
		t.Fatal(err)
	}
	refuses := definitions.Rule(definitions.RuleTopicMissingExchange).AppliesTo(n.Version)
	t.Setenv("REF_TOPIC_PASSWORD", "ref-topic-password-1")
	files := writeTemp(t, "topics.yaml", `users: [{name: ref-topic-user, password: {env: REF_TOPIC_PASSWORD}, tags: []}]
permissions: [{user: ref-topic-user, vhost: ref-topic, configure: "", write: ".*", read: ".*"}]
exchanges: [{name: defined, vhost: ref-topic, type: topic, durable: true}]
topic_permissions:
  - {user: ref-topic-user, vhost: ref-topic, exchange: by-hand, write: "^a", read: "^a"}
  - {user: ref-topic-user, vhost: ref-topic, exchange: amq.topic, write: "^a", read: "^a"}
  - {user: ref-topic-user, vhost: ref-topic, exchange: defined, write: "^a", read: "^a"}
  - {user: ref-topic-user, vhost: ref-topic, exchange: missing-t, write: "^a", read: "^a"}
`)
	want := `topics.yaml:8:46: /topic_permissions/3/exchange: topic permission "ref-topic-user" on vhost "ref-topic" exchange "missing-t": exchange "missing-t" is neither in the files nor on the broker; RabbitMQ ` + n.Version + ` refuses the topic permission (no_such_exchange)`
	for _, args := range [][]string{{"diff", files}, {"apply", "--yes", "--keep-guest", files}} {
		code, out, errOut := warren(t, args...)
		switch {
		case refuses:
			if code != exitError || !strings.Contains(errOut, want) || !strings.Contains(errOut, "[E112]") {
				t.Errorf("%v on %s: exit %d, want E112 at the topic permission's exchange\n%s%s", args, n.Version, code, out, errOut)
			}
		case args[0] == "apply":
			if code != exitOK || strings.Contains(errOut, "E112") {
				t.Errorf("%v on %s: exit %d, want the apply to make the topic permissions\n%s%s", args, n.Version, code, out, errOut)
			}
		default:
			if strings.Contains(errOut, "E112") {
				t.Errorf("%v on %s: E112 where the broker keeps the topic permission\n%s%s", args, n.Version, out, errOut)
			}
		}
	}
	var tps []map[string]any
	n.Do(ctx, "GET", "/api/users/ref-topic-user/topic-permissions", nil, &tps)
	switch {
	case refuses && n.Do(ctx, "GET", "/api/users/ref-topic-user", nil, nil) == nil:
		t.Errorf("RabbitMQ %s: apply created the user of a plan it should have refused", n.Version)
	case !refuses && len(tps) != 4:
		t.Errorf("RabbitMQ %s keeps a topic permission on a missing exchange: want 4 topic permissions, got %v", n.Version, tps)
	}
}
