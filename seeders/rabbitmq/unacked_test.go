package rabbitmq_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// holdUnacked declares a queue on vhost x, publishes k persistent messages
// to it with confirms and takes them all without acknowledging them: with
// a consumer, or with basic.get when get. The messages are no longer ready;
// deleting the queue destroys them. The connection holds them until closed.
func holdUnacked(t *testing.T, n *rabbitmqtest.Node, queue, typ string, k int, get bool) {
	t.Helper()
	conn, err := amqp.Dial(fmt.Sprintf("amqp://%s:%s@127.0.0.1:%d/x", url.PathEscape(n.Admin), url.PathEscape(n.AdminPassword), n.AMQPPort))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": typ}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < k; i++ {
		dc, err := ch.PublishWithDeferredConfirm("", queue, false, false, amqp.Publishing{Body: []byte("m"), DeliveryMode: amqp.Persistent})
		if err != nil || !dc.Wait() {
			t.Fatalf("publish: %v", err)
		}
	}
	if get {
		for i := 0; i < k; i++ {
			if _, ok, err := ch.Get(queue, false); !ok || err != nil {
				t.Fatalf("basic.get: %v %v", ok, err)
			}
		}
		return
	}
	if err := ch.Qos(k, 0, false); err != nil {
		t.Fatal(err)
	}
	d, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < k; i++ {
		select {
		case <-d:
		case <-time.After(10 * time.Second):
			t.Fatal("no delivery")
		}
	}
}

// waitUnackedShown waits until the management statistics show a queue's
// unacknowledged messages (they are emitted every few seconds).
func waitUnackedShown(t *testing.T, n *rabbitmqtest.Node, queue string, k int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var q struct {
			Unacked int64 `json:"messages_unacknowledged"`
		}
		if err := n.Do(context.Background(), "GET", "/api/queues/x/"+queue, nil, &q); err != nil {
			t.Fatal(err)
		}
		if q.Unacked == k {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the statistics never showed %d unacknowledged messages", k)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestDeleteKeepsUnackedMessages: a queue whose messages were all delivered
// and not yet acknowledged holds no message ready, so the broker's
// if-empty lets it go, and deleting it destroys them. Without
// --destroy-messages warren refuses: a pruned queue (classic with a
// consumer, classic after basic.get once the statistics show them, quorum
// with a consumer), and a vhost whose queue got a consumer after the plan
// was made; the queue is still there.
func TestDeleteKeepsUnackedMessages(t *testing.T) {
	for _, tt := range []struct {
		name, typ  string
		get, vhost bool
	}{
		{name: "classic consumer", typ: "classic"},
		{name: "classic basic.get", typ: "classic", get: true},
		{name: "quorum consumer", typ: "quorum"},
		{name: "vhost classic consumer after the plan", typ: "classic", vhost: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := rabbitmqtest.Shared(t)
			tg := rabbitmq.NewTarget(client(t, n), "")
			importDefs(t, n, map[string]any{
				"vhosts":      []any{map[string]any{"name": "x"}},
				"permissions": []any{map[string]any{"user": n.Admin, "vhost": "x", "configure": ".*", "write": ".*", "read": ".*"}},
			})
			files := "vhosts:\n  - name: /\n  - name: x\nqueues: []\n"
			if tt.vhost {
				files = "vhosts:\n  - name: /\n"
				importDefs(t, n, map[string]any{"queues": []any{map[string]any{"name": "held", "vhost": "x", "durable": true, "auto_delete": false, "arguments": map[string]any{"x-queue-type": tt.typ}}}})
			}
			makePlan := func() *plan.Plan {
				p, text := targetPlan(t, tg, parse(t, "files.yaml", []byte(files)), true)
				t.Logf("plan:\n%s", text)
				return p
			}
			var p *plan.Plan
			if tt.vhost {
				p = makePlan() // the queue is empty and has no consumer yet
			}
			holdUnacked(t, n, "held", tt.typ, 3, tt.get)
			if tt.get {
				waitUnackedShown(t, n, "held", 3)
			}
			if !tt.vhost {
				p = makePlan()
			}
			err := tg.Apply(context.Background(), p, seeders.ApplyOptions{})
			t.Logf("apply: %v", err)
			if err == nil {
				t.Errorf("apply succeeded")
			}
			if !exists(n, "/api/queues/x/held") {
				t.Fatalf("the queue whose consumer holds 3 unacknowledged messages was deleted without --destroy-messages")
			}
		})
	}
}
