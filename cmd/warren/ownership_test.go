package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// Teams sharing one broker, each with its own files and owner: prune
// deletes only what the owner's record holds, whatever else is on the
// broker (another owner's objects, objects made by hand) stays.

// queueNames lists a vhost's queues on the broker.
func queueNames(t *testing.T, n *rabbitmqtest.Node, vhost string) []string {
	t.Helper()
	var qs []struct{ Name string }
	if err := n.Do(context.Background(), "GET", "/api/queues/"+urlPath(vhost)+"?columns=name", nil, &qs); err != nil {
		t.Fatalf("GET queues of %s: %v", vhost, err)
	}
	var out []string
	for _, q := range qs {
		out = append(out, q.Name)
	}
	slices.Sort(out)
	return out
}

// record reads an owner's record from the broker (nil when it has none).
func record(t *testing.T, n *rabbitmqtest.Node, owner string) *plan.Record {
	t.Helper()
	var g struct{ Value any }
	if err := n.Do(context.Background(), "GET", "/api/global-parameters/"+plan.OwnerParameterPrefix+owner, nil, &g); err != nil {
		return nil
	}
	r, err := plan.ReadRecord(plan.OwnerParameterPrefix+owner, g.Value)
	if err != nil {
		t.Fatalf("owner %s's record: %v", owner, err)
	}
	return r
}

// ownerFiles are an owner's files: its queues in vhost shared, which
// payments' files define with the harness administrator's access.
func ownerFiles(t *testing.T, n *rabbitmqtest.Node, owner string, queues ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "warren:\n  owner: %s\n", owner)
	if owner == "payments" {
		fmt.Fprintf(&b, "vhosts:\n  - {name: shared}\npermissions:\n  - {user: %s, vhost: shared, configure: '.*', write: '.*', read: '.*'}\n", n.Admin)
	}
	b.WriteString("queues:\n")
	if len(queues) == 0 {
		b.WriteString("  []\n")
	}
	for _, q := range queues {
		fmt.Fprintf(&b, "  - {name: %s, vhost: shared, durable: true}\n", q)
	}
	return writeTemp(t, owner+".yaml", b.String())
}

func mustApply(t *testing.T, args ...string) (string, string) {
	t.Helper()
	code, out, errOut := warren(t, append([]string{"apply", "--yes"}, args...)...)
	if code != exitOK {
		t.Fatalf("apply %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out, errOut
}

func TestOwnersPruneOnlyTheirOwn(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	mustApply(t, "--prune", ownerFiles(t, n, "payments", "pay.orders", "pay.refunds"))
	mustApply(t, "--prune", ownerFiles(t, n, "billing", "bill.invoices"))
	if err := n.Do(context.Background(), "PUT", "/api/queues/shared/byhand", map[string]any{"durable": true}, nil); err != nil {
		t.Fatal(err)
	}
	// In turns, each with --prune: nothing of the other's, nothing made by
	// hand, is ever in a plan's deletions.
	for range 2 {
		for _, files := range []string{ownerFiles(t, n, "payments", "pay.orders", "pay.refunds"), ownerFiles(t, n, "billing", "bill.invoices")} {
			out, _ := mustApply(t, "--prune", files)
			if strings.Contains(out, "\n- ") || !strings.Contains(out, "No changes") {
				t.Fatalf("an owner's prune plans changes to a broker that matches its files:\n%s", out)
			}
			mustInSync(t, "--prune", files)
		}
	}
	// payments drops a queue: only that one goes.
	out, _ := mustApply(t, "--prune", ownerFiles(t, n, "payments", "pay.orders"))
	if !strings.Contains(out, `- queue "pay.refunds" on vhost "shared"`) || !strings.Contains(out, "1 owned by billing") ||
		!strings.Contains(out, "Owned by no one: ") {
		t.Errorf("payments' prune plan:\n%s", out)
	}
	if got, want := queueNames(t, n, "shared"), []string{"bill.invoices", "byhand", "pay.orders"}; !slices.Equal(got, want) {
		t.Errorf("after payments' prune the broker has queues %v, want %v", got, want)
	}
	// billing's files drop everything: its own queue goes, nothing else.
	mustApply(t, "--prune", ownerFiles(t, n, "billing"))
	if got, want := queueNames(t, n, "shared"), []string{"byhand", "pay.orders"}; !slices.Equal(got, want) {
		t.Errorf("after billing's prune the broker has queues %v, want %v", got, want)
	}
	if r := record(t, n, "billing"); r != nil {
		t.Errorf("billing owns nothing, yet its record holds %v", r.Objects)
	}
	if r := record(t, n, "payments"); r == nil || !slices.Equal(r.Objects["queues"], []string{plan.AddrOf(queue("shared", "pay.orders")).Key}) {
		t.Errorf("payments' record: %+v", r)
	}
}

func TestOwnershipConflictStopsBeforeAnyChange(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	mustApply(t, ownerFiles(t, n, "payments", "pay.orders"))
	files := ownerFiles(t, n, "billing", "bill.new", "pay.orders")
	for _, cmd := range []string{"diff", "apply"} {
		code, out, errOut := warren(t, cmd, "--yes", files)
		if cmd == "diff" {
			code, out, errOut = warren(t, cmd, files)
		}
		if code != exitError || !strings.Contains(errOut, files+":5:5: /queues/1: ") || !strings.Contains(errOut, `is owned by "payments"`) ||
			!strings.Contains(errOut, "[E115]") || strings.Contains(out, "bill.new") {
			t.Errorf("%s of files naming another owner's queue: exit %d\n%s%s", cmd, code, out, errOut)
		}
	}
	if got := queueNames(t, n, "shared"); slices.Contains(got, "bill.new") {
		t.Errorf("the refused apply created a queue: %v", got)
	}
}

func TestTakeOver(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	mustApply(t, ownerFiles(t, n, "payments", "pay.orders", "shared.events"))
	billing := ownerFiles(t, n, "billing", "shared.events")
	out, _ := mustApply(t, "--take-over", billing)
	if !strings.Contains(out, `Taken over: queue "shared.events" on vhost "shared" (from payments).`) {
		t.Errorf("the take-over's plan does not show it:\n%s", out)
	}
	mustInSync(t, billing) // no --take-over needed any more
	if r := record(t, n, "payments"); r.Has(queue("shared", "shared.events")) {
		t.Errorf("payments' record still holds the queue taken over: %v", r.Objects)
	}
	// payments' files drop it and prune: it is billing's now, and stays.
	out, _ = mustApply(t, "--prune", ownerFiles(t, n, "payments", "pay.orders"))
	if strings.Contains(out, "shared.events") && !strings.Contains(out, "owned by billing") {
		t.Errorf("payments' prune after the take-over:\n%s", out)
	}
	if got := queueNames(t, n, "shared"); !slices.Contains(got, "shared.events") {
		t.Errorf("payments' prune deleted the queue billing took over: %v", got)
	}
}

func TestVhostScopedPrune(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	defs := `{"vhosts":[{"name":"a"},{"name":"b"}],"users":[{"name":"app","password_hash":"","tags":""}],
"queues":[{"name":"qa","vhost":"a","durable":true,"auto_delete":false,"arguments":{}},{"name":"qb","vhost":"b","durable":true,"auto_delete":false,"arguments":{}}]}`
	if err := n.PostDefinitions(ctx, []byte(defs)); err != nil {
		t.Fatal(err)
	}
	files := writeTemp(t, "a.yaml", fmt.Sprintf("vhosts:\n  - {name: a}\nusers:\n  - {name: %s, password: {env: WARREN_PASSWORD}, tags: [administrator]}\npermissions:\n  - {user: %s, vhost: a, configure: '.*', write: '.*', read: '.*'}\nqueues: []\n", n.Admin, n.Admin))
	out, _ := mustApply(t, "--prune", "--vhost", "a", files)
	if !strings.Contains(out, `- queue "qa" on vhost "a"`) || strings.Contains(out, `"b"`) || strings.Contains(out, `user "app"`) ||
		!strings.Contains(out, "Out of scope: 1 user in the files") {
		t.Errorf("the scoped prune's plan:\n%s", out)
	}
	if got := queueNames(t, n, "b"); !slices.Equal(got, []string{"qb"}) {
		t.Errorf("a prune scoped to vhost a changed vhost b: %v", got)
	}
	if err := n.Do(ctx, "GET", "/api/users/app", nil, nil); err != nil {
		t.Errorf("a prune scoped to vhost a deleted a user: %v", err)
	}
	mustInSync(t, "--prune", "--vhost", "a", files)
}

func TestIgnoredAndForgotten(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	mustApply(t, ownerFiles(t, n, "payments", "pay.orders", "pay.old"))
	if err := n.Do(context.Background(), "PUT", "/api/queues/shared/pay.tmp-7", map[string]any{"durable": false, "auto_delete": true}, nil); err != nil {
		t.Fatal(err)
	}
	files := writeTemp(t, "payments.yaml", fmt.Sprintf(`warren:
  owner: payments
  ignore:
    - {kind: queues, vhost: shared, name: 'pay\.tmp-.*'}
  forget:
    - {kind: queues, vhost: shared, name: pay.old}
vhosts:
  - {name: shared}
permissions:
  - {user: %s, vhost: shared, configure: '.*', write: '.*', read: '.*'}
queues:
  - {name: pay.orders, vhost: shared, durable: true}
`, n.Admin))
	out, _ := mustApply(t, "--prune", files)
	if strings.Contains(out, "pay.tmp-7") || !strings.Contains(out, `Forgotten, kept on the broker: queue "pay.old" on vhost "shared".`) {
		t.Errorf("the plan shows an ignored queue, or does not say what it forgets:\n%s", out)
	}
	if got, want := queueNames(t, n, "shared"), []string{"pay.old", "pay.orders", "pay.tmp-7"}; !slices.Equal(got, want) {
		t.Errorf("after the prune the broker has %v, want %v", got, want)
	}
	if r := record(t, n, "payments"); r.Has(queue("shared", "pay.old")) || !r.Has(queue("shared", "pay.orders")) {
		t.Errorf("payments' record: %v", r.Objects)
	}
	code, out, _ := warren(t, "diff", "--prune", files)
	if code != exitOK || strings.Contains(out, "pay.tmp-7") {
		t.Errorf("diff after the apply: exit %d\n%s", code, out)
	}
	// export --owner writes only what the owner's record holds.
	code, out, errOut := warren(t, "export", "--owner", "payments")
	if code != exitOK || !strings.Contains(out, `"pay.orders"`) || strings.Contains(out, "pay.old") || strings.Contains(out, "pay.tmp") ||
		strings.Contains(out, "warren-owner") {
		t.Errorf("export --owner payments: exit %d\n%s%s", code, out, errOut)
	}
}

// A kill -9 in the middle of an owner's apply leaves a record the next
// apply repairs, and no object is deleted because the record was behind.
func TestOwnerApplyKilled(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	mustApply(t, ownerFiles(t, n, "payments", "pay.orders"))
	if err := n.Do(ctx, "PUT", "/api/queues/shared/byhand", map[string]any{"durable": true}, nil); err != nil {
		t.Fatal(err)
	}
	many := make([]string, 1500)
	for i := range many {
		many[i] = fmt.Sprintf("pay.q%04d", i)
	}
	files := ownerFiles(t, n, "payments", append(many, "pay.orders")...)
	cmd := exec.Command(warrenBinary(t), "apply", "--yes", "--prune", files)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(queueNames(t, n, "shared")) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := record(t, n, "payments")
	t.Logf("killed with %d queues on the broker and %d objects in the record", len(queueNames(t, n, "shared")), before.Len())
	// The next apply, and a prune of everything but one queue: the record
	// is repaired, and only the owner's queues go.
	mustApply(t, "--prune", files)
	mustInSync(t, "--prune", files)
	if r := record(t, n, "payments"); len(r.Objects["queues"]) != len(many)+1 {
		t.Errorf("the repaired record holds %d queues, want %d", len(r.Objects["queues"]), len(many)+1)
	}
	mustApply(t, "--prune", ownerFiles(t, n, "payments", "pay.orders"))
	if got, want := queueNames(t, n, "shared"), []string{"byhand", "pay.orders"}; !slices.Equal(got, want) {
		t.Errorf("after the prune the broker has %d queues %v, want %v", len(got), got[:min(len(got), 5)], want)
	}
}

func queue(vhost, name string) *definitions.Queue {
	return &definitions.Queue{Vhost: vhost, Name: name}
}
