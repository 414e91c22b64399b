package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

const amqAdmin, amqAdminPassword = "amq-admin", "amq-admin-password-1"

// amazonMQ42Node starts a RabbitMQ node of the series configured as
// Amazon MQ configures its 4.2 brokers: operator policies locked
// (management.restrictions.operator_policy_changes.disabled), quorum as
// the default queue type, and, imported at boot, one administrator, the
// protected system user, the default policy of a single instance and the
// AWS-managed operator policy on / (imported before the lock can refuse
// it: the lock is the management API's, not the import's).
func amazonMQ42Node(t *testing.T, series string) *rabbitmqtest.Node {
	t.Helper()
	if err := rabbitmqtest.AvailableSeries(series); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	hash := func(password string) string {
		h, err := definitions.HashPassword(password, definitions.HashSHA256, []byte{1, 2, 3, 4})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	defs := map[string]any{
		"users": []any{
			map[string]any{"name": amqAdmin, "password_hash": hash(amqAdminPassword), "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "administrator"},
			map[string]any{"name": "monitoring-AWS-OWNED-DO-NOT-DELETE", "password_hash": hash("aws-monitoring-1"), "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "monitoring,protected"},
		},
		"vhosts": []any{map[string]any{"name": "/"}},
		"permissions": []any{
			map[string]any{"user": amqAdmin, "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
			map[string]any{"user": "monitoring-AWS-OWNED-DO-NOT-DELETE", "vhost": "/", "configure": "", "write": "", "read": ".*"},
		},
		"policies": []any{map[string]any{"vhost": "/", "name": "AWS-DEFAULT-POLICY-SINGLE-INSTANCE", "pattern": ".*", "apply-to": "all", "priority": 0,
			"definition": map[string]any{"queue-mode": "lazy"}}},
		"parameters": []any{map[string]any{"vhost": "/", "component": "operator_policy", "name": "default_operator_policy_AWS_managed",
			"value": map[string]any{"pattern": ".*", "priority": 0, "apply-to": "classic_queues", "definition": map[string]any{"queue-version": 2}}}},
	}
	data, _ := json.Marshal(defs)
	file := filepath.Join(t.TempDir(), "definitions.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: series, NoAdmin: true,
		Files: map[string]string{"definitions.json": file},
		Config: []string{
			"definitions.import_backend = local_filesystem",
			"definitions.local.path = {{dir}}/definitions.json",
			"management.restrictions.operator_policy_changes.disabled = true",
			"default_queue_type = quorum",
			"cluster_queue_limit = 100",
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	n.Admin, n.AdminPassword = amqAdmin, amqAdminPassword
	// The management API answers before the boot-time import is done.
	ctx := context.Background()
	for range 300 {
		var ops []any
		if n.Call(ctx, amqAdmin, amqAdminPassword, "GET", "/api/operator-policies", nil, &ops) == nil && len(ops) == 1 {
			break
		}
		sleep()
	}
	return n
}

// amazonMQ42Defs are files for an Amazon MQ broker: queues that name no
// type, policies and parameters managed (so pruned), nothing of Amazon
// MQ's own.
const amazonMQ42Defs = `users:
  - {name: amq-admin, password: {env: WARREN_PASSWORD}, tags: [administrator]}
  - {name: app, password: {env: APP_PASSWORD}, tags: [monitoring]}
vhosts:
  - {name: /}
  - {name: app}
permissions:
  - {user: amq-admin, vhost: /, configure: ".*", write: ".*", read: ".*"}
  - {user: app, vhost: app, configure: ".*", write: ".*", read: ".*"}
policies:
  - {name: app-ttl, vhost: app, pattern: ".*", priority: 2, definition: {message-ttl: 1000}}
parameters: []
queues:
  - {name: orders, vhost: app}
  - {name: root, vhost: /}
  - {name: scratch, vhost: app, arguments: {x-queue-type: classic}}
`

// TestAmazonMQ42 runs the amazonmq-rabbitmq target against a RabbitMQ
// 4.3.6 node configured as Amazon MQ configures its 4.2 brokers
// (amazonMQ42Node): what Amazon MQ owns is neither drift nor pruned,
// queues that name no type are compared as the broker's default type
// (quorum), and what the broker locks or Amazon MQ does not support is
// refused at its place in the files before anything changes. The queue
// that names its type keeps it.
func TestAmazonMQ42(t *testing.T) {
	n := amazonMQ42Node(t, "4.3")
	useNode(t, n)
	ctx := context.Background()
	// The node behaves as an Amazon MQ 4.2 broker does.
	var ov struct {
		DefaultQueueType string `json:"default_queue_type"`
		OpPolicies       *bool  `json:"is_op_policy_updating_enabled"`
	}
	if err := n.Do(ctx, "GET", "/api/overview?disable_stats=true", nil, &ov); err != nil || ov.DefaultQueueType != "quorum" || ov.OpPolicies == nil || *ov.OpPolicies {
		t.Fatalf("overview: %+v %v%s", ov, err, n.Mismatch())
	}
	for _, m := range []string{"GET", "DELETE"} {
		if err := n.Do(ctx, m, "/api/operator-policies/%2F/default_operator_policy_AWS_managed", nil, nil); err == nil || !strings.Contains(err.Error(), "405") {
			t.Fatalf("%s of an operator policy: %v, want 405%s", m, err, n.Mismatch())
		}
	}
	if err := n.Do(ctx, "PUT", "/api/users/monitoring-AWS-OWNED-DO-NOT-DELETE", map[string]any{"password": "x", "tags": "administrator"}, nil); err == nil || !strings.Contains(err.Error(), "Protected users") {
		t.Fatalf("PUT of the protected user: %v%s", err, n.Mismatch())
	}

	defs := writeTemp(t, "defs.yaml", amazonMQ42Defs)
	code, out, errOut := warren(t, "apply", "--yes", "--prune", "--target", "amazonmq-rabbitmq", defs)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range []string{"AWS", "operator_policy", "~ vhost", "default_queue_type: \"\""} {
		if strings.Contains(out, s) {
			t.Errorf("the plan shows %q:\n%s", s, out)
		}
	}
	// The untyped queues are quorum queues, as the broker makes them.
	want := map[string]string{"orders": "quorum", "root": "quorum", "scratch": "classic"}
	var queues []struct{ Name, Type string }
	n.Do(ctx, "GET", "/api/queues", nil, &queues)
	got := map[string]string{}
	for _, q := range queues {
		got[q.Name] = q.Type
	}
	if !maps.Equal(got, want) {
		t.Errorf("queues: %v, want %v", got, want)
	}
	// Amazon MQ's own objects are as they were.
	var ops []struct{ Name, Vhost string }
	n.Do(ctx, "GET", "/api/operator-policies", nil, &ops)
	if len(ops) != 1 || ops[0].Name != "default_operator_policy_AWS_managed" {
		t.Errorf("operator policies: %+v", ops)
	}
	var policies []struct{ Name string }
	n.Do(ctx, "GET", "/api/policies/%2F", nil, &policies)
	if len(policies) != 1 || policies[0].Name != "AWS-DEFAULT-POLICY-SINGLE-INSTANCE" {
		t.Errorf("policies on /: %+v", policies)
	}
	var perms []struct{ User string }
	n.Do(ctx, "GET", "/api/users/monitoring-AWS-OWNED-DO-NOT-DELETE/permissions", nil, &perms)
	if len(perms) != 1 {
		t.Errorf("the system user's permissions: %+v", perms)
	}
	mustInSync(t, "--prune", "--target", "amazonmq-rabbitmq", defs)

	// An operator policy in the files: the broker locks them. Refused at
	// its place, before anything changes (the user app2 is not created).
	withOp := writeTemp(t, "op.yaml", strings.Replace(strings.Replace(amazonMQ42Defs, "parameters: []\n",
		"parameters:\n  - {component: operator_policy, vhost: app, name: cap, value: {pattern: \".*\", priority: 1, apply-to: queues, definition: {max-length: 1000}}}\n", 1),
		"users:\n", "users:\n  - {name: app2, password: {env: APP_PASSWORD}, tags: []}\n", 1))
	for _, args := range [][]string{{"diff"}, {"apply", "--yes"}} {
		code, out, errOut := warren(t, append(args, "--target", "amazonmq-rabbitmq", withOp)...)
		if code != exitError || !strings.Contains(out+errOut, "op.yaml:14:6: /parameters/0/component") || !strings.Contains(out+errOut, "[E180]") {
			t.Errorf("%s with an operator policy: exit %d\n%s%s", args[0], code, out, errOut)
		}
	}
	var users []struct{ Name string }
	n.Do(ctx, "GET", "/api/users", nil, &users)
	if len(users) != 3 {
		t.Errorf("after the refused apply: users %+v", users)
	}

	// A stream: refused by validate, diff and apply.
	stream := writeTemp(t, "stream.yaml", amazonMQ42Defs+"  - {name: events, vhost: app, arguments: {x-queue-type: stream}}\n")
	if code, out, _ := warren(t, "validate", "--target", "amazonmq-rabbitmq", stream); code != exitError || !strings.Contains(out, "stream.yaml:17:44: /queues/3/arguments/x-queue-type") || !strings.Contains(out, "[E181]") {
		t.Errorf("validate of a stream: exit %d\n%s", code, out)
	}
	if code, out, errOut := warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", stream); code != exitError || !strings.Contains(out+errOut, "[E181]") {
		t.Errorf("apply of a stream: exit %d\n%s%s", code, out, errOut)
	}

	// Past the instance's limits: 100 queues on a medium cluster. The
	// node is configured as such a broker (cluster_queue_limit = 100) and
	// would refuse the queues past it.
	var many strings.Builder
	many.WriteString(amazonMQ42Defs)
	for i := range 98 {
		fmt.Fprintf(&many, "  - {name: q%d, vhost: app}\n", i)
	}
	big := writeTemp(t, "big.yaml", many.String())
	code, out, errOut = warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.medium", "--deployment-mode", "CLUSTER_MULTI_AZ", big)
	if code != exitError || !strings.Contains(out+errOut, "big.yaml:114:5: /queues/100") || !strings.Contains(out+errOut, "101 queues") || !strings.Contains(out+errOut, "[E182]") {
		t.Errorf("apply past the limit: exit %d\n%s%s", code, out, errOut)
	}
	queues = nil
	n.Do(ctx, "GET", "/api/queues", nil, &queues)
	if len(queues) != 3 {
		t.Errorf("after the refused apply: %d queues", len(queues))
	}
	// Without the check, the broker's import drops the queue past its
	// limit without a word; the check after the apply finds it missing.
	code, out, errOut = warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", big)
	if code == exitOK || !strings.Contains(out+errOut, "did not take everything") || !strings.Contains(out+errOut, `+ queue "q97"`) {
		t.Errorf("apply past the node's limit without --instance-type: exit %d\n%s%s", code, out, errOut)
	}
	// A single instance of that size holds 500.
	if code, out, errOut := warren(t, "diff", "--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.medium", big); code != exitDrift {
		t.Errorf("diff within the limit: exit %d\n%s%s", code, out, errOut)
	}
}
