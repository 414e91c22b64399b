package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// A vhost prune right after messages were published: the management
// statistics do not show them yet (they are emitted every few seconds),
// and on a node whose metrics collector is off they never do. Warren
// counts from the queues themselves, and refuses what it cannot count.

// publishTo declares a durable queue of a type on a vhost and publishes k
// persistent messages to it, with publisher confirms, over AMQP.
func publishTo(t *testing.T, n *rabbitmqtest.Node, vhost, queue, typ string, k int) {
	t.Helper()
	conn, err := amqp.Dial(fmt.Sprintf("amqp://%s:%s@127.0.0.1:%d/%s", url.PathEscape(n.Admin), url.PathEscape(n.AdminPassword), n.AMQPPort, url.PathEscape(vhost)))
	if err != nil {
		t.Fatalf("AMQP to %s: %v", n.Name, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": typ}); err != nil {
		t.Fatalf("declaring %s queue %s: %v", typ, queue, err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range k {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false,
			amqp.Publishing{Body: []byte(fmt.Sprint(i)), DeliveryMode: amqp.Persistent})
		if err != nil {
			t.Fatalf("publishing to %s: %v", queue, err)
		}
		if ok, err := dc.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("publish to %s not confirmed: %v", queue, err)
		}
	}
}

// queueExists reports whether a queue is on the node.
func queueExists(t *testing.T, n *rabbitmqtest.Node, vhost, queue string) bool {
	t.Helper()
	err := n.Do(context.Background(), "GET", "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(queue), nil, nil)
	if err != nil && !strings.Contains(err.Error(), "404") {
		t.Fatal(err)
	}
	return err == nil
}

func TestPruneVhostRightAfterPublishKeepsMessages(t *testing.T) {
	shared := rabbitmqtest.Shared(t)
	ctx := context.Background()
	noMetrics, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{Series: rabbitmqtest.Series(),
		Config: []string{"management_agent.disable_metrics_collector = true"}})
	if err != nil {
		t.Fatal(err) // Shared started a node of this series: this one must start too
	}
	defer noMetrics.Stop()
	for _, tc := range []struct {
		name string
		n    *rabbitmqtest.Node
	}{{"statistics lag", shared}, {"metrics collector off", noMetrics}} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.n
			applyEnv(t, n)
			if err := n.Do(ctx, "PUT", "/api/vhosts/data", map[string]any{}, nil); err != nil {
				t.Fatal(err)
			}
			if err := n.Do(ctx, "PUT", "/api/permissions/data/"+url.PathEscape(n.Admin), map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil); err != nil {
				t.Fatal(err)
			}
			defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: /}\n")

			// Only a quorum queue: its count is read from the queue itself.
			publishTo(t, n, "data", "orders", "quorum", 5)
			if n == noMetrics {
				// The node lists no AMQP listener, and its port is not the
				// default one: the count is unknown, and never 0.
				code, out, errOut := warren(t, "apply", "--yes", "--prune", defs)
				if code != exitError || !strings.Contains(out, `"orders" (an unknown number of messages)`) ||
					!strings.Contains(errOut, `the message count of "orders" could not be known`) || !strings.Contains(errOut, "--amqp-url") {
					t.Fatalf("prune with no count to be had: exit %d\n%s%s", code, out, errOut)
				}
				if !queueExists(t, n, "data", "orders") {
					t.Fatal("the quorum queue and its 5 messages were destroyed without --destroy-messages")
				}
				t.Setenv("WARREN_AMQP_URL", fmt.Sprintf("amqp://127.0.0.1:%d", n.AMQPPort))
			}
			code, out, errOut := warren(t, "apply", "--yes", "--prune", defs)
			if code != exitError || !strings.Contains(out+errOut, "holding 5 messages") || !strings.Contains(errOut, "--destroy-messages") {
				t.Fatalf("prune right after publishing to a quorum queue: exit %d\n%s%s", code, out, errOut)
			}
			if !queueExists(t, n, "data", "orders") {
				t.Fatal("the quorum queue and its 5 messages were destroyed without --destroy-messages")
			}
			// Pruning the queue alone: apply counts again just before the
			// deletion.
			queuesOnly := writeTemp(t, "queues.yaml", "vhosts:\n  - {name: /}\n  - {name: data}\nqueues: []\n")
			code, out, errOut = warren(t, "apply", "--yes", "--prune", queuesOnly)
			if code != exitError || !strings.Contains(errOut, `queue "orders" on vhost "data" holds 5 messages`) {
				t.Fatalf("pruning a quorum queue right after publishing: exit %d\n%s%s", code, out, errOut)
			}
			if !queueExists(t, n, "data", "orders") {
				t.Fatal("the quorum queue and its 5 messages were destroyed without --destroy-messages")
			}

			// A stream: its length cannot be read exactly, and is never
			// taken for 0.
			publishTo(t, n, "data", "events", "stream", 5)
			code, out, errOut = warren(t, "apply", "--yes", "--prune", defs)
			if code != exitError || !strings.Contains(errOut, `"events"`) || !strings.Contains(errOut, "--destroy-messages") {
				t.Fatalf("prune right after publishing to a stream: exit %d\n%s%s", code, out, errOut)
			}
			if strings.Contains(out+errOut, `"events" (0 messages)`) {
				t.Errorf("the plan says a stream it cannot count holds 0 messages:\n%s%s", out, errOut)
			}
			if !queueExists(t, n, "data", "events") || !queueExists(t, n, "data", "orders") {
				t.Fatal("queues with messages were destroyed without --destroy-messages")
			}

			code, out, errOut = warren(t, "apply", "--yes", "--prune", "--destroy-messages", defs)
			if code != exitOK {
				t.Fatalf("apply --prune --destroy-messages: exit %d\n%s%s", code, out, errOut)
			}
			if err := n.Do(ctx, "GET", "/api/vhosts/data", nil, nil); err == nil {
				t.Fatal("vhost data is still there after apply --destroy-messages")
			}
			mustInSync(t, "--prune", defs)
		})
	}
}

// TestPruneVhostWithoutAccessCountsWhenApplying: warren has no permission
// on the vhost (it took back RabbitMQ's grant when it created it), so the
// plan cannot count its queues; apply borrows access, counts, and deletes
// only empty queues.
func TestPruneVhostWithoutAccessCountsWhenApplying(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := context.Background()
	if err := n.Do(ctx, "PUT", "/api/vhosts/data", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	grant := "/api/permissions/data/" + url.PathEscape(n.Admin)
	if err := n.Do(ctx, "PUT", grant, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil); err != nil {
		t.Fatal(err)
	}
	publishTo(t, n, "data", "orders", "quorum", 5)
	publishTo(t, n, "data", "empty", "quorum", 0)
	if err := n.Do(ctx, "DELETE", grant, nil, nil); err != nil {
		t.Fatal(err)
	}
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: /}\n")
	code, out, errOut := warren(t, "apply", "--yes", "--prune", defs)
	if code != exitError || !strings.Contains(out, `"orders" (an unknown number of messages)`) || !strings.Contains(out, "counted when applying") ||
		!strings.Contains(errOut, `queue "orders" on vhost "data" holds 5 messages`) {
		t.Fatalf("prune of a vhost warren has no access to, with messages: exit %d\n%s%s", code, out, errOut)
	}
	if !queueExists(t, n, "data", "orders") {
		t.Fatal("the quorum queue and its 5 messages were destroyed without --destroy-messages")
	}
	// Drained, the vhost goes without the flag.
	if err := n.Do(ctx, "PUT", grant, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "DELETE", "/api/queues/data/orders/contents", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "DELETE", grant, nil, nil); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := warren(t, "apply", "--yes", "--prune", defs); code != exitOK {
		t.Fatalf("prune of a vhost with empty queues only: exit %d\n%s%s", code, out, errOut)
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/data", nil, nil); err == nil {
		t.Fatal("vhost data is still there")
	}
	mustInSync(t, "--prune", defs)
}
