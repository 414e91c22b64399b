package main

import (
	"context"
	"fmt"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestApplyReplaceExchangeKeepsTopicPermissions: replacing an exchange
// (apply --replace) leaves the topic permissions on it in place, on a real
// node: those of the files it does not change, one it changes in the same
// plan, and one made by hand (not in the files, not pruned). RabbitMQ 4.3
// deletes them with the exchange; without them a user may publish with
// every routing key. A diff after the apply is empty, and the user's
// publish with a key its topic permission refuses is refused.
func TestApplyReplaceExchangeKeepsTopicPermissions(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	t.Cleanup(func() {
		for _, u := range []string{"tr-keep", "tr-change", "tr-hand"} {
			n.Do(ctx, "DELETE", "/api/users/"+u, nil, nil)
		}
		n.Do(ctx, "DELETE", "/api/vhosts/tr", nil, nil)
	})
	t.Setenv("TR_PASSWORD", "tr-password-1")
	files := func(durable, changeWrite string) string {
		return writeTemp(t, "defs.yaml", `vhosts: [{name: tr}]
users:
  - {name: tr-keep, password: {env: TR_PASSWORD}, tags: []}
  - {name: tr-change, password: {env: TR_PASSWORD}, tags: []}
  - {name: tr-hand, password: {env: TR_PASSWORD}, tags: []}
permissions:
  - {user: tr-keep, vhost: tr, configure: "", write: ".*", read: ".*"}
  - {user: tr-change, vhost: tr, configure: "", write: ".*", read: ".*"}
  - {user: tr-hand, vhost: tr, configure: "", write: ".*", read: ".*"}
exchanges: [{name: t, vhost: tr, type: topic, durable: `+durable+`}]
topic_permissions:
  - {user: tr-keep, vhost: tr, exchange: t, write: "^k$", read: "^k$"}
  - {user: tr-change, vhost: tr, exchange: t, write: "`+changeWrite+`", read: "^k$"}
`)
	}
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", files("true", "^k$")); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if err := n.Do(ctx, "PUT", "/api/topic-permissions/tr/tr-hand", map[string]any{"exchange": "t", "write": "^k$", "read": "^k$"}, nil); err != nil {
		t.Fatal(err)
	}
	after := files("false", "^j$")
	code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", "--replace", after)
	if code != exitOK {
		t.Fatalf("apply --replace: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("apply --replace on RabbitMQ %s:\n%s", n.Version, out)
	if code, out, errOut := warren(t, "diff", "--keep-guest", after); code != exitOK {
		t.Errorf("RabbitMQ %s: a diff after the apply is not empty: exit %d\n%s%s", n.Version, code, out, errOut)
	}
	var tps []struct{ User, Vhost, Exchange, Write, Read string }
	if err := n.Do(ctx, "GET", "/api/topic-permissions", nil, &tps); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tp := range tps {
		if tp.Vhost == "tr" {
			got[tp.User] = tp.Exchange + " " + tp.Write + " " + tp.Read
		}
	}
	for user, want := range map[string]string{"tr-keep": "t ^k$ ^k$", "tr-change": "t ^j$ ^k$", "tr-hand": "t ^k$ ^k$"} {
		if got[user] != want {
			t.Errorf("RabbitMQ %s: the topic permission of %s after the apply is %q, want %q", n.Version, user, got[user], want)
		}
	}
	for _, user := range []string{"tr-keep", "tr-change", "tr-hand"} {
		conn, err := amqp.Dial(fmt.Sprintf("amqp://%s:tr-password-1@127.0.0.1:%d/tr", user, n.AMQPPort))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if says := brokerSays(t, conn, user+" publishing with key x", func(ch *amqp.Channel) error { return publishConfirmed(ch, "t", "x") }); says != "denied" {
			t.Errorf("RabbitMQ %s: %s may publish to t with the key x after the apply", n.Version, user)
		}
		conn.Close()
	}
}
