package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// Apply against a real node. The scenarios that read as a user's commands
// (from empty, every kind of change, replace, guest removal, a prune that
// keeps an administrator, a broker's rejection, saved plans, --yes) are
// scripts in testdata/broker.

const applyDefs = `users:
  - {name: ops, password: {env: OPS_PASSWORD}, tags: [administrator]}
  - {name: app, password: {env: APP_PASSWORD}, tags: [monitoring], limits: {max-connections: 20}}
vhosts:
  - {name: orders, description: order intake, tags: [prod]}
  - {name: "with space/and slash"}
permissions:
  - {user: app, vhost: orders, configure: "^app\\.", write: ".*", read: ".*"}
  - {user: ops, vhost: orders, configure: ".*", write: ".*", read: ".*"}
  - {user: app, vhost: "with space/and slash", configure: "", write: "", read: ".*"}
topic_permissions:
  - {user: app, vhost: orders, exchange: amq.topic, write: "^orders\\.", read: ".*"}
parameters:
  - {vhost: orders, component: vhost-limits, name: limits, value: {max-queues: 50}}
global_parameters:
  - {name: cluster_name, value: warren-apply-test}
policies:
  - {name: ttl, vhost: orders, pattern: "^orders\\.", apply-to: queues, priority: 1, definition: {message-ttl: 60000}}
exchanges:
  - {name: orders.events, vhost: orders, type: topic}
queues:
  - {name: orders.incoming, vhost: orders, arguments: {x-queue-type: quorum}}
  - {name: orders.audit, vhost: orders, arguments: {x-max-length: 1000}}
bindings:
  - {vhost: orders, source: orders.events, destination_type: queue, destination: orders.incoming, routing_key: "order.#"}
`

func applyEnv(t *testing.T, n *rabbitmqtest.Node) {
	useNode(t, n)
	t.Setenv("OPS_PASSWORD", "ops-password-1")
	t.Setenv("APP_PASSWORD", "app-password-1")
}

// mustInSync fails unless warren diff reports no changes.
func mustInSync(t *testing.T, args ...string) {
	t.Helper()
	if code, out, errOut := warren(t, append([]string{"diff"}, args...)...); code != exitOK {
		t.Fatalf("not in sync after apply: exit %d\n%s%s", code, out, errOut)
	}
}

// TestBoot starts a blank node from warren boot's output.
func TestBoot(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	t.Setenv("OPS_PASSWORD", "ops-password-1")
	t.Setenv("APP_PASSWORD", "app-password-1")
	dir := t.TempDir()
	// The vhost's default queue type and limits must survive the boot-time
	// import: the queue that names no type is a quorum queue.
	defs := writeTemp(t, "defs.yaml", "users:\n  - {name: ops, password: {env: OPS_PASSWORD}, tags: [administrator]}\n  - {name: app, password: {env: APP_PASSWORD}, tags: []}\nvhosts:\n  - {name: orders, default_queue_type: quorum, limits: {max-queues: 10}}\npermissions:\n  - {user: app, vhost: orders, configure: \".*\", write: \".*\", read: \".*\"}\nqueues:\n  - {name: q, vhost: orders}\n")
	// The node sees the file in its own directory (a 4.0 node runs in a
	// chroot): --node-path says where, as a user would.
	if code, out, errOut := warren(t, "boot", defs, "--out", dir, "--hash", "sha512", "--node-path", "{{dir}}/definitions.json"); code != exitOK {
		t.Fatalf("boot: exit %d\n%s%s", code, out, errOut)
	}
	if st, _ := os.Stat(filepath.Join(dir, "definitions.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("definitions.json is %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(filepath.Join(dir, "definitions.json"))
	if strings.Contains(string(data), "ops-password-1") || !strings.Contains(string(data), "rabbit_password_hashing_sha512") {
		t.Fatalf("boot output:\n%s", data)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, "10-warren-definitions.conf"))
	var lines []string
	for _, l := range strings.Split(string(conf), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if !slices.Contains(lines, "definitions.local.path = {{dir}}/definitions.json") {
		t.Fatalf("the conf.d fragment does not name --node-path:\n%s", conf)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{
		Config: lines, NoAdmin: true, Files: map[string]string{"definitions.json": filepath.Join(dir, "definitions.json")}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	t.Logf("on RabbitMQ %s", n.Version)
	ctx := context.Background()
	if err := n.Call(ctx, "guest", "guest", "GET", "/api/whoami", nil, nil); err == nil {
		t.Error("a node booted from warren boot has a guest user")
	}
	// The management API answers before the boot-time import has finished
	// (the vhost may still be starting): wait for the definitions.
	var users []struct{ Name string }
	var vhosts, perms, queues []map[string]any
	for range 300 {
		users, vhosts, perms, queues = nil, nil, nil, nil
		n.Call(ctx, "ops", "ops-password-1", "GET", "/api/users", nil, &users)
		n.Call(ctx, "ops", "ops-password-1", "GET", "/api/vhosts", nil, &vhosts)
		n.Call(ctx, "ops", "ops-password-1", "GET", "/api/permissions", nil, &perms)
		n.Call(ctx, "ops", "ops-password-1", "GET", "/api/queues", nil, &queues)
		if len(perms) == 1 && len(queues) == 1 {
			break
		}
		sleep()
	}
	if len(users) == 0 {
		t.Fatal("the files' administrator cannot log in")
	}
	if len(users) != 2 || len(vhosts) != 1 || vhosts[0]["name"] != "orders" || len(perms) != 1 || len(queues) != 1 {
		t.Errorf("booted node: users %v, vhosts %v, permissions %v, queues %v", users, vhosts, perms, queues)
	}
	if len(vhosts) == 1 && vhosts[0]["default_queue_type"] != "quorum" {
		t.Errorf("the booted vhost's default queue type is %v, want quorum", vhosts[0]["default_queue_type"])
	}
	if len(queues) == 1 && queues[0]["type"] != "quorum" {
		t.Errorf("the queue that names no type is %v on the booted node, want quorum (its vhost's default)", queues[0]["type"])
	}
	var limits struct{ Value map[string]int }
	if err := n.Call(ctx, "ops", "ops-password-1", "GET", "/api/parameters/vhost-limits/orders/limits", nil, &limits); err != nil || limits.Value["max-queues"] != 10 {
		t.Errorf("the booted vhost's limits: %v %v", limits, err)
	}
	// And warren diff of the files against it: in sync.
	t.Setenv("WARREN_URL", n.URL)
	t.Setenv("WARREN_USERNAME", "ops")
	t.Setenv("WARREN_PASSWORD", "ops-password-1")
	mustInSync(t, defs)
	// No administrator or no vhost: refused unless --force.
	noAdmin := writeTemp(t, "noadmin.yaml", "users:\n  - {name: app, password: {env: APP_PASSWORD}, tags: []}\nvhosts:\n  - {name: v}\n")
	if code, _, errOut := warren(t, "boot", noAdmin, "--out", t.TempDir()); code != exitError || !strings.Contains(errOut, "no user with the administrator tag") {
		t.Errorf("boot without an administrator: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := warren(t, "boot", "--force", noAdmin, "--out", t.TempDir()); code != exitOK || !strings.Contains(errOut, "warning") {
		t.Errorf("boot --force: exit %d\n%s", code, errOut)
	}
}

func TestApplyWaitGivesUp(t *testing.T) {
	t.Setenv("WARREN_URL", "http://127.0.0.1:1")
	t.Setenv("WARREN_USERNAME", "ops")
	t.Setenv("WARREN_PASSWORD", "x")
	code, _, errOut := warren(t, "apply", "--yes", "--wait", "2s", writeTemp(t, "defs.yaml", "vhosts:\n  - {name: v}\n"))
	if code != exitError || !strings.Contains(errOut, "the broker was not ready within 2s") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

// boot says every secret it cannot read, at once and each at its place,
// and leaves no directory behind.
func TestBootSaysEveryUnreadableSecret(t *testing.T) {
	t.Setenv("NO_SUCH_ONE", "")
	t.Setenv("NO_SUCH_TWO", "")
	t.Setenv("NO_SUCH_URI", "")
	defs := writeTemp(t, "defs.yaml", "users:\n  - {name: ops, password: {env: NO_SUCH_ONE}, tags: [administrator]}\n  - {name: app, password: {env: NO_SUCH_TWO}, tags: []}\n"+
		"vhosts:\n  - {name: orders}\nglobal_parameters:\n  - {name: upstream, value: {uri: {env: NO_SUCH_URI}}}\n")
	for _, format := range []string{"files", "kubernetes"} {
		out := filepath.Join(t.TempDir(), "boot")
		code, _, errOut := warren(t, "boot", defs, "--out", out, "--format", format)
		if code != exitError {
			t.Errorf("%s: exit %d, want %d\n%s", format, code, exitError, errOut)
		}
		for _, want := range []string{"defs.yaml:2:", "NO_SUCH_ONE", "defs.yaml:3:", "NO_SUCH_TWO", "defs.yaml:7:", "NO_SUCH_URI"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: %q not said:\n%s", format, want, errOut)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: a failed boot left %s (%v)", format, out, err)
		}
	}
}
