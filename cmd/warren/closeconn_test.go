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

// closeFiles are the files of TestCloseConnections: before, and after a
// password rotation (rot), a narrower permission in one vhost (narrow),
// a deleted user (gone), a wider permission (widen) and nothing (keep).
const closeFilesBefore = `warren: {owner: close-test}
vhosts: [{name: cc1}, {name: cc2}]
users:
  - {name: rot, password: rot-1, tags: []}
  - {name: narrow, password: narrow-1, tags: []}
  - {name: gone, password: gone-1, tags: []}
  - {name: keep, password: keep-1, tags: []}
  - {name: widen, password: widen-1, tags: []}
permissions:
  - {user: rot, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
  - {user: narrow, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
  - {user: narrow, vhost: cc2, configure: ".*", write: ".*", read: ".*"}
  - {user: gone, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
  - {user: keep, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
  - {user: widen, vhost: cc1, configure: "^widen-", write: "^widen-", read: "^widen-"}
`

const closeFilesAfter = `warren: {owner: close-test}
vhosts: [{name: cc1}, {name: cc2}]
users:
  - {name: rot, password: rot-2, tags: []}
  - {name: narrow, password: narrow-1, tags: []}
  - {name: keep, password: keep-1, tags: []}
  - {name: widen, password: widen-1, tags: []}
permissions:
  - {user: rot, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
  - {user: narrow, vhost: cc1, configure: "^narrow-", write: ".*", read: ".*"}
  - {user: narrow, vhost: cc2, configure: ".*", write: ".*", read: ".*"}
  - {user: keep, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
  - {user: widen, vhost: cc1, configure: ".*", write: ".*", read: ".*"}
`

// TestCloseConnections: apply --close-connections closes, on a real node,
// exactly the connections of the users whose password changed, whose
// permission narrowed (to that vhost only) and who were deleted, and leaves
// every other connection open; the plan lists them first, the report says
// how many closed, and a second apply closes nothing.
func TestCloseConnections(t *testing.T) {
	closeConnectionsOn(t, rabbitmqtest.Shared(t))
}

// TestCloseConnectionsStatisticsOff: the same on a node whose management
// metrics collector is switched off: the connections are listed and
// closed through the broker's connection tracking, which does not depend
// on it.
func TestCloseConnectionsStatisticsOff(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{
		Config: []string{"management_agent.disable_metrics_collector = true"}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	closeConnectionsOn(t, n)
}

func closeConnectionsOn(t *testing.T, n *rabbitmqtest.Node) {
	useNode(t, n)
	t.Logf("RabbitMQ %s", n.Version)
	ctx := context.Background()
	t.Cleanup(func() {
		for _, u := range []string{"rot", "narrow", "gone", "keep", "widen"} {
			n.Do(ctx, "DELETE", "/api/users/"+u, nil, nil)
		}
		n.Do(ctx, "DELETE", "/api/vhosts/cc1", nil, nil)
		n.Do(ctx, "DELETE", "/api/vhosts/cc2", nil, nil)
		n.Do(ctx, "DELETE", "/api/global-parameters/warren-owner.close-test", nil, nil)
	})
	before := writeTemp(t, "before.yaml", closeFilesBefore)
	after := writeTemp(t, "after.yaml", closeFilesAfter)
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", before); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}

	type conn struct {
		user, vhost string
		closes      bool
		c           *amqp.Connection
		closed      chan *amqp.Error
	}
	conns := []*conn{
		{user: "rot", vhost: "cc1", closes: true},
		{user: "narrow", vhost: "cc1", closes: true},
		{user: "narrow", vhost: "cc2"},
		{user: "gone", vhost: "cc1", closes: true},
		{user: "keep", vhost: "cc1"},
		{user: "widen", vhost: "cc1"},
	}
	for _, c := range conns {
		var err error
		c.c, err = amqp.Dial(fmt.Sprintf("amqp://%s:%s-1@127.0.0.1:%d/%s", c.user, c.user, n.AMQPPort, url.PathEscape(c.vhost)))
		if err != nil {
			t.Fatalf("connecting as %s to %s: %v", c.user, c.vhost, err)
		}
		defer c.c.Close()
		c.closed = c.c.NotifyClose(make(chan *amqp.Error, 1))
	}
	// The broker tracks a connection shortly after it opens.
	for _, u := range []string{"rot", "narrow", "gone", "keep", "widen"} {
		want := 0
		for _, c := range conns {
			if c.user == u {
				want++
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			var list []map[string]any
			if err := n.Do(ctx, "GET", "/api/connections/username/"+u, nil, &list); err != nil {
				t.Fatal(err)
			}
			if len(list) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the broker tracks %d connections of %s, not %d", len(list), u, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	code, out, errOut := warren(t, "diff", "--prune", "--keep-guest", "--close-connections", after)
	if code != exitDrift {
		t.Fatalf("diff: exit %d\n%s%s", code, out, errOut)
	}
	wantPlan := "Connections closed after the apply (--close-connections):\n" +
		"  user \"gone\", every connection: deleted\n" +
		"  user \"narrow\", connections to vhost \"cc1\": permissions reduced\n" +
		"  user \"rot\", every connection: password changed\n"
	if !strings.Contains(out, wantPlan) {
		t.Errorf("the plan does not list whose connections close:\n%s\nwant:\n%s", out, wantPlan)
	}
	code, out, errOut = warren(t, "apply", "--yes", "--prune", "--keep-guest", "--close-connections", after)
	if code != exitOK {
		t.Fatalf("apply --close-connections: exit %d\n%s%s", code, out, errOut)
	}
	if want := `Closed 3 connections: user "gone" 1, user "narrow" 1, user "rot" 1.`; !strings.Contains(out+errOut, want) {
		t.Errorf("the apply does not report %q:\n%s%s", want, out, errOut)
	}
	for _, c := range conns {
		select {
		case e := <-c.closed:
			if !c.closes {
				t.Errorf("%s's connection to %s was closed (%v); it should stay open", c.user, c.vhost, e)
			} else if e == nil || e.Code != amqp.ConnectionForced {
				t.Errorf("%s's connection to %s closed with %v, not connection-forced", c.user, c.vhost, e)
			}
		case <-time.After(2 * time.Second):
			if c.closes {
				t.Errorf("%s's connection to %s is still open", c.user, c.vhost)
			}
		}
	}
	// Those left open still work.
	for _, c := range conns {
		if c.closes {
			continue
		}
		ch, err := c.c.Channel()
		if err != nil {
			t.Errorf("%s's connection to %s: %v", c.user, c.vhost, err)
			continue
		}
		ch.Close()
	}
	mustInSync(t, "--prune", "--keep-guest", after)
	if code, out, errOut := warren(t, "apply", "--yes", "--prune", "--keep-guest", "--close-connections", after); code != exitOK ||
		!strings.Contains(out, "No changes") || strings.Contains(out+errOut, "Closed") {
		t.Errorf("a second apply: exit %d\n%s%s", code, out, errOut)
	}
}
