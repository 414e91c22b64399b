package rabbitmq_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// brokerCases are documents that RabbitMQ refuses, or accepts and does not
// carry out, on some or all versions. TestBrokerRefuses posts each to a real
// node with RabbitMQ's own import and checks that warren's verdict for the
// node's version matches the broker's answer.
var brokerCases = []struct {
	name string
	doc  string
	// notCreated is a queue the broker accepts and does not create
	// (warren warns W123).
	notCreated string
	// refusedBy is a version rule under which the broker refuses the
	// document although warren cannot call it an error (it depends on
	// what exists on the broker); "" when warren's errors decide.
	refusedBy string
}{
	{name: "policy key typo", doc: policy(`{"max-lenght": 10}`, "")},
	{name: "message-ttl as a string", doc: policy(`{"message-ttl": "1000"}`, "")},
	{name: "negative max-length", doc: policy(`{"max-length": -1}`, "")},
	{name: "dead-letter-exchange as a number", doc: policy(`{"dead-letter-exchange": 5}`, "")},
	{name: "overflow drop-tail", doc: policy(`{"overflow": "drop-tail"}`, "")},
	{name: "ha-mode", doc: policy(`{"ha-mode": "exactly", "ha-params": 2, "ha-sync-mode": "automatic"}`, "")},
	{name: "ha-params without ha-mode", doc: policy(`{"ha-params": 2}`, "")},
	{name: "apply-to classic_queues", doc: policy(`{"max-length": 10}`, "classic_queues")},
	{name: "consumer-timeout", doc: policy(`{"consumer-timeout": 60000}`, "quorum_queues")},
	{name: "max-age on classic queues (no effect)", doc: policy(`{"max-age": "7D"}`, "classic_queues")},
	{name: "max-length-bytes beyond int64", doc: policy(`{"max-length-bytes": 18446744073709551616, "message-ttl": 315360000001}`, "")},
	{name: "negative max-length-bytes beyond int64", doc: policy(`{"max-length-bytes": -18446744073709551616}`, "")},
	{name: "x-max-length-bytes beyond int64", doc: queue("big", true, false, `{"x-max-length-bytes": 100000000000000000000, "x-message-ttl": 315360000000}`)},
	{name: "x-message-ttl over ten years", doc: queue("ttl", true, false, `{"x-message-ttl": 315360000001}`)},
	{name: "x-expires over ten years", doc: queue("exp", true, false, `{"x-expires": 315360000001}`)},
	{name: "delivery-limit -1", doc: policy(`{"delivery-limit": -1}`, "quorum_queues")},
	{name: "operator policy with delivery-limit -1", doc: operatorPolicy(`{"delivery-limit": -1}`)},
	{name: "queue-master-locator balanced", doc: policy(`{"queue-master-locator": "balanced"}`, "queues")},
	{name: "operator policy with queue-master-locator least-leaders", doc: operatorPolicy(`{"queue-master-locator": "least-leaders"}`)},
	{name: "good policy", doc: policy(`{"max-length": 10, "message-ttl": 1000, "overflow": "reject-publish"}`, "queues")},
	{name: "operator policy with ha-mode", doc: operatorPolicy(`{"ha-mode": "all"}`)},
	{name: "operator policy with dead-letter-exchange", doc: operatorPolicy(`{"dead-letter-exchange": "dlx"}`)},
	{name: "operator policy with max-length", doc: operatorPolicy(`{"max-length": 100}`)},
	{name: "x-max-priority on a quorum queue", doc: queue("qq", true, false, `{"x-queue-type": "quorum", "x-max-priority": 10}`)},
	{name: "x-single-active-consumer on a stream", doc: queue("s", true, false, `{"x-queue-type": "stream", "x-single-active-consumer": true}`)},
	{name: "x-max-length on a stream", doc: queue("s", true, false, `{"x-queue-type": "stream", "x-max-length": 10}`)},
	{name: "x-queue-leader-locator on a classic queue", doc: queue("cq", true, false, `{"x-queue-type": "classic", "x-queue-leader-locator": "balanced"}`)},
	{name: "auto-delete quorum queue", doc: queue("qq", true, true, `{"x-queue-type": "quorum"}`), notCreated: "qq"},
	{name: "non-durable stream", doc: queue("s", false, false, `{"x-queue-type": "stream"}`), notCreated: "s"},
	{name: "x-max-priority on an untyped queue in a quorum vhost",
		doc: `{"vhosts": [{"name": "qv", "metadata": {"default_queue_type": "quorum"}}], "queues": [{"vhost": "qv", "name": "u", "durable": true, "auto_delete": false, "arguments": {"x-max-priority": 5}}]}`},
	{name: "x-queue-mode lazy on a classic queue", doc: queue("cq", true, false, `{"x-queue-mode": "lazy"}`)},
	{name: "x-queue-mode default on a classic queue", doc: queue("cq", true, false, `{"x-queue-type": "classic", "x-queue-mode": "default"}`)},
	{name: "x-queue-mode on a quorum queue", doc: queue("qq", true, false, `{"x-queue-type": "quorum", "x-queue-mode": "lazy"}`)},
	{name: "x-queue-mode on a stream", doc: queue("s", true, false, `{"x-queue-type": "stream", "x-queue-mode": "lazy"}`)},
	{name: "non-durable classic queue", doc: queue("tq", false, false, `{}`)},
	{name: "non-durable auto-delete classic queue", doc: queue("tq", false, true, `{}`)},
	{name: "x-queue-version 2", doc: queue("cq", true, false, `{"x-queue-version": 2}`)},
	{name: "quorum queue with the 4.3 arguments", doc: queue("qq", true, false, `{"x-queue-type": "quorum", "x-consumer-timeout": 60000, "x-consumer-disconnected-timeout": 30000, "x-delayed-retry-type": "all", "x-delayed-retry-min": 100, "x-delayed-retry-max": 1000}`)},
	{name: "delayed-retry policy keys", doc: policy(`{"delayed-retry-type": "returned", "delayed-retry-min": 100}`, "quorum_queues")},
	{name: "delayed-retry-type not a type", doc: policy(`{"delayed-retry-type": "sometimes", "delayed-retry-min": 100}`, "quorum_queues")},
	{name: "queue-leader-locator balanced", doc: policy(`{"queue-leader-locator": "balanced"}`, "queues")},
	{name: "good quorum queue", doc: queue("qq", true, false, `{"x-queue-type": "quorum", "x-delivery-limit": 5}`)},
	{name: "binding from a missing exchange",
		doc:       `{"queues": [{"vhost": "/", "name": "q", "durable": true, "auto_delete": false, "arguments": {}}], "bindings": [{"vhost": "/", "source": "missing", "destination": "q", "destination_type": "queue", "routing_key": "", "arguments": {}}]}`,
		refusedBy: definitions.RuleMissingBindingEnd},
	{name: "protected user tag", doc: `{"users": [{"name": "keeper", "password_hash": "", "tags": ["management", "protected"]}]}`},
	{name: "protected vhost", doc: `{"vhosts": [{"name": "kept", "metadata": {"protected_from_deletion": true}}]}`},
}

func policy(def, applyTo string) string {
	at := ""
	if applyTo != "" {
		at = fmt.Sprintf(`, "apply-to": %q`, applyTo)
	}
	return fmt.Sprintf(`{"policies": [{"vhost": "/", "name": "p", "pattern": "^p\\.", "priority": 0%s, "definition": %s}]}`, at, def)
}

func operatorPolicy(def string) string {
	return fmt.Sprintf(`{"parameters": [{"vhost": "/", "component": "operator_policy", "name": "op", "value": {"pattern": "^p\\.", "priority": 0, "definition": %s}}]}`, def)
}

func queue(name string, durable, autoDelete bool, args string) string {
	return fmt.Sprintf(`{"queues": [{"vhost": "/", "name": %q, "durable": %t, "auto_delete": %v, "arguments": %s}]}`, name, durable, autoDelete, args)
}

// TestBrokerRefuses checks warren's rules against a real broker: for the
// node's version, warren reports an error exactly for the documents the
// import refuses, and W123 for the queues it accepts and does not create.
func TestBrokerRefuses(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	var ov struct {
		RabbitMQVersion string `json:"rabbitmq_version"`
	}
	if err := n.Do(ctx, "GET", "/api/overview", nil, &ov); err != nil {
		t.Fatal(err)
	}
	version := ov.RabbitMQVersion
	if _, err := definitions.CheckRabbitMQVersion(version); err != nil {
		t.Fatalf("the node runs %s: %v", version, err)
	}
	for _, tc := range brokerCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "protected vhost" && !definitions.Rule(definitions.RuleVhostProtected).AppliesTo(version) {
				t.Skipf("RabbitMQ %s protects the vhost, and the node's reset could not delete it", version)
			}
			doc, diags := definitions.Parse("case.json", []byte(tc.doc))
			if diags.HasErrors() {
				t.Fatalf("the case does not load:\n%s", diags.Error())
			}
			diags = definitions.Check(doc, definitions.CheckOptions{RabbitMQVersion: version})
			wantRefused := diags.HasErrors()
			if tc.refusedBy != "" {
				wantRefused = definitions.Rule(tc.refusedBy).AppliesTo(version)
			}
			n := rabbitmqtest.Shared(t)
			err := n.PostDefinitions(ctx, []byte(tc.doc))
			switch {
			case wantRefused && err == nil:
				t.Errorf("RabbitMQ %s accepted the document; warren says:\n%s", version, diags.Error())
			case !wantRefused && err != nil:
				t.Errorf("RabbitMQ %s refused the document (%v); warren found no error:\n%s", version, err, diags.Error())
			case err != nil && !strings.Contains(err.Error(), ": 400 "):
				t.Errorf("RabbitMQ %s: want 400, got %v", version, err)
			}
			if tc.notCreated == "" {
				return
			}
			if !slices.ContainsFunc(diags, func(d schema.Diagnostic) bool { return d.Code == schema.WQueueNotCreated }) {
				t.Errorf("want W123 for queue %s, got:\n%s", tc.notCreated, diags.Error())
			}
			if err := n.Do(ctx, "GET", "/api/queues/%2F/"+url.PathEscape(tc.notCreated), nil, nil); err == nil {
				t.Errorf("RabbitMQ %s created queue %s; W123 says it does not", version, tc.notCreated)
			}
		})
	}
}

// TestVersionRules posts each version rule's example to the node (the
// process's WARREN_RABBITMQ version) with RabbitMQ's own import, looks at
// what the node did (refused: a 4xx; dropped: accepted and the object is
// absent; ignored: the object is there without the setting, or its
// protection does not hold; accepted), and compares with what the table
// expects for the node's version. Rules whose range the node is outside
// are checked too: the node must do what Otherwise says (accepted unless
// set).
func TestVersionRules(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	version := n.Version
	if _, err := definitions.CheckRabbitMQVersion(version); err != nil {
		t.Fatalf("the node runs %s: %v", version, err)
	}
	for _, r := range definitions.VersionRules {
		t.Run(r.ID, func(t *testing.T) {
			n := rabbitmqtest.Shared(t)
			got, detail := brokerEffect(ctx, t, n, r)
			if want := r.Expect(version); got != want {
				t.Errorf("rule %s on RabbitMQ %s: the node %s the example (%s), the table says %s%s\nexample: %s",
					r.ID, version, got, detail, want, mismatch(n), r.Example)
			}
		})
	}
}

func mismatch(n *rabbitmqtest.Node) string {
	if m := n.Mismatch(); m != "" {
		return " (" + m + ")"
	}
	return ""
}

// brokerEffect posts a rule's example and says what the node did with it.
func brokerEffect(ctx context.Context, t *testing.T, n *rabbitmqtest.Node, r definitions.VersionRule) (definitions.Effect, string) {
	t.Helper()
	if err := n.PostDefinitions(ctx, []byte(r.Example)); err != nil {
		if !strings.Contains(err.Error(), ": 400 ") && !strings.Contains(err.Error(), ": 4") {
			t.Fatalf("posting the example: %v", err)
		}
		return definitions.Refused, err.Error()
	}
	p := r.Probe
	var got any
	err := n.Do(ctx, "GET", p.Path, nil, &got)
	for deadline := time.Now().Add(20 * time.Second); err == nil && p.Stats && field(got, p.Field) == nil && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		err = n.Do(ctx, "GET", p.Path, nil, &got)
	}
	if err != nil {
		if strings.Contains(err.Error(), ": 404 ") {
			return definitions.Dropped, "GET " + p.Path + ": 404"
		}
		t.Fatalf("probing: %v", err)
	}
	if l, ok := got.([]any); ok {
		if len(l) == 0 {
			return definitions.Dropped, "GET " + p.Path + ": []"
		}
		got = l[0]
	}
	switch {
	case p.Delete:
		err := n.Do(ctx, "DELETE", p.Path, nil, nil)
		if err == nil {
			return definitions.Ignored, "DELETE " + p.Path + " done"
		}
		unprotect(ctx, t, n, r)
		return definitions.Accepted, err.Error()
	case p.Field == "":
		return definitions.Accepted, "GET " + p.Path + " found it"
	}
	v := field(got, p.Field)
	if v == nil {
		return definitions.Ignored, "GET " + p.Path + " has no " + p.Field
	}
	if p.Want != nil && v != p.Want {
		return definitions.Ignored, fmt.Sprintf("GET %s has %s %v, not %v", p.Path, p.Field, v, p.Want)
	}
	return definitions.Accepted, fmt.Sprintf("GET %s has %s %v", p.Path, p.Field, v)
}

// field follows a dotted path into a JSON value; nil when it is absent.
func field(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		if v = m[k]; v == nil {
			return nil
		}
	}
	return v
}

// unprotect undoes what a protection example did, so that the node's
// reset can delete the vhost or the user.
func unprotect(ctx context.Context, t *testing.T, n *rabbitmqtest.Node, r definitions.VersionRule) {
	var err error
	switch r.ID {
	case definitions.RuleVhostProtected:
		err = n.Do(ctx, "DELETE", r.Probe.Path+"/deletion/protection", nil, nil)
	case definitions.RuleProtectedTag:
		// The import changes a protected user's tags (the HTTP API does not).
		if err = n.PostDefinitions(ctx, []byte(`{"users": [{"name": "keeper", "password_hash": "", "tags": []}]}`)); err == nil {
			err = n.Do(ctx, "DELETE", r.Probe.Path, nil, nil)
		}
	}
	if err != nil {
		t.Fatalf("undoing the protection: %v", err)
	}
}

// TestDeprecatedFeatures reads the node's deprecated features: from 4.2
// each with its state on the node (transient_nonexcl_queues permitted by
// default, as the version table says, queue_master_locator denied from
// 4.3); before 4.2 the broker does not say (4.0.5 lists phases only, 3.10.8
// has no endpoint), and the version's rules apply.
func TestDeprecatedFeatures(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	got, err := client(t, n).DeprecatedFeatures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := definitions.Rule(definitions.RuleTransientNonExcl)
	switch state := got[r.Feature]; {
	case reportsDeprecatedState(n.Version) && state != "permitted":
		t.Errorf("RabbitMQ %s: %s is %q, want permitted (its default)%s; all: %v", n.Version, r.Feature, state, mismatch(n), got)
	case !reportsDeprecatedState(n.Version) && got != nil:
		t.Errorf("RabbitMQ %s does not say what the node permits, got %v%s", n.Version, got, mismatch(n))
	}
	if r := definitions.Rule(definitions.RuleMasterLocator); r.AppliesTo(n.Version) && got[r.Feature] != "denied" {
		t.Errorf("RabbitMQ %s: %s is %q, want denied (its default)%s", n.Version, r.Feature, got[r.Feature], mismatch(n))
	}
}

// reportsDeprecatedState: GET /api/deprecated-features has each feature's
// state on the node from 4.2.
func reportsDeprecatedState(version string) bool {
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	return major > 4 || major == 4 && minor >= 2
}
