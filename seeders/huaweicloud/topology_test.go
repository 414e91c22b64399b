package huaweicloud_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/huaweicloud"
	"github.com/warren-tool/warren/seeders/huaweicloud/huaweifake"
)

// Exchanges, queues and bindings through the DMS API, against the fake
// (huaweifake follows docs/cloud-apis.md §6), on the target's one path:
// Read → plan.Diff with the target's options → Apply → Read and diff again.

func topologyTarget(t *testing.T, edition string) (*huaweifake.Server, *huaweicloud.Target) {
	t.Helper()
	fake := huaweifake.NewEdition(edition)
	t.Cleanup(fake.Close)
	c, err := huaweicloud.New(huaweicloud.Config{Endpoint: fake.URL, ProjectID: huaweifake.ProjectID, InstanceID: huaweifake.InstanceID,
		AK: huaweifake.AK, SK: huaweifake.SK, Timeout: 5 * time.Second, Edition: edition})
	if err != nil {
		t.Fatal(err)
	}
	return fake, huaweicloud.NewTarget(c)
}

func parse(t *testing.T, text string, edition string) *definitions.Document {
	t.Helper()
	doc, diags := definitions.Parse("desired.yaml", []byte(text))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if diags := definitions.Check(doc, definitions.CheckOptions{Target: definitions.TargetHuaweiCloudRabbitMQ, Edition: edition}); diags.HasErrors() {
		t.Fatal(diags)
	}
	return doc
}

// planFor reads the target and diffs desired with it.
func planFor(t *testing.T, tg *huaweicloud.Target, desired *definitions.Document, opts plan.Options) *plan.Plan {
	t.Helper()
	ctx := context.Background()
	live, err := tg.Read(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Diff(desired, live, append(tg.DiffOptions(ctx, opts), plan.WithPrune(opts.Prune))...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func addrs(p *plan.Plan) []string {
	var out []string
	for _, ch := range p.Changes {
		out = append(out, fmt.Sprintf("%c %s", ch.Action, ch.Addr))
	}
	return out
}

// apply plans and applies, then checks that a second plan is empty.
func apply(t *testing.T, tg *huaweicloud.Target, desired *definitions.Document, opts plan.Options) *plan.Plan {
	t.Helper()
	p := planFor(t, tg, desired, opts)
	if err := tg.Apply(context.Background(), p, seeders.ApplyOptions{Options: opts}); err != nil {
		t.Fatalf("apply %v: %v", addrs(p), err)
	}
	if again := planFor(t, tg, desired, opts); len(again.Changes) > 0 {
		t.Fatalf("a diff right after the apply: %v", addrs(again))
	}
	return p
}

const topology = `vhosts:
  - name: default
  - name: orders
exchanges:
  - {vhost: orders, name: orders.events, type: topic}
  - {vhost: orders, name: orders.dlx, type: fanout}
queues:
  - {vhost: orders, name: orders.created, arguments: {x-dead-letter-exchange: orders.dlx, x-dead-letter-routing-key: dead, x-message-ttl: 60000}}
  - {vhost: orders, name: orders.dead}
bindings:
  - {vhost: orders, source: orders.events, destination: orders.created, destination_type: queue, routing_key: order.created}
  - {vhost: orders, source: orders.dlx, destination: orders.dead, destination_type: queue, routing_key: ""}
`

// TestTopologyApplyTwice: the topology is created, the second apply
// changes nothing (and sends no request that writes), and the fake holds
// what the files say.
func TestTopologyApplyTwice(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.EditionAMQP)
	desired := parse(t, topology, huaweifake.EditionAMQP)
	p := apply(t, tg, desired, plan.Options{})
	want := []string{`+ vhost "orders"`, `+ exchange "orders.dlx" on vhost "orders"`, `+ exchange "orders.events" on vhost "orders"`,
		`+ queue "orders.created" on vhost "orders"`, `+ queue "orders.dead" on vhost "orders"`}
	if got := addrs(p); len(got) != 7 || !cmp.Equal(want, got[:5]) {
		t.Errorf("plan: %v", got)
	}
	writes := fake.Calls["CreateExchange"] + fake.Calls["CreateQueue"] + fake.Calls["CreateBinding"]
	apply(t, tg, desired, plan.Options{})
	if n := fake.Calls["CreateExchange"] + fake.Calls["CreateQueue"] + fake.Calls["CreateBinding"]; n != writes || writes != 6 {
		t.Errorf("create requests: %d after the first apply, %d after the second", writes, n)
	}
	qs := fake.Queues("orders")
	if len(qs) != 2 || qs[0].DeadLetterExchange != "orders.dlx" || qs[0].DeadLetterKey != "dead" || qs[0].MessageTTL == nil || *qs[0].MessageTTL != 60000 {
		t.Errorf("queues on the instance: %+v", qs)
	}
	bs := fake.Bindings("orders")
	if len(bs) != 2 || bs[1].DestinationType != "queue" || bs[0].PropertiesKey != "~" {
		t.Errorf("bindings on the instance: %+v", bs)
	}
}

// TestTopologyPaging: 60 queues are read over two pages of 50.
func TestTopologyPaging(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.EditionAMQP)
	var b strings.Builder
	b.WriteString("vhosts:\n  - name: default\nqueues:\n")
	for i := range 60 {
		fmt.Fprintf(&b, "  - {vhost: default, name: q%03d}\n", i)
	}
	desired := parse(t, b.String(), huaweifake.EditionAMQP)
	apply(t, tg, desired, plan.Options{})
	before := fake.Calls["ListQueues"]
	if p := planFor(t, tg, desired, plan.Options{}); len(p.Changes) != 0 || fake.Calls["ListQueues"]-before != 2 {
		t.Errorf("one read of 60 queues: %d ListQueues requests, plan %v", fake.Calls["ListQueues"]-before, addrs(p))
	}
}

// TestTopologyPrune: without pruning nothing is deleted; with it, the
// queues and exchanges of a vhost go in one batch each, and the bindings
// one by one by the properties_key the list gives.
func TestTopologyPrune(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.EditionAMQP)
	apply(t, tg, parse(t, topology, huaweifake.EditionAMQP), plan.Options{})
	less := parse(t, "vhosts:\n  - name: default\n  - name: orders\nexchanges: []\nqueues: []\nbindings: []\n", huaweifake.EditionAMQP)
	if p := planFor(t, tg, less, plan.Options{}); len(p.Changes) != 0 {
		t.Fatalf("without prune: %v", addrs(p))
	}
	apply(t, tg, less, plan.Options{Prune: true})
	if len(fake.Queues("orders")) != 0 || len(fake.Exchanges("orders")) != 0 || len(fake.Bindings("orders")) != 0 {
		t.Errorf("left: %v %v %v", fake.Queues("orders"), fake.Exchanges("orders"), fake.Bindings("orders"))
	}
	if fake.Calls["BatchDeleteQueues"] != 1 || fake.Calls["BatchDeleteExchanges"] != 1 || fake.Calls["DeleteBinding"] != 2 {
		t.Errorf("deletions: %v", fake.Calls)
	}
}

// TestTopologyMessagesKept: a queue holding messages is neither pruned
// nor replaced without destroy-messages, and nothing else changes; a
// replacement needs replace.
func TestTopologyMessagesKept(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.EditionAMQP)
	apply(t, tg, parse(t, topology, huaweifake.EditionAMQP), plan.Options{})
	fake.SetMessages("orders", "orders.dead", 3)
	changed := parse(t, strings.Replace(topology, "x-message-ttl: 60000", "x-message-ttl: 30000", 1)+
		"  - {vhost: orders, source: orders.events, destination: orders.dead, destination_type: queue, routing_key: new}\n", huaweifake.EditionAMQP)
	p := planFor(t, tg, changed, plan.Options{})
	err := tg.Apply(context.Background(), p, seeders.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "--replace") || fake.Calls["CreateBinding"] != 2 {
		t.Fatalf("a replacement without replace: %v (CreateBinding %d)", err, fake.Calls["CreateBinding"])
	}
	apply(t, tg, changed, plan.Options{Replace: true})
	if q := fake.Queues("orders")[1]; q.Name != "orders.created" || *q.MessageTTL != 30000 || len(fake.Bindings("orders")) != 3 {
		t.Errorf("after the replacement: %+v, bindings %+v", fake.Queues("orders"), fake.Bindings("orders"))
	}
	less := parse(t, "vhosts:\n  - name: default\n  - name: orders\nqueues: []\n", huaweifake.EditionAMQP)
	p = planFor(t, tg, less, plan.Options{Prune: true})
	err = tg.Apply(context.Background(), p, seeders.ApplyOptions{Options: plan.Options{Prune: true}})
	if err == nil || !strings.Contains(err.Error(), "holds 3 messages") || len(fake.Queues("orders")) != 2 {
		t.Fatalf("pruning a queue with messages: %v, queues %v", err, fake.Queues("orders"))
	}
	apply(t, tg, less, plan.Options{Prune: true, DestroyMessages: true})
	if len(fake.Queues("orders")) != 0 {
		t.Errorf("with destroy-messages: %v", fake.Queues("orders"))
	}
	// A vhost whose queue holds messages is not deleted either.
	apply(t, tg, parse(t, topology, huaweifake.EditionAMQP), plan.Options{})
	fake.SetMessages("orders", "orders.dead", 1)
	gone := parse(t, "vhosts:\n  - name: default\n", huaweifake.EditionAMQP)
	p = planFor(t, tg, gone, plan.Options{Prune: true})
	err = tg.Apply(context.Background(), p, seeders.ApplyOptions{Options: plan.Options{Prune: true}})
	if err == nil || !strings.Contains(err.Error(), "holds 1 messages") || len(fake.Vhosts()) != 2 {
		t.Fatalf("pruning a vhost whose queue holds messages: %v, vhosts %v", err, fake.Vhosts())
	}
}

// TestTopology3x: on the 3.x edition the vhost is "/" (__F_SLASH__ in
// paths), names may hold "/" and "%", exchanges may be internal or bound
// to exchanges, queues may be lazy, the built-in exchanges are neither
// read as the files' nor pruned, and no user API is called.
func TestTopology3x(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.Edition3x)
	desired := parse(t, `vhosts:
  - name: /
  - name: /shop
exchanges:
  - {vhost: /shop, name: in/bound, type: direct}
  - {vhost: /shop, name: route%x, type: headers, internal: true, durable: false}
queues:
  - {vhost: /shop, name: work/1, durable: false, arguments: {x-queue-mode: lazy}}
bindings:
  - {vhost: /shop, source: in/bound, destination: route%x, destination_type: exchange, routing_key: a.b}
  - {vhost: /shop, source: amq.topic, destination: work/1, destination_type: queue, routing_key: "#"}
`, huaweifake.Edition3x)
	apply(t, tg, desired, plan.Options{Prune: true})
	if q := fake.Queues("/shop"); len(q) != 1 || !q[0].Lazy || q[0].Durable {
		t.Errorf("queues: %+v", q)
	}
	if x := fake.Exchanges("/shop"); len(x) != 9 || !x[8].Internal {
		t.Errorf("exchanges: %+v", x)
	}
	if fake.Calls["ListUser"] != 0 {
		t.Errorf("the user API was called %d times", fake.Calls["ListUser"])
	}
	apply(t, tg, parse(t, "vhosts:\n  - name: /\n  - name: /shop\nexchanges: []\nqueues: []\nbindings: []\n", huaweifake.Edition3x), plan.Options{Prune: true})
	if x := fake.Exchanges("/shop"); len(x) != 7 || len(fake.Bindings("/shop")) != 0 {
		t.Errorf("after pruning: %+v %+v", x, fake.Bindings("/shop"))
	}
}

// TestReadKinds: a read lists only what the kinds asked for need.
func TestReadKinds(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.EditionAMQP)
	apply(t, tg, parse(t, topology, huaweifake.EditionAMQP), plan.Options{})
	for _, tc := range []struct {
		kinds []definitions.Kind
		want  map[string]int
	}{
		{[]definitions.Kind{definitions.KindUser}, map[string]int{"ListUser": 1, "ListVhosts": 1}},
		{[]definitions.Kind{definitions.KindBinding}, map[string]int{"ListVhosts": 1, "ListExchanges": 2, "ListBindings": 2}},
		{[]definitions.Kind{definitions.KindQueue}, map[string]int{"ListVhosts": 1, "ListQueues": 2}},
	} {
		before := maps.Clone(fake.Calls)
		doc, err := tg.Read(context.Background(), tc.kinds)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for op, n := range fake.Calls {
			if d := n - before[op]; d > 0 {
				got[op] = d
			}
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("read of %v: requests (-want +got):\n%s", tc.kinds, diff)
		}
		if slices.Contains(tc.kinds, definitions.KindBinding) && len(doc.Bindings) != 2 {
			t.Errorf("bindings read: %v", doc.Bindings)
		}
	}
}

// TestPruneAfterConcurrentDelete: a queue deleted by someone else between
// the read and the batch delete fails DMS's batch (the fake's guess); the
// rest of the batch is deleted all the same.
func TestPruneAfterConcurrentDelete(t *testing.T) {
	fake, tg := topologyTarget(t, huaweifake.EditionAMQP)
	apply(t, tg, parse(t, topology, huaweifake.EditionAMQP), plan.Options{})
	less := parse(t, "vhosts:\n  - name: default\n  - name: orders\nqueues: []\n", huaweifake.EditionAMQP)
	p := planFor(t, tg, less, plan.Options{Prune: true})
	fake.RemoveQueue("orders", "orders.created")
	if err := tg.Apply(context.Background(), p, seeders.ApplyOptions{Options: plan.Options{Prune: true}}); err != nil {
		t.Fatal(err)
	}
	if qs := fake.Queues("orders"); len(qs) != 0 || fake.Calls["BatchDeleteQueues"] != 2 {
		t.Errorf("queues left: %v, %d batch requests", qs, fake.Calls["BatchDeleteQueues"])
	}
}

// TestPruneKeepsFirstVhost: DMS refuses to delete the vhost made with the
// instance ("default" on AMQP-0-9-1, "/" on 3.x). A prune whose files do
// not name it leaves it alone and says why, instead of failing at DMS; a
// plan that deletes it anyway (made without the target's options) fails
// there, as the contract says.
func TestPruneKeepsFirstVhost(t *testing.T) {
	for _, edition := range []string{huaweifake.EditionAMQP, huaweifake.Edition3x} {
		t.Run(edition, func(t *testing.T) {
			fake, tg := topologyTarget(t, edition)
			first := huaweicloud.FirstVhost(edition)
			if got := fake.Vhosts(); !cmp.Equal(got, []string{first}) {
				t.Fatalf("a new instance's vhosts: %v, want [%s]", got, first)
			}
			apply(t, tg, parse(t, "vhosts:\n  - name: orders\n  - name: old\n", edition), plan.Options{})
			desired := parse(t, "vhosts:\n  - name: orders\n", edition)
			p := apply(t, tg, desired, plan.Options{Prune: true})
			if got := addrs(p); !cmp.Equal(got, []string{`- vhost "old"`}) {
				t.Errorf("plan: %v, want only the deletion of old", got)
			}
			var why string
			for _, s := range p.Skipped {
				if s.Addr.String() == fmt.Sprintf("vhost %q", first) {
					why = s.Reason
				}
			}
			if !strings.Contains(why, "refuses to delete") {
				t.Errorf("the plan does not say why vhost %q stays: skipped %+v", first, p.Skipped)
			}
			if got := fake.Vhosts(); !cmp.Equal(got, []string{first, "orders"}) {
				t.Errorf("vhosts after the prune: %v", got)
			}

			// Without the target's options, the plan deletes it, and DMS
			// refuses.
			live, err := tg.Read(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			forced, err := plan.Diff(desired, live, plan.WithPrune(true))
			if err != nil {
				t.Fatal(err)
			}
			if got := addrs(forced); !cmp.Equal(got, []string{fmt.Sprintf("- vhost %q", first)}) {
				t.Fatalf("plan without DMS's options: %v", got)
			}
			err = tg.Apply(context.Background(), forced, seeders.ApplyOptions{Options: plan.Options{Prune: true}})
			if err == nil || !strings.Contains(err.Error(), "DMS.00400502") {
				t.Errorf("deleting vhost %q: %v, want DMS's refusal", first, err)
			}
			if got := fake.Vhosts(); !cmp.Equal(got, []string{first, "orders"}) {
				t.Errorf("vhosts after the refused deletion: %v", got)
			}
		})
	}
}
