package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// warren migrate end to end: a real 3.10.8 node is the old cluster (a
// mirroring policy, a classic mirrored queue, a quorum queue and a plain
// classic queue with a policy of its own, messages waiting in each), a
// real 4.3.6 node with the federation plugin the new one. Messages are
// published and consumed over AMQP 0-9-1 to prove they moved.

const migrateOldDefs = `{
  "policies": [
    {"vhost": "/", "name": "ha-all", "pattern": "^mirrored\\.", "apply-to": "queues", "priority": 0,
     "definition": {"ha-mode": "all", "ha-sync-mode": "automatic"}},
    {"vhost": "/", "name": "capped", "pattern": "^plain\\.", "apply-to": "queues", "priority": 0,
     "definition": {"max-length": 1000}}
  ],
  "queues": [
    {"vhost": "/", "name": "mirrored.jobs", "durable": true, "auto_delete": false, "arguments": {"x-queue-mode": "lazy"}},
    {"vhost": "/", "name": "events", "durable": true, "auto_delete": false, "arguments": {"x-queue-type": "quorum"}},
    {"vhost": "/", "name": "plain.log", "durable": true, "auto_delete": false, "arguments": {}}
  ]
}`

var migrateQueues = []string{"events", "mirrored.jobs", "plain.log"}

// startPair starts a 3.10 and a 4.3 node at once, or skips (fails in CI)
// when either series cannot run here.
func startPair(t *testing.T) (old, nw *rabbitmqtest.Node) {
	t.Helper()
	for _, s := range []string{"3.10", "4.3"} {
		if err := rabbitmqtest.AvailableSeries(s); err != nil {
			rabbitmqtest.Unavailable(t, fmt.Errorf("RabbitMQ %s: %w", s, err))
		}
	}
	var wg sync.WaitGroup
	var oldErr, newErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		old, oldErr = rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: "3.10"})
	}()
	go func() {
		defer wg.Done()
		nw, newErr = rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: "4.3",
			Plugins: []string{"rabbitmq_federation", "rabbitmq_federation_management"}})
	}()
	wg.Wait()
	t.Cleanup(func() {
		if old != nil {
			old.Stop()
		}
		if nw != nil {
			nw.Stop()
		}
	})
	if oldErr != nil || newErr != nil {
		t.Fatalf("starting the nodes: 3.10: %v; 4.3: %v", oldErr, newErr)
	}
	t.Logf("old: RabbitMQ %s at %s; new: RabbitMQ %s at %s", old.Version, old.URL, nw.Version, nw.URL)
	// Both sides through the environment, each with its own user.
	t.Setenv("WARREN_FROM_URL", old.URL)
	t.Setenv("WARREN_FROM_USERNAME", old.Admin)
	t.Setenv("WARREN_FROM_PASSWORD", old.AdminPassword)
	t.Setenv("WARREN_TO_URL", nw.URL)
	t.Setenv("WARREN_TO_USERNAME", nw.Admin)
	t.Setenv("WARREN_TO_PASSWORD", nw.AdminPassword)
	return old, nw
}

func amqpURL(n *rabbitmqtest.Node) string {
	return fmt.Sprintf("amqp://%s:%s@127.0.0.1:%d/%%2F", url.PathEscape(n.Admin), url.PathEscape(n.AdminPassword), n.AMQPPort)
}

// amqpChannel opens a channel to n over AMQP 0-9-1; close closes its
// connection.
func amqpChannel(t *testing.T, n *rabbitmqtest.Node) (ch *amqp.Channel, close func()) {
	t.Helper()
	conn, err := amqp.Dial(amqpURL(n))
	if err != nil {
		t.Fatalf("AMQP to %s: %v", n.Name, err)
	}
	if ch, err = conn.Channel(); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	return ch, func() { conn.Close() }
}

// publishAMQP sends messages to a queue through the default exchange, with
// publisher confirms, persistent.
func publishAMQP(t *testing.T, n *rabbitmqtest.Node, queue string, bodies []string) {
	t.Helper()
	ch, closeConn := amqpChannel(t, n)
	defer closeConn()
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, b := range bodies {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false,
			amqp.Publishing{Body: []byte(b), DeliveryMode: amqp.Persistent})
		if err != nil {
			t.Fatalf("publishing to %s: %v", queue, err)
		}
		if ok, err := dc.WaitContext(ctx); !ok || err != nil {
			t.Fatalf("publish to %s not confirmed: %v", queue, err)
		}
	}
}

// consume reads want messages from a queue on n, acking each, within the
// timeout, and returns their bodies.
func consume(t *testing.T, n *rabbitmqtest.Node, queue string, want int, timeout time.Duration) []string {
	t.Helper()
	ch, closeConn := amqpChannel(t, n)
	defer closeConn()
	if err := ch.Qos(10, 0, false); err != nil {
		t.Fatal(err)
	}
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatalf("consuming from %s: %v", queue, err)
	}
	var got []string
	deadline := time.After(timeout)
	for len(got) < want {
		select {
		case d := <-deliveries:
			got = append(got, string(d.Body))
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatalf("queue %s on the new cluster: %d of %d messages after %s: %q", queue, len(got), want, timeout, got)
		}
	}
	return got
}

func TestMigrate310To40(t *testing.T) {
	old, nw := startPair(t)
	ctx := context.Background()
	if err := old.PostDefinitions(ctx, []byte(migrateOldDefs)); err != nil {
		t.Fatal(err)
	}
	waiting := map[string][]string{}
	for _, q := range migrateQueues {
		for i := range 20 {
			waiting[q] = append(waiting[q], fmt.Sprintf("%s-%d", q, i))
		}
		publishAMQP(t, old, q, waiting[q])
	}
	t.Setenv("OLD_URI_DEFAULT", amqpURL(old))
	upstream := []string{"--upstream-uri", "env:OLD_URI_{vhost}"}
	dir := t.TempDir()
	planFile, defsFile := filepath.Join(dir, "migrate.json"), filepath.Join(dir, "new.json")

	code, out, errOut := warren(t, append([]string{"migrate", "plan", "-o", planFile, "--write-definitions", defsFile}, upstream...)...)
	if code != exitOK {
		t.Fatalf("migrate plan: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`queue "mirrored.jobs" on vhost "/": classic → quorum (mirrored by policy "ha-all"`,
		`argument x-queue-mode lazy dropped`,
		`policy "ha-all" on vhost "/": dropped`,
		`policy "warren-migrate.capped" on vhost "/": added: federates plain.log`,
		`+ parameter federation-upstream "warren-migrate" on vhost "/"`,
		"Old cluster (" + old.URL + "): nothing changes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate plan does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, old.AdminPassword) {
		t.Errorf("migrate plan printed the old cluster's password")
	}
	saved, _ := os.ReadFile(planFile)
	if strings.Contains(string(saved), old.AdminPassword) {
		t.Errorf("the saved plan holds the old cluster's password")
	}

	// Before apply: nothing moved, status says so.
	if code, out, errOut := warren(t, "migrate", "status"); code != exitDrift || !strings.Contains(out, "Not drained yet") {
		t.Fatalf("migrate status before apply: exit %d, want 2\n%s%s", code, out, errOut)
	}

	// A saved plan is refused when the old cluster changed since.
	if err := old.Do(ctx, "PUT", "/api/queues/%2F/late", map[string]any{"durable": true}, nil); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := warren(t, "migrate", "apply", "--yes", planFile); code != exitError || !strings.Contains(errOut, "changed since") {
		t.Fatalf("migrate apply of a stale plan: exit %d, want 1\n%s%s", code, out, errOut)
	}
	if err := old.Do(ctx, "DELETE", "/api/queues/%2F/late", nil, nil); err != nil {
		t.Fatal(err)
	}

	code, out, errOut = warren(t, "migrate", "apply", "--yes", planFile)
	if code != exitOK || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("migrate apply: exit %d\n%s%s", code, out, errOut)
	}
	for q, want := range map[string]string{"mirrored.jobs": "quorum", "events": "quorum", "plain.log": "classic"} {
		if got := queueType(t, nw, "/", q); got != want {
			t.Errorf("queue %s on the new cluster is %s, want %s", q, got, want)
		}
	}

	// While it drains, plain.log has the federation policy, which carries
	// the keys of the policy it shadows (only one policy applies).
	var pl struct {
		Policy                    string
		EffectivePolicyDefinition map[string]any `json:"effective_policy_definition"`
	}
	for deadline := time.Now().Add(20 * time.Second); pl.Policy == "" && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if err := nw.Do(ctx, "GET", "/api/queues/%2F/plain.log", nil, &pl); err != nil { // the queue's statistics say it
			t.Fatal(err)
		}
	}
	if pl.Policy != "warren-migrate.capped" || fmt.Sprint(pl.EffectivePolicyDefinition["max-length"]) != "1000" ||
		pl.EffectivePolicyDefinition["federation-upstream"] != "warren-migrate" {
		t.Errorf("plain.log on the new cluster: policy %q with %v, want warren-migrate.capped with max-length 1000 and the upstream", pl.Policy, pl.EffectivePolicyDefinition)
	}

	// A consumer on the new cluster receives every message that waited on
	// the old one.
	for _, q := range migrateQueues {
		got := consume(t, nw, q, len(waiting[q]), 90*time.Second)
		slices.Sort(got)
		want := slices.Clone(waiting[q])
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("queue %s: received %q, want %q", q, got, want)
		}
	}

	// The old side drains (its statistics lag a few seconds).
	var status struct {
		Drained bool
		Queues  []struct {
			Queue       string
			OldMessages int64 `json:"old_messages"`
			Link        string
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, out, errOut = warren(t, "migrate", "status", "--format", "json")
		if code == exitOK {
			break
		}
		if code != exitDrift || time.Now().After(deadline) {
			t.Fatalf("migrate status: exit %d, want 0 (drained)\n%s%s", code, out, errOut)
		}
		time.Sleep(time.Second)
	}
	if err := json.Unmarshal([]byte(out), &status); err != nil || !status.Drained || len(status.Queues) != 3 {
		t.Fatalf("migrate status --format json: %v\n%s", err, out)
	}
	for _, q := range status.Queues {
		if q.Link != "running" {
			t.Errorf("queue %s: federation link %q, want running", q.Queue, q.Link)
		}
	}
	if code, out, _ := warren(t, "migrate", "status"); code != exitOK || !strings.Contains(out, "Drained") || !strings.Contains(out, "mirrored.jobs") {
		t.Errorf("migrate status (text): exit %d\n%s", code, out)
	}
	// The same through an inventory's broker names: URLs, users and
	// passwords ({env}, {file}) come from the entries.
	invDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(invDir, "new.password"), []byte(nw.AdminPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	inv := writeTemp(t, "inventory.yaml", fmt.Sprintf(`brokers:
  - {name: blue, urls: [%q], username: %q, password: {env: BLUE_PASSWORD}, files: [defs]}
  - {name: green, urls: [%q], username: %q, password: {file: %q}, files: [defs]}
`, old.URL, old.Admin, nw.URL, nw.Admin, filepath.Join(invDir, "new.password")))
	t.Setenv("BLUE_PASSWORD", old.AdminPassword)
	for _, v := range []string{"WARREN_FROM_URL", "WARREN_FROM_USERNAME", "WARREN_FROM_PASSWORD", "WARREN_TO_URL", "WARREN_TO_USERNAME", "WARREN_TO_PASSWORD"} {
		t.Setenv(v, "")
	}
	if code, out, errOut := warren(t, "migrate", "status", "--inventory", inv, "--from", "blue", "--to", "green"); code != exitOK || !strings.Contains(out, "Drained") {
		t.Errorf("migrate status --from blue --to green (inventory): exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := warren(t, "migrate", "status", "--from", "blue", "--to", "green"); code != exitError || !strings.Contains(errOut, "no inventory names brokers") {
		t.Errorf("migrate status --from blue without an inventory: exit %d\n%s", code, errOut)
	}
	t.Setenv("WARREN_FROM_URL", old.URL)
	t.Setenv("WARREN_FROM_USERNAME", old.Admin)
	t.Setenv("WARREN_FROM_PASSWORD", old.AdminPassword)
	t.Setenv("WARREN_TO_URL", nw.URL)
	t.Setenv("WARREN_TO_USERNAME", nw.Admin)
	t.Setenv("WARREN_TO_PASSWORD", nw.AdminPassword)

	// A policy of the user's whose name only looks like migrate's stays.
	if err := nw.Do(ctx, "PUT", "/api/policies/%2F/warren-migrate.mine", map[string]any{"pattern": "^mine$", "apply-to": "queues",
		"definition": map[string]any{"max-length": 5}}, nil); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = warren(t, "migrate", "finish", "--yes")
	if code != exitOK || !strings.Contains(out, `- policy "warren-migrate.capped" on vhost "/"`) {
		t.Fatalf("migrate finish: exit %d\n%s%s", code, out, errOut)
	}
	var policies []struct{ Name string }
	if err := nw.Do(ctx, "GET", "/api/policies/%2F", nil, &policies); err != nil {
		t.Fatal(err)
	}
	var params []any
	if err := nw.Do(ctx, "GET", "/api/parameters/federation-upstream", nil, &params); err != nil {
		t.Fatal(err)
	}
	if len(policies) != 2 || policies[0].Name != "capped" || policies[1].Name != "warren-migrate.mine" || len(params) != 0 {
		t.Errorf("after finish: policies %v and %d federation upstreams, want capped and warren-migrate.mine, and none", policies, len(params))
	}
	if code, out, _ := warren(t, "migrate", "finish", "--yes"); code != exitOK || !strings.Contains(out, "No federation left") {
		t.Errorf("second migrate finish: exit %d\n%s", code, out)
	}

	// The new cluster matches the definitions migrate plan produced. They
	// leave out the old cluster's default guest, and migrate leaves the
	// new cluster's own guest alone, as --keep-guest does.
	t.Setenv("WARREN_URL", nw.URL)
	t.Setenv("WARREN_USERNAME", nw.Admin)
	t.Setenv("WARREN_PASSWORD", nw.AdminPassword)
	mustInSync(t, "--keep-guest", defsFile)
}

// What cannot be moved on its own stops migrate plan with a report that
// points into the export, and leaves the new cluster untouched; finish
// refuses while the old queues hold messages.
func TestMigrateRefuses(t *testing.T) {
	old, nw := startPair(t)
	ctx := context.Background()
	export := writeTemp(t, "old.json", `{
  "vhosts": [{"name": "/"}],
  "policies": [{"vhost": "/", "name": "ha-all", "pattern": ".*", "apply-to": "all", "definition": {"ha-mode": "all"}}],
  "queues": [
    {"vhost": "/", "name": "transient", "durable": false, "auto_delete": false, "arguments": {}},
    {"vhost": "/", "name": "kept", "durable": true, "auto_delete": false, "arguments": {}}
  ]
}`)
	code, out, errOut := warren(t, "migrate", "plan", "--from-file", export, "--upstream-uri", "amqp://127.0.0.1:5672")
	if code != exitError || !strings.Contains(out, export+":5:") || !strings.Contains(out, "[E100]") ||
		!strings.Contains(errOut, "cannot be migrated automatically") {
		t.Fatalf("migrate plan of a non-durable mirrored queue: exit %d, want 1 and E100 at its place\n%s%s", code, out, errOut)
	}
	if code, out, errOut := warren(t, "migrate", "apply", "--yes", "--from-file", export, "--upstream-uri", "amqp://127.0.0.1:5672"); code != exitError {
		t.Fatalf("migrate apply: exit %d, want 1\n%s%s", code, out, errOut)
	}
	var queues []any
	if err := nw.Do(ctx, "GET", "/api/queues", nil, &queues); err != nil {
		t.Fatal(err)
	}
	if len(queues) != 0 {
		t.Errorf("the new cluster has %d queues after a refused migration, want none", len(queues))
	}

	// finish refuses while messages wait on the old side, naming them.
	if err := old.PostDefinitions(ctx, []byte(migrateOldDefs)); err != nil {
		t.Fatal(err)
	}
	publishAMQP(t, old, "events", []string{"a", "b"})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var q struct{ Messages int64 }
		if err := old.Do(ctx, "GET", "/api/queues/%2F/events", nil, &q); err != nil {
			t.Fatal(err)
		}
		if q.Messages == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the old node's statistics show %d messages in events, want 2", q.Messages)
		}
	}
	code, out, errOut = warren(t, "migrate", "finish", "--yes")
	if code != exitError || !strings.Contains(errOut, `queue "events" on vhost "/": 2 messages`) {
		t.Fatalf("migrate finish with messages left: exit %d, want 1 naming the queue\n%s%s", code, out, errOut)
	}
}

// TestMigrateSameCluster: --from and --to naming one cluster (two URLs of
// it, or the same URL) is refused before anything is read or changed:
// migrate changes only the new cluster, and here it is the old one.
func TestMigrateSameCluster(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	for _, side := range []string{"FROM", "TO"} {
		t.Setenv("WARREN_"+side+"_URL", n.URL)
		t.Setenv("WARREN_"+side+"_USERNAME", n.Admin)
		t.Setenv("WARREN_"+side+"_PASSWORD", n.AdminPassword)
	}
	for _, args := range [][]string{
		{"migrate", "plan", "--upstream-uri", "amqp://127.0.0.1:5672"},
		{"migrate", "apply", "--yes", "--upstream-uri", "amqp://127.0.0.1:5672"},
		{"migrate", "status"},
		{"migrate", "finish", "--yes"},
	} {
		code, out, errOut := warren(t, args...)
		if code != exitError || !strings.Contains(errOut, "--from and --to are the same cluster") {
			t.Errorf("warren %s with --from = --to: exit %d, want 1 and a refusal\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	var policies []struct{ Name string }
	if err := n.Do(context.Background(), "GET", "/api/policies", nil, &policies); err != nil {
		t.Fatal(err)
	}
	for _, p := range policies {
		if strings.HasPrefix(p.Name, "warren-migrate") {
			t.Errorf("migrate apply with --from = --to changed the old cluster: policy %q", p.Name)
		}
	}
}

// queueType reads a queue's type from the broker.
func queueType(t *testing.T, n *rabbitmqtest.Node, vhost, name string) string {
	t.Helper()
	var q struct{ Type string }
	if err := n.Do(context.Background(), "GET", "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(name), nil, &q); err != nil {
		t.Fatalf("GET queue %s/%s: %v", vhost, name, err)
	}
	return q.Type
}
