package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// The federation policy migrate adds goes above the new cluster's own
// policies that match the queues it drains, not only above the old
// cluster's: a new cluster with a policy of its own on those queues (as
// Amazon MQ's platform has) would otherwise keep the queues from the
// federation, and their messages on the old cluster.
func TestMigrateFederationAboveNewPolicies(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	ctx := context.Background()
	nw, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{Plugins: []string{"rabbitmq_federation", "rabbitmq_federation_management"}})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Stop()
	t.Logf("new: RabbitMQ %s at %s", nw.Version, nw.URL)
	t.Setenv("WARREN_TO_URL", nw.URL)
	t.Setenv("WARREN_TO_USERNAME", nw.Admin)
	t.Setenv("WARREN_TO_PASSWORD", nw.AdminPassword)
	for _, s := range []struct{ path, body string }{
		{"/api/vhosts/shop", `{}`},
		{"/api/policies/shop/own", `{"pattern": "^orders", "apply-to": "queues", "priority": 5, "definition": {"max-length": 5}}`},
	} {
		var body map[string]any
		json.Unmarshal([]byte(s.body), &body)
		if err := nw.Do(ctx, "PUT", s.path, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	oldFile := writeTemp(t, "old.json", `{
  "vhosts": [{"name": "shop"}],
  "policies": [{"vhost": "shop", "name": "capped", "pattern": "^orders$", "apply-to": "queues", "priority": 1, "definition": {"max-length": 1000}}],
  "queues": [{"vhost": "shop", "name": "orders", "durable": true, "auto_delete": false, "arguments": {}}]
}`)
	args := []string{"migrate", "apply", "--yes", "--from-file", oldFile, "--upstream-uri", "amqp://127.0.0.1:1"}
	if code, out, errOut := warren(t, args...); code != exitOK {
		t.Fatalf("migrate apply: exit %d\n%s%s", code, out, errOut)
	}
	var fp struct{ Priority int }
	if err := nw.Do(ctx, "GET", "/api/policies/shop/warren-migrate.capped", nil, &fp); err != nil || fp.Priority != 6 {
		t.Errorf("the federation policy: priority %d (%v), want 6: above the new cluster's own policy (5) on the queue", fp.Priority, err)
	}
	var q struct{ Policy string }
	for deadline := time.Now().Add(20 * time.Second); q.Policy != "warren-migrate.capped" && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if err := nw.Do(ctx, "GET", "/api/queues/shop/orders", nil, &q); err != nil {
			t.Fatal(err)
		}
	}
	if q.Policy != "warren-migrate.capped" {
		t.Errorf("queue orders on the new cluster has policy %q, want warren-migrate.capped: the federation does not drain it", q.Policy)
	}
	// Applied twice, nothing changes: the federation's own policy and the
	// moved one do not raise the priority again.
	code, out, errOut := warren(t, args...)
	if code != exitOK || !strings.Contains(out+errOut, "No changes") {
		t.Errorf("migrate apply again: exit %d\n%s%s", code, out, errOut)
	}
}
