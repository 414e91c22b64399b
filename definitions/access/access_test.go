package access_test

import (
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
)

const testDoc = `
vhosts: [{name: v}, {name: w}]
users:
  - {name: app, tags: []}
  - {name: reader, tags: []}
  - {name: nobody, tags: []}
  - {name: empty, tags: []}
  - {name: alice, tags: []}
  - {name: loose, tags: []}
permissions:
  - {user: app, vhost: v, configure: '^app\.', write: '^(app\..*|amq\.default)$', read: '^app\.'}
  - {user: reader, vhost: v, configure: '', write: '', read: '^orders'}
  - {user: empty, vhost: v, configure: '', write: '', read: ''}
  - {user: alice, vhost: v, configure: '.*', write: '.*', read: '.*'}
  - {user: loose, vhost: v, configure: 'orders', write: '(?<=x)orders', read: '(?P<n>a'}
topic_permissions:
  - {user: alice, vhost: v, exchange: events, write: '^{username}\.', read: '^{vhost}\.'}
  - {user: alice, vhost: v, exchange: app.direct, write: '^nothing$', read: '^nothing$'}
  - {user: alice, vhost: v, exchange: elsewhere, write: '^x$', read: '^x$'}
queues:
  - {name: app.q, vhost: v, durable: true}
  - {name: app.dl, vhost: v, durable: true, arguments: {x-dead-letter-exchange: dlx}}
  - {name: orders, vhost: v, durable: true}
  - {name: amq.gen-abc, vhost: v, durable: true}
exchanges:
  - {name: events, vhost: v, type: topic, durable: true}
  - {name: app.direct, vhost: v, type: direct, durable: true}
  - {name: app.int, vhost: v, type: direct, durable: true, internal: true}
  - {name: app.ae, vhost: v, type: direct, durable: true, arguments: {alternate-exchange: other}}
`

func model(t *testing.T) *access.Model {
	t.Helper()
	d, diags := definitions.Parse("defs.yaml", []byte(testDoc))
	if diags.HasErrors() {
		t.Fatalf("test document: %v", diags)
	}
	return access.New(d, access.Options{Version: "4.0.5"})
}

func TestCan(t *testing.T) {
	m := model(t)
	key := func(s string) *string { return &s }
	for _, tc := range []struct {
		user   string
		op     access.Operation
		res    string
		key    *string
		want   access.Result
		reason string // a part of the reason
	}{
		{"app", access.Declare, "queue:v/app.q", nil, access.Allowed, `configure on queue "app.q" on vhost "v": pattern "^app\." matches "app.q"`},
		{"app", access.Declare, "queue:v/xapp.q", nil, access.Denied, `does not match "xapp.q"`},
		// Declaring what exists needs configure only; what the broker
		// checks when the declare creates it cannot be known without its
		// arguments.
		{"app", access.Declare, "queue:v/app.dl", nil, access.Allowed, `configure on queue "app.dl"`},
		{"app", access.Declare, "exchange:v/app.ae", nil, access.Allowed, `configure on exchange "app.ae"`},
		{"app", access.Declare, "queue:v/app.new", nil, access.Allowed, `creating it with x-dead-letter-exchange`},
		{"app", access.Declare, "queue:v/amq.q", nil, access.Denied, "reserved"},
		{"alice", access.Declare, "exchange:v/amq.topic", nil, access.Allowed, "configure"},
		{"alice", access.Declare, "exchange:v/amq.new", nil, access.Denied, "reserved"},
		// The broker checks a queue's name before it looks for the queue:
		// a server-named queue that exists cannot be declared again.
		{"alice", access.Declare, "queue:v/amq.gen-abc", nil, access.Denied, "reserved"},
		{"alice", access.Delete, "queue:v/amq.gen-abc", nil, access.Allowed, "configure"},
		{"app", access.Delete, "queue:v/app.q", nil, access.Allowed, "configure"},
		{"app", access.Delete, "exchange:v/amq.topic", nil, access.Denied, "built in"},
		{"app", access.BindDestination, "queue:v/app.q", nil, access.Allowed, "write on queue"},
		{"app", access.BindSource, "exchange:v/app.direct", nil, access.Allowed, "read on exchange"},
		{"app", access.BindSource, "exchange:v/", nil, access.Denied, "default exchange cannot be"},
		// The default exchange is checked as amq.default.
		{"app", access.Publish, "exchange:v/", nil, access.Allowed, `matches "amq.default"`},
		{"reader", access.Publish, "exchange:v/", nil, access.Denied, `pattern "" (no access) does not match "amq.default"`},
		{"app", access.Publish, "exchange:v/app.int", nil, access.Denied, "internal"},
		// amq.rabbitmq.trace is built in and internal.
		{"alice", access.Publish, "exchange:v/amq.rabbitmq.trace", key("k"), access.Denied, "internal"},
		{"alice", access.BindSource, "exchange:v/amq.rabbitmq.trace", key("k"), access.Allowed, "read"},
		{"reader", access.Consume, "queue:v/orders", nil, access.Allowed, "read on queue"},
		{"reader", access.Get, "queue:v/orders.archive", nil, access.Allowed, "read"}, // unanchored
		{"reader", access.Purge, "queue:v/app.q", nil, access.Denied, "read on queue"},
		{"empty", access.Consume, "queue:v/", nil, access.Denied, "a queue needs a name"},
		{"empty", access.Publish, "exchange:v/", nil, access.Denied, `(no access)`},
		// No permission entry: cannot connect.
		{"nobody", access.Consume, "queue:v/orders", nil, access.Denied, `user "nobody" has no permission on vhost "v": it cannot connect`},
		{"app", access.Consume, "queue:w/app.q", nil, access.Denied, "cannot connect"},
		// Topic permissions, with {username} and {vhost} expanded.
		{"alice", access.Publish, "exchange:v/events", key("alice.x"), access.Allowed, `pattern "^{username}\." ("^alice\." here) matches "alice.x"`},
		{"alice", access.Publish, "exchange:v/events", key("bob.x"), access.Denied, `topic write`},
		{"alice", access.Publish, "exchange:v/events", nil, access.Depends, `only routing keys matching pattern "^alice\."`},
		{"alice", access.BindSource, "exchange:v/events", key("v.k"), access.Allowed, "topic read"},
		{"alice", access.BindSource, "exchange:v/events", key("alice.k"), access.Denied, "topic read"},
		// Topic permissions do nothing on other exchange types.
		{"alice", access.Publish, "exchange:v/app.direct", key("k"), access.Allowed, "write on exchange"},
		// An exchange not defined: its type is not known.
		{"alice", access.Publish, "exchange:v/elsewhere", key("k"), access.Unknown, "not defined"},
		{"alice", access.Publish, "exchange:v/amq.topic", key("k"), access.Allowed, "write"},
		// Patterns the engine cannot evaluate, or that use lookbehind.
		{"loose", access.Consume, "queue:v/orders", nil, access.Unknown, "cannot evaluate"},
		{"loose", access.Publish, "exchange:v/xorders", nil, access.Allowed, "(?<=x)orders"},
		{"loose", access.Publish, "exchange:v/orders", nil, access.Denied, "(?<=x)orders"},
		{"loose", access.Declare, "queue:v/my-orders-archive", nil, access.Allowed, "configure"},
		{"app", access.Publish, "queue:v/app.q", nil, access.Denied, "not an operation on a queue"},
	} {
		name := tc.user + " " + string(tc.op) + " " + tc.res
		t.Run(name, func(t *testing.T) {
			r, err := access.ParseResource(tc.res)
			if err != nil {
				if !strings.Contains(err.Error(), tc.reason) {
					t.Fatal(err)
				}
				return
			}
			v := m.Can(tc.user, tc.op, r, tc.key)
			if v.Result != tc.want || !strings.Contains(v.Reason(), tc.reason) {
				t.Errorf("got %s: %s\nwant %s: …%s…", v.Result, v.Reason(), tc.want, tc.reason)
			}
		})
	}
}

// An empty topic permission pattern is ^$, as other empty patterns, on
// every version: it allows the empty routing key alone (3.10.8, 4.0.5 and
// 4.3.6 refuse a key; TestAccessAgreesWithBroker).
func TestEmptyTopicPattern(t *testing.T) {
	d, diags := definitions.Parse("defs.yaml", []byte(`
permissions: [{user: u, vhost: v, configure: '', write: '.*', read: '.*'}]
exchanges: [{name: t, vhost: v, type: topic, durable: true}]
topic_permissions: [{user: u, vhost: v, exchange: t, write: '', read: ''}]
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r := access.Resource{Kind: access.Exchange, Vhost: "v", Name: "t"}
	for _, version := range []string{"3.10.8", "4.0.5", "4.3.6", "4.1.2", ""} {
		m := access.New(d, access.Options{Version: version})
		for key, want := range map[string]access.Result{"k": access.Denied, "": access.Allowed} {
			for _, op := range []access.Operation{access.Publish, access.BindSource} {
				if v := m.Can("u", op, r, &key); v.Result != want {
					t.Errorf("RabbitMQ %q, %s with key %q: %s (%s), want %s", version, op, key, v.Result, v.Reason(), want)
				}
			}
		}
	}
}

// {username} and {vhost} go into a topic pattern as text up to RabbitMQ
// 4.0, and with their metacharacters escaped from 4.3 (seen on real
// nodes: TestAccessAgreesWithBrokerOnNames).
func TestTopicVariables(t *testing.T) {
	d, diags := definitions.Parse("defs.yaml", []byte(`
permissions:
  - {user: a.b, vhost: v.x, configure: '', write: '.*', read: '.*'}
  - {user: a(b, vhost: v.x, configure: '', write: '.*', read: '.*'}
  - {user: plain, vhost: v.x, configure: '', write: '.*', read: '.*'}
exchanges: [{name: t, vhost: v.x, type: topic, durable: true}]
topic_permissions:
  - {user: a.b, vhost: v.x, exchange: t, write: '^{username}$', read: '^{vhost}$'}
  - {user: a(b, vhost: v.x, exchange: t, write: '^{username}$', read: '^{vhost}$'}
  - {user: plain, vhost: v.x, exchange: t, write: '^{username}$', read: '^p$'}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r := access.Resource{Kind: access.Exchange, Vhost: "v.x", Name: "t"}
	for _, tc := range []struct {
		version, user string
		op            access.Operation
		key           string
		want          access.Result
	}{
		{"4.0.5", "a.b", access.Publish, "axb", access.Allowed},
		{"4.0.5", "a.b", access.BindSource, "vxx", access.Allowed},
		{"3.10.8", "a(b", access.Publish, "a(b", access.Unknown}, // ^a(b$ does not compile: the broker fails the channel
		{"4.3.6", "a.b", access.Publish, "axb", access.Denied},
		{"4.3.6", "a.b", access.Publish, "a.b", access.Allowed},
		{"4.3.6", "a.b", access.BindSource, "vxx", access.Denied},
		{"4.3.6", "a.b", access.BindSource, "v.x", access.Allowed},
		{"4.3.6", "a(b", access.Publish, "a(b", access.Allowed},
		{"4.3.6", "a(b", access.Publish, "axb", access.Denied},
		{"", "a.b", access.Publish, "a.b", access.Unknown},
		{"4.1.0", "a.b", access.BindSource, "v.x", access.Unknown},
		{"", "plain", access.Publish, "plain", access.Allowed}, // nothing to escape
	} {
		m := access.New(d, access.Options{Version: tc.version})
		if v := m.Can(tc.user, tc.op, r, &tc.key); v.Result != tc.want {
			t.Errorf("RabbitMQ %q: %s %s with key %q: %s (%s), want %s", tc.version, tc.user, tc.op, tc.key, v.Result, v.Reason(), tc.want)
		}
	}
}

func TestParseResource(t *testing.T) {
	for in, want := range map[string]access.Resource{
		"queue:/orders":        {Kind: access.Queue, Vhost: "/", Name: "orders"},
		"queue:%2F/orders":     {Kind: access.Queue, Vhost: "/", Name: "orders"},
		"exchange:prod/a/b":    {Kind: access.Exchange, Vhost: "prod", Name: "a/b"},
		"exchange:prod/":       {Kind: access.Exchange, Vhost: "prod", Name: ""},
		"queue:my%20vhost/q.1": {Kind: access.Queue, Vhost: "my vhost", Name: "q.1"},
	} {
		got, err := access.ParseResource(in)
		if err != nil || got != want {
			t.Errorf("ParseResource(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, _ := access.ParseResource(got.Ref()); back != got {
			t.Errorf("%q: Ref %q reads back as %+v", in, got.Ref(), back)
		}
	}
	for _, in := range []string{"orders", "topic:v/x", "queue:v", "queue:%zz/q"} {
		if _, err := access.ParseResource(in); err == nil {
			t.Errorf("ParseResource(%q): no error", in)
		}
	}
}

func TestMatch(t *testing.T) {
	m := access.New(&definitions.Document{}, access.Options{})
	for _, tc := range []struct {
		pattern, s string
		want       bool
		unknown    bool
	}{
		{"", "", true, false},
		{"", "x", false, false},
		{"orders", "xorders-archive", true, false}, // unanchored, as re:run
		{"^orders$", "orders\n", true, false},      // $ before a final newline, as PCRE
		{`^(\w+)-\1$`, "ab-ab", true, false},       // backreference
		{`^(?!tmp\.)`, "tmp.x", false, false},      // lookahead
		{"{username}", "{username}", true, false},  // literal braces
		{"^é", "é", false, true},
		{"a++", "aa", false, true}, // possessive: PCRE has it, the engine does not
		{"(", "x", false, true},
	} {
		ok, why := m.Match(tc.pattern, tc.s)
		if ok != tc.want || (why != "") != tc.unknown {
			t.Errorf("Match(%q, %q) = %v, %q; want %v (unknown %v)", tc.pattern, tc.s, ok, why, tc.want, tc.unknown)
		}
	}
}

// TestResultIsCans: Result, which makes no reasons, gives Can's result for
// every user, operation and resource of the test document (and some it
// does not define), with and without a routing key, on a version where an
// empty topic pattern's meaning is known and on one where it is not.
func TestResultIsCans(t *testing.T) {
	d, diags := definitions.Parse("defs.yaml", []byte(testDoc))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	key := "alice.x"
	for _, version := range []string{"4.0.5", "4.3.6", ""} {
		m := access.New(d, access.Options{Version: version})
		resources := append(m.Resources("v"), m.Resources("w")...)
		resources = append(resources, access.Resource{Kind: access.Queue, Vhost: "v", Name: "undefined"},
			access.Resource{Kind: access.Exchange, Vhost: "v", Name: ""}, access.Resource{Kind: access.Exchange, Vhost: "v", Name: "amq.topic"})
		n := 0
		for _, u := range []string{"app", "reader", "nobody", "empty", "alice", "loose", "stranger"} {
			for _, r := range resources {
				for _, op := range access.Operations {
					for _, k := range []*string{nil, &key} {
						if got, want := m.Result(u, op, r, k), m.Can(u, op, r, k).Result; got != want {
							t.Errorf("version %q: %s %s %s (key %v): Result %s, Can %s", version, u, op, r, k != nil, got, want)
						}
						n++
					}
				}
			}
		}
		if n < 500 {
			t.Fatalf("only %d verdicts compared", n)
		}
	}
}

// A grant for server-named queues (^amq\.gen-) grants what applications
// declare: it is not reported as matching nothing (W204); a grant that
// matches nothing defined is.
func TestAuditServerNamedQueues(t *testing.T) {
	d, diags := definitions.Parse("defs.yaml", []byte(`
vhosts: [{name: v}]
users: [{name: app, tags: []}]
permissions: [{user: app, vhost: v, configure: '^amq\.gen-.*', write: '^app\.', read: '^nothing$'}]
queues: [{name: app.q, vhost: v, durable: true}]
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var got []string
	for f := range access.New(d, access.Options{}).Audit(access.AuditOptions{}).All() {
		if f.Code == "W204" {
			got = append(got, f.Message)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], `read pattern "^nothing$"`) {
		t.Errorf("W204 findings: %q; want the read pattern's alone", got)
	}
}
