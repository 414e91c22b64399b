package migrate_test

import (
	"context"
	"maps"
	"net/url"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/migrate"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

func TestMain(m *testing.M) { rabbitmqtest.Main(m) }

// classicQueues are mirrored classic queues with every kind of argument
// the classic-to-quorum conversion treats: translated, rewritten,
// dropped, kept, and typed in each of the ways a file can type a queue.
const classicQueues = `{
  "vhosts": [{"name": "/"}],
  "policies": [{"vhost": "/", "name": "ha", "pattern": ".*", "apply-to": "queues", "priority": 0,
                "definition": {"ha-mode": "all", "max-length": 10}}],
  "queues": [
    {"vhost": "/", "name": "master-client", "durable": true, "auto_delete": false, "arguments": {"x-queue-master-locator": "client-local"}},
    {"vhost": "/", "name": "master-min", "durable": true, "auto_delete": false, "arguments": {"x-queue-master-locator": "min-masters", "x-queue-type": "classic"}},
    {"vhost": "/", "name": "master-and-leader", "durable": true, "auto_delete": false, "arguments": {"x-queue-master-locator": "random", "x-queue-leader-locator": "client-local"}},
    {"vhost": "/", "name": "dlx", "type": "classic", "durable": true, "auto_delete": false, "arguments": {"x-overflow": "reject-publish-dlx", "x-dead-letter-exchange": "dlx"}},
    {"vhost": "/", "name": "prio", "durable": true, "auto_delete": false, "arguments": {"x-max-priority": 5, "x-message-ttl": 60000}},
    {"vhost": "/", "name": "lazy", "durable": true, "auto_delete": false, "arguments": {"x-queue-mode": "lazy", "x-queue-version": 2, "x-ha-policy": "all", "x-ha-mode": "all"}},
    {"vhost": "/", "name": "stream-args", "durable": true, "auto_delete": false, "arguments": {"x-max-age": "1D", "x-max-length": 5, "x-expires": 1000}},
    {"vhost": "/", "name": "plain", "durable": true, "auto_delete": false}
  ]}`

// TestQuorumConversionIsOne: export's prepare_for_quorum_queue_migration
// trim and migrate make the same quorum queue of each mirrored classic
// queue (compared normalized, where the type field and x-queue-type are
// one), on every version migrate takes.
func TestQuorumConversionIsOne(t *testing.T) {
	for _, version := range []string{"4.0", "4.3"} {
		old, diags := definitions.Parse("old.json", []byte(classicQueues))
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		res := migrate.Transform(old, migrate.Options{Version: version, Upstream: migrate.URITemplate{Literal: "amqp://old"}})
		migrated := queuesByName(definitions.Normalize(res.Definitions))

		exported, _ := definitions.Parse("old.json", []byte(classicQueues))
		if err := definitions.Trim(exported, []string{"prepare_for_quorum_queue_migration"}); err != nil {
			t.Fatal(err)
		}
		trimmed := queuesByName(definitions.Normalize(exported))
		if len(trimmed) != 8 || len(migrated) != 8 {
			t.Fatalf("%s: %d queues exported, %d migrated, want 8", version, len(trimmed), len(migrated))
		}
		for name, q := range trimmed {
			m := migrated[name]
			if diff := cmp.Diff(string(definitions.CanonicalJSON(m.Arguments)), string(definitions.CanonicalJSON(q.Arguments))); diff != "" {
				t.Errorf("%s: queue %s: arguments differ (-migrate +export):\n%s", version, name, diff)
			}
			if *m.Durable != *q.Durable || *m.AutoDelete != *q.AutoDelete {
				t.Errorf("%s: queue %s: durable/auto_delete %v/%v by migrate, %v/%v by export", version, name, *m.Durable, *m.AutoDelete, *q.Durable, *q.AutoDelete)
			}
		}
	}
}

// TestQuorumArguments pins what the conversion does to each argument.
func TestQuorumArguments(t *testing.T) {
	old, _ := definitions.Parse("old.json", []byte(classicQueues))
	want := map[string]string{
		"master-client":     `{"x-queue-leader-locator":"client-local"}`,
		"master-min":        `{"x-queue-leader-locator":"balanced","x-queue-type":"quorum"}`,
		"master-and-leader": `{"x-queue-leader-locator":"client-local"}`,
		"dlx":               `{"x-dead-letter-exchange":"dlx","x-overflow":"reject-publish"}`,
		"prio":              `{"x-message-ttl":60000}`,
		"lazy":              `{}`,
		"stream-args":       `{"x-expires":1000,"x-max-length":5}`,
		"plain":             `{}`,
	}
	for _, q := range old.Queues {
		got, _ := definitions.QuorumArguments(q.Arguments)
		if s := string(definitions.CanonicalJSON(got)); s != want[q.Name] {
			t.Errorf("%s: %s, want %s", q.Name, s, want[q.Name])
		}
	}
}

func queuesByName(d *definitions.Document) map[string]*definitions.Queue {
	out := map[string]*definitions.Queue{}
	for _, q := range d.Queues {
		out[q.Name] = q
	}
	return out
}

// TestQuorumConversionOnBroker imports what the conversion makes of the
// mirrored classic queues (through export's trim, which migrate matches:
// TestQuorumConversionIsOne) into a real node, with RabbitMQ's own
// import, and reads each queue back: every one is created as a quorum
// queue with the converted arguments; x-queue-leader-locator stands where
// x-queue-master-locator was. An auto-delete classic queue, which cannot
// be a quorum queue (migrate refuses a mirrored one, EMigrateAutoDelete), stays classic and is
// created.
func TestQuorumConversionOnBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	doc, diags := definitions.Parse("old.json", []byte(classicQueues))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	yes := true
	doc.Queues = append(doc.Queues, &definitions.Queue{Vhost: "/", Name: "temporary", Durable: &yes, AutoDelete: &yes,
		Arguments: definitions.TableOf(map[string]any{"x-queue-type": "classic"})})
	if err := definitions.Trim(doc, []string{"prepare_for_quorum_queue_migration"}); err != nil {
		t.Fatal(err)
	}
	if err := n.PostDefinitions(ctx, doc.EncodeJSON()); err != nil {
		t.Fatalf("RabbitMQ %s refuses the converted queues: %v", n.Version, err)
	}
	for _, q := range doc.Queues {
		var got struct {
			Type      string         `json:"type"`
			Arguments map[string]any `json:"arguments"`
		}
		if err := n.Do(ctx, "GET", "/api/queues/%2F/"+url.PathEscape(q.Name), nil, &got); err != nil {
			t.Errorf("queue %s was not created: %v", q.Name, err)
			continue
		}
		if want := q.QueueType(); got.Type != want {
			t.Errorf("queue %s is a %s queue, want %s", q.Name, got.Type, want)
		}
		if q.Name == "temporary" && q.QueueType() != "classic" {
			t.Errorf("the auto-delete queue was made a %s queue", q.QueueType())
		}
		want := q.Arguments.Map()
		if names, wantNames := slices.Sorted(maps.Keys(got.Arguments)), slices.Sorted(maps.Keys(want)); !slices.Equal(names, wantNames) {
			t.Errorf("queue %s has arguments %v, want %v", q.Name, names, wantNames)
		}
		for k, v := range want {
			if s, ok := v.(string); ok && got.Arguments[k] != s {
				t.Errorf("queue %s: %s is %v, want %s", q.Name, k, got.Arguments[k], s)
			}
		}
	}
	if got := doc.Queues[0]; got.Name != "master-client" || got.Arguments.Get("x-queue-leader-locator") != "client-local" {
		t.Errorf("first queue: %s %v", got.Name, got.Arguments)
	}
}
