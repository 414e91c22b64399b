package amazonmqrabbitmq

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

func parse(t *testing.T, data string) *definitions.Document {
	t.Helper()
	d, diags := definitions.Parse("x.yaml", []byte(data))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return d
}

// TestCheck: streams and x-local-random exchanges are refused at their
// place; other queues and exchanges are not.
func TestCheck(t *testing.T) {
	d := parse(t, `queues:
  - {name: a, vhost: /}
  - {name: s, vhost: /, arguments: {x-queue-type: stream}}
  - {name: t, vhost: /, type: stream}
exchanges:
  - {name: r, vhost: /, type: x-local-random}
  - {name: d, vhost: /, type: direct}
`)
	diags := Check(d)
	d.Resolve(diags)
	got := diags.Error()
	for _, want := range []string{"x.yaml:3:", "/queues/1/arguments/x-queue-type", "/queues/2/type", "/exchanges/0/type", "E181"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if len(diags) != 3 {
		t.Errorf("%d diagnostics, want 3:\n%s", len(diags), got)
	}
}

// TestCheckBroker: operator policies are refused only where the broker
// locks them, and Amazon MQ's own is not reported.
func TestCheckBroker(t *testing.T) {
	d := parse(t, `parameters:
  - {component: operator_policy, vhost: /, name: default_operator_policy_AWS_managed, value: {pattern: ".*", definition: {queue-version: 2}}}
  - {component: operator_policy, vhost: /, name: cap, value: {pattern: ".*", definition: {max-length: 10}}}
  - {component: shovel, vhost: /, name: s, value: {src-uri: "amqp://", src-queue: a, dest-uri: "amqp://", dest-queue: b}}
`)
	if diags := CheckBroker(d, Broker{Version: "4.2.3"}); len(diags) != 0 {
		t.Errorf("unlocked: %s", diags.Error())
	}
	diags := CheckBroker(d, Broker{Version: "4.2.3", OperatorPoliciesLocked: true})
	if len(diags) != 1 || diags[0].Pointer != "/parameters/1/component" || diags[0].Code != "E180" {
		t.Errorf("locked: %+v", diags)
	}
}

// TestCheckLimits: what the broker holds during the apply is the live
// objects and the files' new ones, pruning or not.
func TestCheckLimits(t *testing.T) {
	l, err := LimitsOf("mq.m7g.medium", ClusterMultiAZ)
	if err != nil || l.Queues != 100 || l.Vhosts != 10 {
		t.Fatalf("LimitsOf: %+v %v", l, err)
	}
	if _, err := LimitsOf("mq.m7g.4xlarge", ""); err == nil {
		t.Error("a size whose limits are unknown is accepted")
	}
	if _, err := LimitsOf("mq.m7g.large", "ACTIVE_STANDBY_MULTI_AZ"); err == nil {
		t.Error("an unknown deployment mode is accepted")
	}
	queues := func(from, to int) string {
		var b strings.Builder
		if from == to {
			return "queues: []\n"
		}
		b.WriteString("queues:\n")
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "  - {name: q%d, vhost: /}\n", i)
		}
		return b.String()
	}
	tests := []struct {
		desired, live string
		want          string // the pointer reported, "" for none
	}{
		{queues(0, 100), queues(0, 0), ""},
		{queues(0, 101), queues(0, 0), "/queues/100"},
		{queues(0, 100), queues(50, 150), "/queues/50"}, // q100-q149 stay until the deletes
		{queues(0, 10), queues(0, 120), "/queues/0"},    // past it already
		{"exchanges:\n  - {name: e, vhost: /, type: direct}\n", "exchanges:\n  - {name: amq.direct, vhost: /, type: direct}\n", ""},
	}
	for _, tt := range tests {
		diags := CheckLimits(parse(t, tt.desired), parse(t, tt.live), l)
		got := ""
		if len(diags) > 0 {
			got = diags[0].Pointer
		}
		if got != tt.want || len(diags) > 1 {
			t.Errorf("%d desired, live %d: %v, want %q", strings.Count(tt.desired, "\n")-1, strings.Count(tt.live, "\n")-1, diags, tt.want)
		}
	}
}

// TestNodeQueueType: on a node whose default queue type is quorum, a
// vhost and a queue the files give no type are compared as quorum (the
// broker reads both back as quorum); a type the files give is kept.
func TestNodeQueueType(t *testing.T) {
	live := parse(t, `vhosts:
  - {name: app, metadata: {default_queue_type: quorum}}
queues:
  - {name: q, vhost: app, arguments: {x-queue-type: quorum}}
  - {name: c, vhost: app, arguments: {x-queue-type: classic}}
`)
	desired := parse(t, `vhosts:
  - {name: app}
queues:
  - {name: q, vhost: app}
  - {name: c, vhost: app, arguments: {x-queue-type: classic}}
`)
	p, err := plan.Diff(desired, live, plan.WithNodeQueueType("quorum"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Errorf("with the node's default: %+v", p.Changes)
	}
	if p, _ := plan.Diff(desired, live); p.Empty() {
		t.Error("without the node's default the plan is empty: the test shows nothing")
	}
}
