package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
	// Amazon MQ's medium cluster's queue limit; RabbitMQ 4.0 has no such
	// key.
	var queueLimit []string
	if series != "4.0" {
		queueLimit = []string{"cluster_queue_limit = 100"}
	}
	data, _ := json.Marshal(defs)
	file := filepath.Join(t.TempDir(), "definitions.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: series, NoAdmin: true,
		Plugins: []string{"rabbitmq_federation", "rabbitmq_federation_management"}, // Amazon MQ has federation
		Files:   map[string]string{"definitions.json": file},
		Config: append([]string{
			"definitions.import_backend = local_filesystem",
			"definitions.local.path = {{dir}}/definitions.json",
			"management.restrictions.operator_policy_changes.disabled = true",
			"default_queue_type = quorum",
		}, queueLimit...)})
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
	// 140 more: far past the limit. The broker imports queues a few at a
	// time and counts them as each is declared, so on a busy machine a
	// few past the limit may be taken (101 of 101 were, once).
	for i := range 140 {
		fmt.Fprintf(&many, "  - {name: q%d, vhost: app}\n", i)
	}
	big := writeTemp(t, "big.yaml", many.String())
	code, out, errOut = warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.medium", "--deployment-mode", "CLUSTER_MULTI_AZ", big)
	if code != exitError || !strings.Contains(out+errOut, "big.yaml:114:5: /queues/100") || !strings.Contains(out+errOut, "143 queues") || !strings.Contains(out+errOut, "[E182]") {
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
	if code == exitOK || !strings.Contains(out+errOut, "did not take everything") || !strings.Contains(out+errOut, `it still differs from the files:
+ queue "q`) {
		t.Errorf("apply past the node's limit without --instance-type: exit %d\n%s%s", code, out, errOut)
	}
	// A single instance of that size holds 500.
	if code, out, errOut := warren(t, "diff", "--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.medium", big); code != exitDrift {
		t.Errorf("diff within the limit: exit %d\n%s%s", code, out, errOut)
	}
}

// amazonMQ313Defs make a 3.10 node look like an Amazon MQ for RabbitMQ
// 3.13 cluster: its system user, its default policy with the mirroring
// it adds on clusters, the ha-all fallback, the limits of /, and a
// customer's mirrored-queue policy in a vhost of its own.
const amazonMQ313Defs = `{
  "users": [{"name": "monitoring-AWS-OWNED-DO-NOT-DELETE", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "tags": "monitoring,protected"},
            {"name": "orders-app", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "tags": ""}],
  "vhosts": [{"name": "/"}, {"name": "shop"}],
  "permissions": [{"user": "monitoring-AWS-OWNED-DO-NOT-DELETE", "vhost": "/", "configure": "", "write": "", "read": ".*"},
                  {"user": "orders-app", "vhost": "shop", "configure": ".*", "write": ".*", "read": ".*"}],
  "policies": [
    {"vhost": "/", "name": "AWS-DEFAULT-POLICY-CLUSTER-MULTI-AZ", "pattern": ".*", "apply-to": "all", "priority": 1,
     "definition": {"queue-mode": "lazy", "ha-mode": "all", "ha-sync-mode": "automatic"}},
    {"vhost": "/", "name": "ha-all-AWS-OWNED-DO-NOT-DELETE", "pattern": ".*", "apply-to": "all", "priority": 0,
     "definition": {"ha-mode": "all", "ha-sync-mode": "automatic"}},
    {"vhost": "shop", "name": "jobs-ha", "pattern": "^jobs", "apply-to": "queues", "priority": 5,
     "definition": {"ha-mode": "exactly", "ha-params": 2, "message-ttl": 60000}}
  ],
  "parameters": [{"vhost": "/", "component": "vhost-limits", "name": "limits", "value": {"max-connections": 1000, "max-queues": 4000}}],
  "queues": [
    {"vhost": "/", "name": "orders", "durable": true, "auto_delete": false, "arguments": {}},
    {"vhost": "shop", "name": "jobs", "durable": true, "auto_delete": false, "arguments": {}}
  ]
}`

// TestMigrateIntoAmazonMQ42 is a blue-green move from an Amazon MQ 3.13
// broker (a 3.10.8 node set up as one) into an Amazon MQ 4.2 broker (a
// 4.3.6 node configured as one, amazonMQ42Node), both sides named as
// Amazon MQ: nothing Amazon MQ owns is moved or changed, mirroring
// policies lose their ha-* keys (or go) as migrate does for any 3.x
// cluster, and the mirrored queues land as quorum queues, the new
// broker's default type, in sync with the plan.
func TestMigrateIntoAmazonMQ42(t *testing.T) {
	if err := rabbitmqtest.AvailableSeries("3.10"); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	old, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: "3.10"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Stop() })
	nw := amazonMQ42Node(t, "4.3")
	ctx := context.Background()
	if err := old.PostDefinitions(ctx, []byte(amazonMQ313Defs)); err != nil {
		t.Fatal(err)
	}
	// The new broker's quorum-queue default policy, as on an Amazon MQ
	// cluster, at priority 1: the federation's policy must beat it.
	if err := nw.Do(ctx, "PUT", "/api/policies/%2F/AWS-DEFAULT-QUORUM-QUEUES-POLICY-CLUSTER-MULTI-AZ", map[string]any{"pattern": ".*", "apply-to": "quorum_queues",
		"priority": 1, "definition": map[string]any{"max-length": 100000, "overflow": "reject-publish"}}, nil); err != nil {
		t.Fatal(err)
	}
	waiting := []string{"o-1", "o-2", "o-3", "o-4", "o-5"}
	publishAMQP(t, old, "orders", waiting)
	var before []struct {
		Name         string
		PasswordHash string `json:"password_hash"`
	}
	nw.Do(ctx, "GET", "/api/users", nil, &before)
	t.Setenv("WARREN_FROM_URL", old.URL)
	t.Setenv("WARREN_FROM_USERNAME", old.Admin)
	t.Setenv("WARREN_FROM_PASSWORD", old.AdminPassword)
	t.Setenv("WARREN_TO_URL", nw.URL)
	t.Setenv("WARREN_TO_USERNAME", nw.Admin)
	t.Setenv("WARREN_TO_PASSWORD", nw.AdminPassword)
	t.Setenv("OLD_URI_DEFAULT", amqpURL(old))
	t.Setenv("OLD_URI_SHOP", strings.TrimSuffix(amqpURL(old), "%2F")+"shop")
	args := []string{"--from-target", "amazonmq-rabbitmq", "--to-target", "amazonmq-rabbitmq", "--upstream-uri", "env:OLD_URI_{vhost}"}
	planFile := filepath.Join(t.TempDir(), "migrate.json")

	code, out, errOut := warren(t, append([]string{"migrate", "plan", "-o", planFile}, args...)...)
	if code != exitOK {
		t.Fatalf("migrate plan: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("migrate plan:\n%s", out)
	for _, want := range []string{
		`user "monitoring-AWS-OWNED-DO-NOT-DELETE": not moved (owned by Amazon MQ`,
		`permission "monitoring-AWS-OWNED-DO-NOT-DELETE" on vhost "/": not moved (owned by Amazon MQ`,
		`policy "AWS-DEFAULT-POLICY-CLUSTER-MULTI-AZ" on vhost "/": not moved (owned by Amazon MQ`,
		`policy "ha-all-AWS-OWNED-DO-NOT-DELETE" on vhost "/": not moved (owned by Amazon MQ`,
		`parameter vhost-limits "limits" on vhost "/": not moved (owned by Amazon MQ`,
		`queue "orders" on vhost "/": classic → quorum`,
		`queue "jobs" on vhost "shop": classic → quorum`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate plan does not say %q", want)
		}
	}
	newPlan := out[strings.Index(out, "New cluster ("):]
	// The federation's policy for orders beats the new broker's default
	// policies (priority 0, or 1 on a cluster).
	fed := newPlan[strings.Index(newPlan, `+ policy "warren-migrate" on vhost "/"`)+1:]
	if fed = fed[:strings.Index(fed, "+ ")]; !strings.Contains(fed, "priority: 2\n") {
		t.Errorf("the federation's policy on / is not at priority 2:\n%s", fed)
	}
	for _, never := range []string{"monitoring-AWS-OWNED", "AWS-DEFAULT", "operator_policy", "vhost-limits", "ha-mode"} {
		if strings.Contains(newPlan, never) {
			t.Errorf("the new cluster's plan holds %q", never)
		}
	}

	code, out, errOut = warren(t, append([]string{"migrate", "apply", "--yes", planFile}, args...)...)
	if code != exitOK || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("migrate apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, q := range [][2]string{{"/", "orders"}, {"shop", "jobs"}} {
		if got := queueType(t, nw, q[0], q[1]); got != "quorum" {
			t.Errorf("queue %s on vhost %s is %s on the new broker, want quorum", q[1], q[0], got)
		}
	}
	// Amazon MQ's objects on the new broker are as they were: its system
	// user (same hash), its policy and operator policy, and nothing of the
	// old broker's.
	var after []struct {
		Name         string
		PasswordHash string `json:"password_hash"`
	}
	nw.Do(ctx, "GET", "/api/users", nil, &after)
	for _, u := range after {
		for _, b := range before {
			if u.Name == b.Name && u.PasswordHash != b.PasswordHash {
				t.Errorf("user %s changed on the new broker", u.Name)
			}
		}
	}
	var policies []struct{ Name, Vhost string }
	nw.Do(ctx, "GET", "/api/policies", nil, &policies)
	for _, p := range policies {
		if strings.Contains(p.Name, "AWS") && p.Name != "AWS-DEFAULT-POLICY-SINGLE-INSTANCE" && p.Name != "AWS-DEFAULT-QUORUM-QUEUES-POLICY-CLUSTER-MULTI-AZ" {
			t.Errorf("policy %s on vhost %s moved to the new broker", p.Name, p.Vhost)
		}
	}
	var ops []struct{ Name string }
	nw.Do(ctx, "GET", "/api/operator-policies", nil, &ops)
	if len(ops) != 1 {
		t.Errorf("operator policies on the new broker: %+v", ops)
	}
	var shop struct{ Definition map[string]any }
	nw.Do(ctx, "GET", "/api/policies/shop/jobs-ha", nil, &shop)
	if len(shop.Definition) != 1 || fmt.Sprint(shop.Definition["message-ttl"]) != "60000" {
		t.Errorf("jobs-ha on the new broker: %v, want message-ttl alone", shop.Definition)
	}
	var limits []any
	nw.Do(ctx, "GET", "/api/vhost-limits", nil, &limits)
	if len(limits) != 0 {
		t.Errorf("vhost limits on the new broker: %v", limits)
	}
	// The federation's policy, not Amazon MQ's default policies, applies
	// to orders on the new broker, and its messages move over.
	var orders struct{ Policy string }
	for deadline := time.Now().Add(20 * time.Second); orders.Policy == "" && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		nw.Do(ctx, "GET", "/api/queues/%2F/orders", nil, &orders)
	}
	if orders.Policy != "warren-migrate" {
		t.Errorf("the policy of orders on the new broker is %q, want warren-migrate", orders.Policy)
	}
	got := consume(t, nw, "orders", len(waiting), 90*time.Second)
	slices.Sort(got)
	if !slices.Equal(got, waiting) {
		t.Errorf("orders on the new broker: received %q, want %q", got, waiting)
	}
	// Applying again changes nothing.
	code, out, errOut = warren(t, append([]string{"migrate", "plan"}, args...)...)
	if code != exitOK || !strings.Contains(out, "Plan: no changes.") {
		t.Errorf("migrate plan after the apply: exit %d\n%s%s", code, out, errOut)
	}
}

// TestAmazonMQ40 is TestAmazonMQ42's comparison and lock on a RabbitMQ
// 4.0.5 node configured the same way (quorum as the node's default queue
// type, operator policies locked): what Amazon MQ owns is left alone,
// untyped queues are compared as quorum, and an operator policy in the
// files is refused.
func TestAmazonMQ40(t *testing.T) {
	n := amazonMQ42Node(t, "4.0")
	useNode(t, n)
	ctx := context.Background()
	defs := writeTemp(t, "defs.yaml", amazonMQ42Defs)
	if code, out, errOut := warren(t, "apply", "--yes", "--prune", "--target", "amazonmq-rabbitmq", defs); code != exitOK || strings.Contains(out, "~ vhost") {
		t.Fatalf("apply: exit %d%s\n%s%s", code, n.Mismatch(), out, errOut)
	}
	for q, want := range map[string]string{"orders": "quorum", "scratch": "classic"} {
		if got := queueType(t, n, "app", q); got != want {
			t.Errorf("queue %s is %s, want %s%s", q, got, want, n.Mismatch())
		}
	}
	var ops []struct{ Name string }
	n.Do(ctx, "GET", "/api/operator-policies", nil, &ops)
	if len(ops) != 1 {
		t.Errorf("operator policies: %+v", ops)
	}
	mustInSync(t, "--prune", "--target", "amazonmq-rabbitmq", defs)
	withOp := writeTemp(t, "op.yaml", strings.Replace(amazonMQ42Defs, "parameters: []\n",
		"parameters:\n  - {component: operator_policy, vhost: app, name: cap, value: {pattern: \".*\", priority: 1, apply-to: queues, definition: {max-length: 1000}}}\n", 1))
	if code, out, errOut := warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", withOp); code != exitError || !strings.Contains(out+errOut, "[E180]") {
		t.Errorf("apply with an operator policy: exit %d%s\n%s%s", code, n.Mismatch(), out, errOut)
	}
}

// TestAmazonMQ310OperatorPolicy: RabbitMQ 3.10.8 has no setting that
// locks operator policies (its management plugin's schema has no
// management.restrictions): asked, it answers 404 for an unknown operator
// policy, and the files' operator policy is applied.
func TestAmazonMQ310OperatorPolicy(t *testing.T) {
	if err := rabbitmqtest.AvailableSeries("3.10"); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: "3.10"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	useNode(t, n)
	files := writeTemp(t, "op.yaml", "parameters:\n  - {component: operator_policy, vhost: /, name: cap, value: {pattern: \".*\", priority: 1, apply-to: queues, definition: {max-length: 1000}}}\n")
	if code, out, errOut := warren(t, "apply", "--yes", "--target", "amazonmq-rabbitmq", files); code != exitOK {
		t.Errorf("apply: exit %d%s\n%s%s", code, n.Mismatch(), out, errOut)
	}
	mustInSync(t, "--target", "amazonmq-rabbitmq", files)
}
