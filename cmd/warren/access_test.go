package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/definitions/access"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// accessVhost is the vhost of the access agreement test.
const accessVhost = "acc"

// accessQueue and accessExchange are the agreement test's resources, with
// the arguments the broker's checks read (a dead-letter exchange, an
// alternate exchange).
type accessQueue struct {
	name string
	args amqp.Table
}

type accessExchange struct {
	name, typ string
	internal  bool
	args      amqp.Table
}

var (
	accessQueues = []accessQueue{
		{"app.q", nil}, {"app.dl", amqp.Table{"x-dead-letter-exchange": "dlx"}}, {"orders", nil}, {"orders.archive", nil},
		{"xorders", nil}, {"bob-q", nil}, {"{username}-q", nil},
	}
	accessExchanges = []accessExchange{
		{"events", "topic", false, nil}, {"app.direct", "direct", false, nil}, {"app.int", "direct", true, nil},
		{"app.ae", "direct", false, amqp.Table{"alternate-exchange": "orders.x"}}, {"orders.x", "direct", false, nil},
		{"bob-x", "topic", false, nil}, {"dlx", "fanout", false, nil},
	}
	// accessBuiltin are built-in exchanges the test publishes to and binds
	// from ("" is the default exchange), and declares and deletes (the
	// broker refuses both).
	accessBuiltin = []accessExchange{{"", "direct", false, nil}, {"amq.topic", "topic", false, nil}, {"amq.direct", "direct", false, nil}}
	topicKeys     = []string{"alice.x", "acc.x", "bob.x", "acc.bob", "k"}
)

// accessSetup gives the node the test's users, permissions, topic
// permissions ({username} and {vhost} in their patterns, and in plain
// permissions, where the broker does not expand them), queues and
// exchanges.
func accessSetup(t *testing.T, n *rabbitmqtest.Node) []string {
	ctx := context.Background()
	do := func(method, path string, body any) {
		t.Helper()
		if err := n.Do(ctx, method, path, body, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	v := url.PathEscape(accessVhost)
	do("PUT", "/api/vhosts/"+v, map[string]any{})
	users := []string{"app", "reader", "alice", "bob", "nobody", "empty", "look"}
	for _, u := range users {
		do("PUT", "/api/users/"+u, map[string]any{"password": "pw-" + u, "tags": ""})
	}
	perm := func(user, configure, write, read string) {
		do("PUT", "/api/permissions/"+v+"/"+user, map[string]any{"configure": configure, "write": write, "read": read})
	}
	perm("app", `^app\.`, `^(app\..*|amq\.default|dlx)$`, `^app\.`)
	perm("reader", "", "", "orders")
	perm("alice", ".*", ".*", ".*")
	perm("bob", `^{username}-.*`, `^({username}-.*|amq\.topic|bob-x)$`, `^({username}-.*|bob-.*|amq\.topic)$`)
	perm("empty", "", "", "")
	// Lookarounds: PCRE, not RE2; warren evaluates them with its PCRE engine.
	perm("look", `^(?!app\.)`, `^(?=.*x)`, `^(?!orders$)[a-z.]+$`)
	for _, q := range accessQueues {
		accessCreateQueue(t, n, q)
	}
	for _, e := range accessExchanges {
		accessCreateExchange(t, n, e)
	}
	// RabbitMQ 4.3 refuses a topic permission on an exchange that does not
	// exist (no_such_exchange): the exchanges come first.
	for _, tp := range accessTopics {
		accessCreateTopic(t, n, tp)
	}
	return users
}

// accessTopic is a topic permission of the agreement test.
type accessTopic struct{ user, exchange, write, read string }

var accessTopics = []accessTopic{
	{"alice", "events", `^{username}\.`, `^{vhost}\.`},
	{"alice", "app.direct", `^nothing$`, `^nothing$`}, // not a topic exchange: does nothing
	{"bob", "amq.topic", `^{vhost}\.{username}$`, `^bob\.`},
	{"bob", "bob-x", "", ""},
}

func accessCreateTopic(t *testing.T, n *rabbitmqtest.Node, tp accessTopic) {
	t.Helper()
	body := map[string]any{"exchange": tp.exchange, "write": tp.write, "read": tp.read}
	if err := n.Do(context.Background(), "PUT", "/api/topic-permissions/"+url.PathEscape(accessVhost)+"/"+tp.user, body, nil); err != nil {
		t.Fatalf("creating the topic permission of %s on %s: %v", tp.user, tp.exchange, err)
	}
}

// accessRecreateExchange makes an exchange a test deleted again, with the
// topic permissions on it: RabbitMQ 4.3 deletes those with the exchange
// (3.10.8 and 4.0.5 keep them).
func accessRecreateExchange(t *testing.T, n *rabbitmqtest.Node, e accessExchange) {
	t.Helper()
	accessCreateExchange(t, n, e)
	for _, tp := range accessTopics {
		if tp.exchange == e.name {
			accessCreateTopic(t, n, tp)
		}
	}
}

func accessCreateQueue(t *testing.T, n *rabbitmqtest.Node, q accessQueue) {
	t.Helper()
	body := map[string]any{"durable": true, "auto_delete": false, "arguments": argsOf(q.args)}
	if err := n.Do(context.Background(), "PUT", "/api/queues/"+url.PathEscape(accessVhost)+"/"+url.PathEscape(q.name), body, nil); err != nil {
		t.Fatalf("creating queue %s: %v", q.name, err)
	}
}

func accessCreateExchange(t *testing.T, n *rabbitmqtest.Node, e accessExchange) {
	t.Helper()
	body := map[string]any{"type": e.typ, "durable": true, "auto_delete": false, "internal": e.internal, "arguments": argsOf(e.args)}
	if err := n.Do(context.Background(), "PUT", "/api/exchanges/"+url.PathEscape(accessVhost)+"/"+url.PathEscape(e.name), body, nil); err != nil {
		t.Fatalf("creating exchange %s: %v", e.name, err)
	}
}

// argsOf is a table as the management API takes it: {} rather than null.
func argsOf(t amqp.Table) map[string]any {
	out := map[string]any{}
	for k, v := range t {
		out[k] = v
	}
	return out
}

// warrenVerdicts runs warren access --resource against the node and
// returns its verdicts, by user and operation.
func warrenVerdicts(t *testing.T, kind, name string, key *string) map[string]map[string]string {
	t.Helper()
	args := []string{"access", "--format", "json", "--resource", kind + ":" + accessVhost + "/" + name}
	if key != nil {
		args = append(args, "--routing-key", *key)
	}
	code, out, errOut := warren(t, args...)
	if code != exitOK {
		t.Fatalf("warren %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	var res struct {
		Users []struct {
			User     string
			Verdicts []struct{ Operation, Result, Reason string }
		}
		NoPermission []string `json:"no_permission"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("warren %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	got := map[string]map[string]string{}
	// A user with no permission in the vhost is denied every operation.
	for _, u := range res.NoPermission {
		got[u] = map[string]string{}
		for _, op := range access.Operations {
			got[u][string(op)] = "denied: cannot connect"
		}
	}
	for _, u := range res.Users {
		got[u.User] = map[string]string{}
		for _, v := range u.Verdicts {
			got[u.User][v.Operation] = v.Result + ": " + v.Reason
		}
	}
	return got
}

// brokerSays runs op on a fresh channel of conn: "allowed", or "denied"
// when the broker answers ACCESS_REFUSED. Any other error fails the test.
func brokerSays(t *testing.T, conn *amqp.Connection, what string, op func(*amqp.Channel) error) string {
	t.Helper()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("%s: opening a channel: %v", what, err)
	}
	defer ch.Close()
	err = op(ch)
	var ae *amqp.Error
	switch {
	case err == nil:
		return "allowed"
	case errors.As(err, &ae) && ae.Code == amqp.AccessRefused:
		return "denied"
	}
	t.Fatalf("%s: the broker answered neither yes nor ACCESS_REFUSED: %v", what, err)
	return ""
}

// publishConfirmed publishes in confirm mode and waits for the broker's answer: a
// confirmation, or the channel closed with an error.
func publishConfirmed(ch *amqp.Channel, exchange, key string) error {
	if err := ch.Confirm(false); err != nil {
		return err
	}
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1))
	if err := ch.PublishWithContext(context.Background(), exchange, key, false, false, amqp.Publishing{Body: []byte("x")}); err != nil {
		return err
	}
	select {
	case c, ok := <-confirms:
		if ok && c.Ack {
			return nil
		}
		if e := <-closed; e != nil {
			return e
		}
		return fmt.Errorf("publish not confirmed")
	case e := <-closed:
		return e
	case <-time.After(10 * time.Second):
		return fmt.Errorf("no answer to a publish in 10s")
	}
}

// TestAccessAgreesWithBroker: for every user, resource, operation and
// routing key of a matrix, warren access's verdict (read from the live
// node) equals the broker's own answer to a real AMQP 0-9-1 client.
func TestAccessAgreesWithBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	users := accessSetup(t, n)

	// warren's verdicts, by resource (and routing key), user, operation.
	type rk struct{ kind, name, key string }
	verdict := map[rk]map[string]map[string]string{}
	for _, q := range accessQueues {
		verdict[rk{"queue", q.name, ""}] = warrenVerdicts(t, "queue", q.name, nil)
	}
	for _, e := range append(accessExchanges, accessBuiltin...) {
		for _, k := range topicKeys {
			verdict[rk{"exchange", e.name, k}] = warrenVerdicts(t, "exchange", e.name, &k)
		}
	}
	result := func(s string) string { r, _, _ := strings.Cut(s, ":"); return r }

	checked, disagreed := 0, 0
	agree := func(user, what, want, got string) {
		t.Helper()
		checked++
		if result(want) != got {
			disagreed++
			t.Errorf("%s %s: warren says %s; the broker says %s", user, what, want, got)
		}
	}
	for _, user := range users {
		conn, err := amqp.Dial(fmt.Sprintf("amqp://%s:pw-%s@127.0.0.1:%d/%s", user, user, n.AMQPPort, url.PathEscape(accessVhost)))
		canConnect := err == nil
		var ae *amqp.Error
		if err != nil && !(errors.As(err, &ae) && (ae.Code == amqp.NotAllowed || ae.Code == amqp.AccessRefused)) {
			t.Fatalf("%s: connecting: %v", user, err)
		}
		w := verdict[rk{"queue", "app.q", ""}][user]["consume"]
		if says := strings.Contains(w, "cannot connect"); says == canConnect {
			t.Errorf("%s: the broker says it can connect: %v; warren says %s", user, canConnect, w)
		}
		if !canConnect {
			continue
		}
		says := func(what string, op func(*amqp.Channel) error) string { return brokerSays(t, conn, user+" "+what, op) }
		for _, q := range accessQueues {
			v := verdict[rk{"queue", q.name, ""}][user]
			agree(user, "declare queue "+q.name, v["declare"], says("declare", func(ch *amqp.Channel) error {
				_, err := ch.QueueDeclare(q.name, true, false, false, false, q.args)
				return err
			}))
			agree(user, "consume queue "+q.name, v["consume"], says("consume", func(ch *amqp.Channel) error {
				_, err := ch.Consume(q.name, "", true, false, false, false, nil)
				return err
			}))
			agree(user, "get queue "+q.name, v["get"], says("get", func(ch *amqp.Channel) error {
				_, _, err := ch.Get(q.name, true)
				return err
			}))
			agree(user, "purge queue "+q.name, v["purge"], says("purge", func(ch *amqp.Channel) error {
				_, err := ch.QueuePurge(q.name, false)
				return err
			}))
			// A bind needs write on the destination and read on the source
			// (and topic read on the binding key): both of warren's verdicts.
			for _, e := range append(accessExchanges, accessBuiltin...) {
				for _, k := range topicKeys {
					if e.typ != "topic" && k != "k" {
						continue
					}
					src := verdict[rk{"exchange", e.name, k}][user]["bind-source"]
					want := v["bind-destination"]
					if result(want) == "allowed" {
						want = src
					}
					agree(user, fmt.Sprintf("bind queue %s from exchange %q with key %q", q.name, e.name, k), want, says("bind", func(ch *amqp.Channel) error {
						return ch.QueueBind(q.name, k, e.name, false, nil)
					}))
				}
			}
			got := says("delete", func(ch *amqp.Channel) error {
				_, err := ch.QueueDelete(q.name, false, false, false)
				return err
			})
			agree(user, "delete queue "+q.name, v["delete"], got)
			if got == "allowed" {
				accessCreateQueue(t, n, q)
			}
		}
		for _, e := range append(accessExchanges, accessBuiltin...) {
			for _, k := range topicKeys {
				if e.typ != "topic" && k != "k" {
					continue
				}
				v := verdict[rk{"exchange", e.name, k}][user]
				agree(user, fmt.Sprintf("publish to exchange %q with key %q", e.name, k), v["publish"], says("publish", func(ch *amqp.Channel) error {
					return publishConfirmed(ch, e.name, k)
				}))
				// An exchange bound to an exchange: write on the destination
				// (app.direct for the source's check), read on the source.
				if e.name != "" {
					dst := verdict[rk{"exchange", "app.direct", "k"}][user]["bind-destination"]
					want := dst
					if result(dst) == "allowed" {
						want = v["bind-source"]
					}
					agree(user, fmt.Sprintf("bind exchange app.direct from %q with key %q", e.name, k), want, says("exchange bind", func(ch *amqp.Channel) error {
						return ch.ExchangeBind("app.direct", k, e.name, false, nil)
					}))
				}
			}
			v := verdict[rk{"exchange", e.name, "k"}][user]
			agree(user, fmt.Sprintf("declare exchange %q", e.name), v["declare"], says("declare", func(ch *amqp.Channel) error {
				return ch.ExchangeDeclare(e.name, e.typ, true, false, e.internal, false, e.args)
			}))
			// Built-in exchanges too: the broker refuses to delete them
			// (and the vhost is the test's own).
			got := says("delete", func(ch *amqp.Channel) error { return ch.ExchangeDelete(e.name, false, false) })
			agree(user, fmt.Sprintf("delete exchange %q", e.name), v["delete"], got)
			if got == "allowed" {
				accessRecreateExchange(t, n, e)
			}
		}
		// Declares that create: a name starting amq. is refused whatever
		// the permissions.
		for _, r := range []struct{ kind, name string }{{"queue", "app.new"}, {"queue", "amq.new"}, {"exchange", "app.new"}, {"exchange", "amq.new"}} {
			v := warrenVerdicts(t, r.kind, r.name, nil)[user]
			got := says("declare", func(ch *amqp.Channel) error {
				if r.kind == "queue" {
					_, err := ch.QueueDeclare(r.name, false, true, false, false, nil)
					return err
				}
				return ch.ExchangeDeclare(r.name, "direct", false, true, false, false, nil)
			})
			agree(user, fmt.Sprintf("declare new %s %q", r.kind, r.name), v["declare"], got)
			if got == "allowed" {
				path := "/api/queues/"
				if r.kind == "exchange" {
					path = "/api/exchanges/"
				}
				if err := n.Do(context.Background(), "DELETE", path+accessVhost+"/"+r.name, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		// What warren says a declare that creates also needs: write on the
		// dead-letter or alternate exchange (app may write dlx, not
		// orders.x).
		if user == "app" {
			for _, c := range []struct {
				what string
				want string
				op   func(*amqp.Channel) error
			}{
				{"queue with dead-letter exchange dlx", "allowed", func(ch *amqp.Channel) error {
					_, err := ch.QueueDeclare("app.dl2", false, true, false, false, amqp.Table{"x-dead-letter-exchange": "dlx"})
					return err
				}},
				{"queue with dead-letter exchange orders.x", "denied", func(ch *amqp.Channel) error {
					_, err := ch.QueueDeclare("app.dl3", false, true, false, false, amqp.Table{"x-dead-letter-exchange": "orders.x"})
					return err
				}},
				{"exchange with alternate exchange orders.x", "denied", func(ch *amqp.Channel) error {
					return ch.ExchangeDeclare("app.ae2", "direct", false, true, false, false, amqp.Table{"alternate-exchange": "orders.x"})
				}},
			} {
				if got := says("declare", c.op); got != c.want {
					t.Errorf("app: creating a %s: the broker says %s, docs/access.md says %s", c.what, got, c.want)
				}
			}
		}
		conn.Close()
	}
	t.Logf("%d answers checked on RabbitMQ %s, %d disagreed", checked, n.Version, disagreed)

	// The audit of the live broker: guest (a blank node's), and reader's
	// unanchored read pattern; no positions, there is no file.
	code, out, errOut := warren(t, "access", "--audit")
	if code != exitOK || !strings.Contains(out, `user "guest" is present`) || !strings.Contains(out, `read pattern "orders" of permission "reader" on vhost "acc" is not anchored`) {
		t.Errorf("warren access --audit: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("warren access --audit:\n%s", out)
	if checked < 500 {
		t.Errorf("only %d answers checked", checked)
	}
}

// TestAccessExitCodes pins warren access's exit codes: 0 answered (--can:
// allowed), 1 denied, unknown, open, or an error.
func TestAccessExitCodes(t *testing.T) {
	defs := writeTemp(t, "defs.yaml", `
vhosts: [{name: v}]
users: [{name: app, password_hash: "", tags: []}, {name: idle, password_hash: "", tags: []}]
permissions: [{user: app, vhost: v, configure: '', write: '^t$', read: '^é'}]
exchanges: [{name: t, vhost: v, type: topic, durable: true}]
topic_permissions: [{user: app, vhost: v, exchange: t, write: '^a\.', read: '.*'}]
queues: [{name: q, vhost: v, durable: true}]
`)
	k := func(s string) []string { return []string{"--routing-key", s} }
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"--user", "app"}, exitOK},
		{[]string{"--resource", "queue:v/q"}, exitOK},
		{append([]string{"--user", "app", "--can", "publish", "exchange:v/t"}, k("a.b")...), exitOK},
		{append([]string{"--user", "app", "--can", "publish", "exchange:v/t"}, k("b")...), exitError},
		{[]string{"--user", "app", "--can", "publish", "exchange:v/t"}, exitError}, // depends on the routing key
		{[]string{"--user", "app", "--can", "consume", "queue:v/q"}, exitError},    // unknown: not ASCII
		{[]string{"--user", "app", "--can", "declare", "queue:v/q"}, exitError},    // denied
		{[]string{"--audit"}, exitOK},
		{[]string{"--audit", "--strict"}, exitError},
		{[]string{}, exitError},
		{[]string{"--user", "app", "--format", "xml"}, exitError},
		{[]string{"--resource", "topic:v/q"}, exitError},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := warren(t, append(append([]string{"access"}, tt.args...), defs)...)
			if code != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errOut)
			}
		})
	}
}
