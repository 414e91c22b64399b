package access

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
)

// TestCompareSkipsOnlyTheSame: Compare leaves out an operation on a
// resource only where its verdict cannot have changed. Every change one
// edit of the definitions makes (a pattern of each kind, a topic
// permission, an exchange's type or internal flag, a resource made or
// removed, a permission given or taken) is listed as when every operation
// on every resource is asked of both models.
func TestCompareSkipsOnlyTheSame(t *testing.T) {
	base := `
permissions:
  - {user: app, vhost: v, configure: '^app\.', write: '^(app\..*|events)$', read: '.*'}
  - {user: ops, vhost: v, configure: '.*', write: '.*', read: '.*'}
  - {user: web, vhost: v, configure: '', write: 'events', read: '^web'}
topic_permissions:
  - {user: app, vhost: v, exchange: events, write: '^app\.', read: '.*'}
queues:
  - {name: app.q, vhost: v, durable: true, arguments: {x-dead-letter-exchange: dlx}}
  - {name: web.q, vhost: v, durable: true}
  - {name: amq.kept, vhost: v, durable: true}
  - {name: apple, vhost: v, durable: true}
  - {name: webhooks, vhost: v, durable: true}
exchanges:
  - {name: events, vhost: v, type: topic, durable: true}
  - {name: dlx, vhost: v, type: fanout, durable: true}
  - {name: hidden, vhost: v, type: direct, durable: true, internal: true}
  - {name: old-events, vhost: v, type: fanout, durable: true}
`
	edits := map[string][2]string{
		"configure":            {`configure: '^app\.'`, `configure: '^app'`},
		"write":                {`write: 'events'`, `write: '^events$'`},
		"read":                 {`read: '^web'`, `read: '^web\.'`},
		"all three":            {`configure: '.*', write: '.*', read: '.*'`, `configure: '', write: '', read: ''`},
		"topic write":          {`write: '^app\.', read: '.*'}`, `write: '^app\.x', read: '.*'}`},
		"topic gone":           {"topic_permissions:\n  - {user: app, vhost: v, exchange: events, write: '^app\\.', read: '.*'}\n", ""},
		"type":                 {`{name: events, vhost: v, type: topic`, `{name: events, vhost: v, type: direct`},
		"internal":             {`type: direct, durable: true, internal: true`, `type: direct, durable: true, internal: false`},
		"exchange gone":        {"  - {name: dlx, vhost: v, type: fanout, durable: true}\n", ""},
		"amq queue gone":       {"  - {name: amq.kept, vhost: v, durable: true}\n", ""},
		"queue made":           {"  - {name: web.q, vhost: v, durable: true}\n", "  - {name: web.q, vhost: v, durable: true}\n  - {name: app.new, vhost: v, durable: true}\n"},
		"permission taken":     {"  - {user: web, vhost: v, configure: '', write: 'events', read: '^web'}\n", ""},
		"pattern and resource": {`configure: '^app\.'`, `configure: '^(app\..*|amq\.kept)$'`},
	}
	model := func(src string) *Model {
		t.Helper()
		d, diags := definitions.Parse("defs.yaml", []byte(src))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		return New(d, Options{Version: "4.3.6"})
	}
	say := func(cs []Change) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.String())
		}
		return out
	}
	// Made or removed resources are not listed (Compare), nor is a topic
	// pattern's change when no routing key is given.
	quiet := map[string]bool{"exchange gone": true, "amq queue gone": true, "queue made": true, "topic write": true}
	for name, e := range edits {
		if !strings.Contains(base, e[0]) {
			t.Fatalf("%s: the base has no %q", name, e[0])
		}
		edited := strings.Replace(base, e[0], e[1], 1)
		for _, pair := range [][2]string{{base, edited}, {edited, base}} {
			all := say(compare(model(pair[0]), model(pair[1]), false))
			if len(all) == 0 && !quiet[name] {
				t.Errorf("%s: changes nothing; the edit tests nothing", name)
			}
			if diff := cmp.Diff(all, say(Compare(model(pair[0]), model(pair[1])))); diff != "" {
				t.Errorf("%s: Compare differs from asking everything (-all +Compare):\n%s", name, diff)
			}
		}
	}
}
