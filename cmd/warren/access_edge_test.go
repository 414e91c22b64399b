package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// warrenCan is warren access --can's verdict against the node, and its
// reason.
func warrenCan(t *testing.T, user, op, resource string, key *string) (result, reason string) {
	t.Helper()
	args := []string{"access", "--format", "json", "--user", user, "--can", op, resource}
	if key != nil {
		args = append(args, "--routing-key", *key)
	}
	_, out, errOut := warren(t, args...)
	var res struct {
		Can struct{ Result, Reason string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("warren %s: %v\n%s\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return res.Can.Result, res.Can.Reason
}

// TestAccessAgreesWithBrokerOnNames: warren access's verdicts equal a real
// AMQP 0-9-1 client's answers where names and patterns are unusual: a
// server-named queue declared again, the built-in internal exchange
// amq.rabbitmq.trace, POSIX classes and a [ inside a class, {,n}, \Q…\E,
// \_ and \N, and {username} and {vhost} expanded with regular expression metacharacters
// in the names. warren may say unknown only where the broker's answer
// depends on what it cannot know (its Erlang's PCRE for {,n} after 4.0; a
// topic pattern the expansion leaves invalid, which fails the channel on
// 4.0 and before).
func TestAccessAgreesWithBrokerOnNames(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	do := func(method, path string, body any) {
		t.Helper()
		if err := n.Do(ctx, method, path, body, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	const vh, vhx = "names", "names.x" // the second's name has a metacharacter
	for _, v := range []string{vh, vhx} {
		do("PUT", "/api/vhosts/"+url.PathEscape(v), map[string]any{})
		do("PUT", "/api/exchanges/"+url.PathEscape(v)+"/t", map[string]any{"type": "topic", "durable": true})
	}
	perm := func(v, user, configure, write, read string) {
		do("PUT", "/api/users/"+url.PathEscape(user), map[string]any{"password": "pw", "tags": ""})
		do("PUT", "/api/permissions/"+url.PathEscape(v)+"/"+url.PathEscape(user), map[string]any{"configure": configure, "write": write, "read": read})
	}
	perm(vh, "names-all", ".*", ".*", ".*")
	perm(vh, "posix", `^[[:alpha:]]+$`, "", `^[[:digit:]]+$`)
	perm(vh, "subtract", `^[a-z-[aeiou]]+$`, "", `^a{,3}$`)
	perm(vh, "quote", `^\Qa{,3}\E$`, "", `^\_?a\E`)
	perm(vh, "anychar", `^a\Nc$`, "", `^\N{2}$`) // PCRE's \N: any character but a newline
	queues := []string{"abc", "aa", "a{,3}", "123", "b]", "b"}
	for _, q := range queues {
		do("PUT", "/api/queues/"+url.PathEscape(vh)+"/"+url.PathEscape(q), map[string]any{"durable": true})
	}
	for _, u := range []string{"a.b", "a(b"} {
		for _, v := range []string{vh, vhx} {
			perm(v, u, "", ".*", ".*")
			do("PUT", "/api/topic-permissions/"+url.PathEscape(v)+"/"+url.PathEscape(u), map[string]any{"exchange": "t", "write": "^{username}$", "read": "^{vhost}$"})
		}
	}
	dial := func(user, v string) *amqp.Connection {
		t.Helper()
		c, err := amqp.Dial(fmt.Sprintf("amqp://%s:pw@127.0.0.1:%d/%s", url.PathEscape(user), n.AMQPPort, url.PathEscape(v)))
		if err != nil {
			t.Fatalf("%s on %s: %v", user, v, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	checked := 0
	agree := func(conn *amqp.Connection, user, op, resource string, key *string, unknownOK bool, try func(*amqp.Channel) error) {
		t.Helper()
		got, why := warrenCan(t, user, op, resource, key)
		what := fmt.Sprintf("%s %s %s", user, op, resource)
		if key != nil {
			what += fmt.Sprintf(" with key %q", *key)
		}
		if got == "unknown" {
			if !unknownOK {
				t.Errorf("%s: warren says unknown (%s)", what, why)
			}
			return
		}
		checked++
		if says := brokerSays(t, conn, what, try); says != got {
			t.Errorf("%s: warren says %s (%s); the broker says %s%s", what, got, why, says, n.Mismatch())
		}
	}

	all := dial("names-all", vh)
	var gen string
	if brokerSays(t, all, "declaring a server-named queue", func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclare("", true, false, false, false, nil)
		gen = q.Name
		return err
	}) != "allowed" {
		t.Fatal("names-all cannot declare a server-named queue")
	}
	agree(all, "names-all", "declare", "queue:"+vh+"/"+gen, nil, false, func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(gen, true, false, false, false, nil)
		return err
	})
	for _, x := range []string{"amq.rabbitmq.trace", "amq.topic"} {
		key := "k"
		agree(all, "names-all", "publish", "exchange:"+vh+"/"+x, &key, false, func(ch *amqp.Channel) error { return publishConfirmed(ch, x, key) })
	}

	brace := n.Version < "4.1" // {,n} is text on RabbitMQ 4.0 and before (Erlang/OTP 27 and before)
	for _, user := range []string{"posix", "subtract", "quote", "anychar"} {
		conn := dial(user, vh)
		for _, q := range queues {
			agree(conn, user, "declare", "queue:"+vh+"/"+q, nil, false, func(ch *amqp.Channel) error {
				_, err := ch.QueueDeclare(q, true, false, false, false, nil)
				return err
			})
			agree(conn, user, "get", "queue:"+vh+"/"+q, nil, user == "subtract" && !brace, func(ch *amqp.Channel) error {
				_, _, err := ch.Get(q, true)
				return err
			})
		}
	}

	for _, user := range []string{"a.b", "a(b"} {
		for _, v := range []string{vh, vhx} {
			// ^a(b$ does not compile: RabbitMQ 4.0 and before fail the
			// channel (INTERNAL_ERROR), and warren says unknown.
			invalid := user == "a(b" && n.Version < "4.1"
			conn := dial(user, v)
			for _, k := range []string{"a.b", "axb", "a(b", v, strings.ReplaceAll(v, ".", "x")} {
				if invalid {
					if got, why := warrenCan(t, user, "publish", "exchange:"+v+"/t", &k); got != "unknown" {
						t.Errorf("%s publish on %s with key %q: warren says %s (%s), want unknown", user, v, k, got, why)
					}
				} else {
					agree(conn, user, "publish", "exchange:"+v+"/t", &k, false, func(ch *amqp.Channel) error { return publishConfirmed(ch, "t", k) })
				}
				agree(conn, user, "bind-source", "exchange:"+v+"/t", &k, false, func(ch *amqp.Channel) error {
					return ch.ExchangeBind("t", k, "t", false, nil)
				})
			}
		}
	}
	t.Logf("%d answers checked on RabbitMQ %s", checked, n.Version)
}
