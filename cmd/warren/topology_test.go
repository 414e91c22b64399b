package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions/topology"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// topologyDefs is a representative definitions file: every kind the
// operator expresses and RabbitMQ has without plugins.
const topologyDefs = `users:
  - name: app
    password: {env: APP_PASSWORD}
    tags: [management]
    limits: {max-connections: 20}
  - name: Ops.Admin
    password: {env: APP_PASSWORD}
    tags: [administrator, monitoring]
vhosts:
  - name: orders
    default_queue_type: quorum
  - name: /
permissions:
  - {user: app, vhost: orders, configure: "^app\\.", write: ".*", read: ".*"}
  - {user: Ops.Admin, vhost: /, configure: ".*", write: ".*", read: ".*"}
topic_permissions:
  - {user: app, vhost: orders, exchange: events, write: "^orders\\.", read: ".*"}
parameters:
  - {vhost: orders, component: vhost-limits, name: limits, value: {max-connections: 100, max-queues: 50}}
  - {vhost: orders, component: operator_policy, name: cap, value: {pattern: ".*", definition: {max-length: 100000}, apply-to: queues, priority: 0}}
policies:
  - {vhost: orders, name: ttl, pattern: "^tmp\\.", apply-to: queues, priority: 1, definition: {message-ttl: 60000}}
queues:
  - {vhost: orders, name: Incoming.Orders, durable: true, auto_delete: false, arguments: {x-queue-type: quorum, x-delivery-limit: 5}}
  - {vhost: orders, name: tmp.scratch, durable: true, auto_delete: false, arguments: {x-queue-type: classic, x-max-length: 10}}
  - {vhost: /, name: audit, durable: true, auto_delete: false, arguments: {x-queue-type: stream}}
exchanges:
  - {vhost: orders, name: events, type: topic, durable: true, auto_delete: false, internal: false, arguments: {}}
  - {vhost: orders, name: fanout.out, type: fanout, durable: false, auto_delete: false, internal: false, arguments: {}}
bindings:
  - {vhost: orders, source: events, destination: Incoming.Orders, destination_type: queue, routing_key: "orders.#", arguments: {}}
  - {vhost: orders, source: events, destination: fanout.out, destination_type: exchange, routing_key: "", arguments: {x-match: all}}
`

// strictValid runs the strict validator over a resources file and a
// Secrets file together.
func strictValid(t *testing.T, files ...string) {
	t.Helper()
	var streams []*topology.Stream
	var diags schema.Diagnostics
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, ds := topology.Decode(f, data)
		streams = append(streams, s)
		diags = append(diags, ds...)
	}
	diags = append(diags, topology.Check(streams...)...)
	if len(diags) > 0 {
		t.Errorf("the strict validator refuses %v:\n%s", files, diags)
	}
}

// TestTopologyBroker converts a representative file to operator resources
// (fmt --to topology-operator), applies the resources themselves to a real
// node, and diffs both the resources and the original file against it:
// both in sync. export --format topology-operator from the node gives
// resources the strict validator accepts.
func TestTopologyBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	dir := t.TempDir()
	defs := writeTemp(t, "defs.yaml", topologyDefs)
	res := filepath.Join(dir, "resources.yaml")
	secrets := filepath.Join(dir, "resources-secrets.yaml")

	code, out, errOut := warren(t, "fmt", "--to", "topology-operator", "--cluster", "my-rabbit", "--secrets", "-o", res, defs)
	if code != exitOK {
		t.Fatalf("fmt --to topology-operator: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, "W180") {
		t.Errorf("the representative file has something the operator cannot express:\n%s", errOut)
	}
	if st, err := os.Stat(secrets); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the Secrets file: %v, %v", st, err)
	}
	data, _ := os.ReadFile(res)
	if strings.Contains(string(data), "app-password-1") {
		t.Errorf("the resources hold the password")
	}
	strictValid(t, res, secrets)

	if code, out, errOut := warren(t, "apply", "--yes", res, secrets); code != exitOK {
		t.Fatalf("apply of the resources: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := warren(t, "diff", res, secrets); code != exitOK {
		t.Errorf("diff of the resources after apply: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := warren(t, "diff", defs); code != exitOK {
		t.Errorf("diff of the original definitions after applying their resources: exit %d\n%s%s", code, out, errOut)
	}

	live := filepath.Join(dir, "live.yaml")
	code, out, errOut = warren(t, "export", "--format", "topology-operator", "--cluster", "my-rabbit", "--namespace", "mq", "--secrets", "-o", live)
	if code != exitOK {
		t.Fatalf("export --format topology-operator: exit %d\n%s%s", code, out, errOut)
	}
	strictValid(t, live, filepath.Join(dir, "live-secrets.yaml"))
	exported, _ := os.ReadFile(live)
	for _, want := range []string{"name: Incoming.Orders", "kind: OperatorPolicy", "kind: TopicPermission", "connections: 100"} {
		if !strings.Contains(string(exported), want) {
			t.Errorf("the export lacks %q", want)
		}
	}
}
