package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// A vhost's default queue type and limits, end to end on a real node: a
// queue the files give no type is created with its vhost's default, limits
// inside a vhost become its vhost-limits parameter, and the broker then
// matches the files.

const vhostDefs = `vhosts:
  - {name: qv, default_queue_type: quorum, limits: {max-queues: 10}}
  - {name: meta, metadata: {default_queue_type: quorum}}
  - {name: plain}
queues:
  - {name: untyped, vhost: qv}
  - {name: untyped-auto-delete, vhost: qv, auto_delete: true}
  - {name: typed, vhost: qv, type: classic}
  - {name: untyped, vhost: meta}
  - {name: untyped, vhost: plain}
`

// queueType reads a queue's type from the broker.
func queueType(t *testing.T, n *rabbitmqtest.Node, vhost, name string) string {
	t.Helper()
	var q struct{ Type string }
	if err := n.Do(context.Background(), "GET", "/api/queues/"+urlPath(vhost)+"/"+urlPath(name), nil, &q); err != nil {
		t.Fatalf("GET queue %s/%s: %v", vhost, name, err)
	}
	return q.Type
}

func urlPath(s string) string { return strings.ReplaceAll(s, "/", "%2F") }

// vhostQueueType reads a vhost's default queue type from the broker.
func vhostQueueType(t *testing.T, n *rabbitmqtest.Node, vhost string) string {
	t.Helper()
	var v struct {
		DefaultQueueType string `json:"default_queue_type"`
	}
	if err := n.Do(context.Background(), "GET", "/api/vhosts/"+urlPath(vhost), nil, &v); err != nil {
		t.Fatalf("GET vhost %s: %v", vhost, err)
	}
	return v.DefaultQueueType
}

func TestApplyDefaultQueueTypeAndVhostLimits(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	defs := writeTemp(t, "defs.yaml", vhostDefs)
	code, out, errOut := warren(t, "apply", "--yes", defs)
	if code != exitOK || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	mustInSync(t, defs)
	if code, out, _ := warren(t, "apply", "--yes", defs); code != exitOK || !strings.Contains(out, "No changes") {
		t.Fatalf("second apply: exit %d\n%s", code, out)
	}
	for _, c := range []struct{ vhost, queue, want string }{
		{"qv", "untyped", "quorum"},
		{"qv", "untyped-auto-delete", "classic"}, // a quorum queue cannot be auto-delete
		{"qv", "typed", "classic"},
		{"meta", "untyped", "quorum"},
		{"plain", "untyped", "classic"},
	} {
		if got := queueType(t, n, c.vhost, c.queue); got != c.want {
			t.Errorf("queue %s in vhost %s is %s, want %s", c.queue, c.vhost, got, c.want)
		}
	}
	for _, v := range []string{"qv", "meta"} {
		if got := vhostQueueType(t, n, v); got != "quorum" {
			t.Errorf("vhost %s has default queue type %q, want quorum", v, got)
		}
	}
	var limits struct{ Value map[string]int }
	if err := n.Do(context.Background(), "GET", "/api/parameters/vhost-limits/qv/limits", nil, &limits); err != nil || limits.Value["max-queues"] != 10 {
		t.Errorf("vhost-limits of qv: %v %v", limits, err)
	}

	// The export says it all again, where RabbitMQ's import reads it, and
	// diffs in sync.
	export := filepath.Join(t.TempDir(), "export.json")
	if code, _, errOut := warren(t, "export", "--only", "vhosts,queues,parameters", "-o", export); code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	data, _ := os.ReadFile(export)
	if !strings.Contains(string(data), `"metadata": {
        "default_queue_type": "quorum"`) {
		t.Errorf("the export does not carry the default queue type in metadata:\n%s", data)
	}
	mustInSync(t, export)

	// Changing an existing vhost's default queue type: a PUT from 3.11, a
	// refusal that says why before anything is touched on 3.10.
	changed := writeTemp(t, "changed.yaml", strings.Replace(vhostDefs, "{name: plain}", "{name: plain, default_queue_type: quorum, description: now quorum}", 1))
	const cannot = "cannot change an existing vhost's default queue type"
	code, out, _ = warren(t, "diff", changed)
	if code != exitDrift || strings.HasPrefix(n.Version, "3.10.") != strings.Contains(out, cannot) {
		t.Errorf("diff of a default queue type change on %s: exit %d, want %d and the note %q only on 3.10:\n%s", n.Version, code, exitDrift, cannot, out)
	}
	code, out, errOut = warren(t, "apply", "--yes", "--replace", changed)
	if strings.HasPrefix(n.Version, "3.10.") {
		if code != exitError || !strings.Contains(errOut, "sets a vhost's default queue type only when it creates the vhost") {
			t.Fatalf("changing the default queue type on %s: exit %d\n%s%s", n.Version, code, out, errOut)
		}
		if got := queueType(t, n, "plain", "untyped"); got != "classic" {
			t.Errorf("a refused apply replaced the queue: it is %s", got)
		}
		return
	}
	if code != exitOK {
		t.Fatalf("changing the default queue type on %s: exit %d\n%s%s", n.Version, code, out, errOut)
	}
	mustInSync(t, changed)
	if got := vhostQueueType(t, n, "plain"); got != "quorum" {
		t.Errorf("vhost plain has default queue type %q after the change", got)
	}
	if got := queueType(t, n, "plain", "untyped"); got != "quorum" {
		t.Errorf("the untyped queue of plain is %s after the change, want quorum (replaced)", got)
	}
}
