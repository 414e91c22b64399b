package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	// --close-connections closes the connections of the user whose topic
	// permission narrows, not of those written again as they were.
	open := map[string]chan *amqp.Error{}
	for _, user := range []string{"tr-keep", "tr-change", "tr-hand"} {
		conn, err := amqp.Dial(fmt.Sprintf("amqp://%s:tr-password-1@127.0.0.1:%d/tr", user, n.AMQPPort))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		defer conn.Close()
		open[user] = conn.NotifyClose(make(chan *amqp.Error, 1))
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var list []map[string]any
			if err := n.Do(ctx, "GET", "/api/connections/username/"+user, nil, &list); err != nil {
				t.Fatal(err)
			}
			if len(list) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the broker does not track the connection of %s", user)
			}
		}
	}
	after := files("false", "^j$")
	code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", "--replace", "--close-connections", after)
	if code != exitOK {
		t.Fatalf("apply --replace: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("apply --replace on RabbitMQ %s:\n%s", n.Version, out)
	if want := `Closed 1 connection: user "tr-change" 1.`; !strings.Contains(out+errOut, want) {
		t.Errorf("RabbitMQ %s: the apply does not say %q:\n%s%s", n.Version, want, out, errOut)
	}
	for user, closed := range open {
		select {
		case e := <-closed:
			if user != "tr-change" {
				t.Errorf("RabbitMQ %s: the connection of %s was closed (%v); its topic permission did not change", n.Version, user, e)
			}
		case <-time.After(2 * time.Second):
			if user == "tr-change" {
				t.Errorf("RabbitMQ %s: the connection of tr-change is still open; its topic permission narrowed", n.Version)
			}
		}
	}
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

// TestAuditTopicPermissionOnAutoDeleteExchange: warren access --audit
// reports a topic permission on an auto-delete topic exchange (W208) at
// its place in the file; and on a real node, what W208 says: when the
// exchange's last binding goes, RabbitMQ 4.3 deletes the exchange and the
// topic permission with it, and the user may then publish with any
// routing key to the exchange declared again (3.10.8 and 4.0.5 keep the
// topic permission, and refuse the key).
func TestAuditTopicPermissionOnAutoDeleteExchange(t *testing.T) {
	defs := writeTemp(t, "defs.yaml", `vhosts: [{name: ad}]
users: [{name: ad-user, password: {env: TR_PASSWORD}, tags: []}]
permissions: [{user: ad-user, vhost: ad, configure: ".*", write: ".*", read: ".*"}]
exchanges: [{name: ax, vhost: ad, type: topic, durable: true, auto_delete: true}]
topic_permissions:
  - {user: ad-user, vhost: ad, exchange: ax, write: "^k$", read: ".*"}
`)
	t.Setenv("TR_PASSWORD", "tr-password-1")
	code, out, errOut := warren(t, "access", defs, "--audit")
	if code != exitOK || !strings.Contains(out, `defs.yaml:6:32: /topic_permissions/0/exchange: topic permission "ad-user" on vhost "ad" exchange "ax" is on the auto-delete exchange "ax"`) || !strings.Contains(out, "[W208]") {
		t.Errorf("warren access --audit: exit %d\n%s%s", code, out, errOut)
	}

	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	t.Cleanup(func() {
		n.Do(ctx, "DELETE", "/api/users/ad-user", nil, nil)
		n.Do(ctx, "DELETE", "/api/vhosts/ad", nil, nil)
	})
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", defs); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	conn, err := amqp.Dial(fmt.Sprintf("amqp://ad-user:tr-password-1@127.0.0.1:%d/ad", n.AMQPPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, "k", "ax", false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueUnbind(q.Name, "k", "ax", nil); err != nil { // the last binding: the exchange goes
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("ax", "topic", true, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	want := map[bool]string{true: "allowed", false: "denied"}[n.Version >= "4.3"]
	if got := brokerSays(t, conn, "publishing with key x", func(ch *amqp.Channel) error { return publishConfirmed(ch, "ax", "x") }); got != want {
		t.Errorf("RabbitMQ %s: publishing to the auto-delete exchange declared again with a key its topic permission refused: %s, want %s%s", n.Version, got, want, n.Mismatch())
	}
}
