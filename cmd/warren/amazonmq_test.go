package main

import (
	"context"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// amazonMQLike sets a node up the way Amazon MQ leaves a RabbitMQ broker:
// no guest, one administrator, AWS's default policy and limits on /.
func amazonMQLike(t *testing.T) *rabbitmqtest.Node {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	for _, step := range []struct {
		method, path string
		body         any
	}{
		{"DELETE", "/api/users/guest", nil},
		{"PUT", "/api/policies/%2F/AWS-DEFAULT-POLICY-SINGLE-INSTANCE", map[string]any{"pattern": ".*", "apply-to": "all", "priority": 0, "definition": map[string]any{"queue-mode": "lazy"}}},
		{"PUT", "/api/vhost-limits/%2F/max-connections", map[string]any{"value": 1000}},
	} {
		if err := n.Do(ctx, step.method, step.path, step.body, nil); err != nil {
			t.Fatal(err)
		}
	}
	useNode(t, n)
	t.Setenv("APP_PASSWORD", "app-password-1")
	return n
}

const amazonMQDefs = `users:
  - {name: warren-harness, password: {env: WARREN_PASSWORD}, tags: [administrator]}
  - {name: app, password: {env: APP_PASSWORD}, tags: [monitoring]}
vhosts:
  - {name: /, description: Default virtual host}
  - {name: app}
permissions:
  - {user: warren-harness, vhost: /, configure: ".*", write: ".*", read: ".*"}
  - {user: app, vhost: app, configure: ".*", write: ".*", read: ".*"}
policies:
  - {name: app-ttl, vhost: app, pattern: ".*", priority: 2, definition: {message-ttl: 1000}}
parameters: []
`

func TestAmazonMQRabbitMQ(t *testing.T) {
	n := amazonMQLike(t)
	defs := writeTemp(t, "defs.yaml", amazonMQDefs)
	// The target's rules: no guest, three tags.
	bad := writeTemp(t, "bad.yaml", "users:\n  - {name: guest, password: {env: APP_PASSWORD}, tags: [administrator]}\n  - {name: x, password: {env: APP_PASSWORD}, tags: [policymaker]}\n")
	if code, out, _ := warren(t, "validate", "--target", "amazonmq-rabbitmq", bad); code != exitError || !strings.Contains(out, "E051") || !strings.Contains(out, "E052") {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
	if code, _, errOut := warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", bad); code != exitError || !strings.Contains(errOut, "nothing was compared") {
		t.Fatalf("apply of invalid files: exit %d\n%s", code, errOut)
	}
	// Pruning policies and parameters leaves Amazon MQ's own alone.
	code, out, errOut := warren(t, "apply", "--yes", "--prune", "--target", "amazonmq-rabbitmq", defs)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "AWS-DEFAULT") || strings.Contains(out, `parameter vhost-limits "limits" on vhost "/"`) {
		t.Errorf("the plan touches what Amazon MQ owns:\n%s", out)
	}
	var policies []struct{ Name string }
	n.Do(context.Background(), "GET", "/api/policies/%2F", nil, &policies)
	if len(policies) != 1 || policies[0].Name != "AWS-DEFAULT-POLICY-SINGLE-INSTANCE" {
		t.Errorf("Amazon MQ's policy: %+v", policies)
	}
	if code, out, _ := warren(t, "diff", "--prune", "--target", "amazonmq-rabbitmq", defs); code != exitOK {
		t.Errorf("second diff: exit %d\n%s", code, out)
	}
	// Without the target, the same files would prune them: the target is
	// what protects them.
	if code, out, _ := warren(t, "diff", "--prune", defs); code != exitDrift || !strings.Contains(out, `- policy "AWS-DEFAULT-POLICY-SINGLE-INSTANCE"`) {
		t.Errorf("diff without the target: exit %d\n%s", code, out)
	}
	// Export leaves them out too.
	if code, out, _ := warren(t, "export", "--target", "amazonmq-rabbitmq"); code != exitOK || strings.Contains(out, "AWS-DEFAULT") || strings.Contains(out, "vhost-limits") {
		t.Errorf("export: exit %d\n%s", code, out)
	}
}
