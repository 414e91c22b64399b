package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// Teams sharing one broker, each with its own files and owner: prune
// deletes only what the owner's record holds, whatever else is on the
// broker (another owner's objects, objects made by hand) stays. The
// scripts testdata/broker/apply_owner_*.txtar and apply_vhost_scope.txtar
// hold the take-over, ignore, forget and scope scenarios.

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

// An inventory entry names its files' owner; a fleet's prune then deletes
// only that owner's objects. A saved plan made for one owner is refused
// for another.
func TestOwnerInFleetAndSavedPlan(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	mustApply(t, ownerFiles(t, n, "payments", "pay.orders", "pay.old"))
	mustApply(t, ownerFiles(t, n, "billing", "bill.invoices"))
	// payments' files without their owner: the inventory names it.
	files := ownerFiles(t, n, "payments", "pay.orders")
	data, _ := os.ReadFile(files)
	noOwner := writeTemp(t, "payments-files.yaml", strings.Replace(string(data), "warren:\n  owner: payments\n", "", 1))
	t.Setenv("FLEET_PASSWORD", n.AdminPassword)
	inv := writeTemp(t, "inventory.yaml", fmt.Sprintf("brokers:\n  - name: shared\n    urls: [%s]\n    username: %s\n    password: {env: FLEET_PASSWORD}\n    owner: payments\n    files: [%s]\n",
		n.URL, n.Admin, noOwner))
	code, out, errOut := warren(t, "apply", "--inventory", inv, "--yes", "--prune")
	if code != exitOK || !strings.Contains(out, `- queue "pay.old" on vhost "shared"`) || strings.Contains(out, `- queue "bill.invoices"`) {
		t.Fatalf("fleet apply with the entry's owner: exit %d\n%s%s", code, out, errOut)
	}
	if got, want := queueNames(t, n, "shared"), []string{"bill.invoices", "pay.orders"}; !slices.Equal(got, want) {
		t.Errorf("after the fleet's prune the broker has %v, want %v", got, want)
	}
	plan := filepath.Join(t.TempDir(), "plan.json")
	if code, out, errOut := warren(t, "diff", "--prune", "-o", plan, files); code != exitOK {
		t.Fatalf("diff -o: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = warren(t, "apply", "--yes", "--owner", "billing", plan)
	if code != exitError || !strings.Contains(out+errOut, "owner") {
		t.Errorf("a plan saved for payments, applied for billing: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := warren(t, "apply", "--yes", plan); code != exitOK {
		t.Errorf("the saved plan, as saved: exit %d\n%s%s", code, out, errOut)
	}
}

// An apply whose plan only records objects (an owner adopting what
// exists) writes the record under the broker's lock, like every write:
// another apply's lock stops it.
func TestOwnerRecordUnderLock(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	files := ownerFiles(t, n, "payments", "pay.orders")
	if err := n.PostDefinitions(ctx, []byte(`{"vhosts":[{"name":"shared"}],"queues":[{"name":"pay.orders","vhost":"shared","durable":true,"auto_delete":false,"arguments":{}}],
"permissions":[{"user":"`+n.Admin+`","vhost":"shared","configure":".*","write":".*","read":".*"}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/global-parameters/warren-lock", map[string]any{"name": "warren-lock", "value": map[string]any{
		"holder": "someone", "host": "elsewhere", "pid": 4242, "since": time.Now().Add(-time.Minute), "renewed": time.Now(), "token": "theirs"}}, nil); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := warren(t, "apply", files) // no --yes: the plan is empty
	if code != exitError || !strings.Contains(errOut, `user "someone" on host "elsewhere"`) || record(t, n, "payments") != nil {
		t.Fatalf("an owner's adoption under another apply's lock: exit %d, record %v\n%s%s", code, record(t, n, "payments"), out, errOut)
	}
	n.Do(ctx, "DELETE", "/api/global-parameters/warren-lock", nil, nil)
	if code, out, errOut := warren(t, "apply", files); code != exitOK || !strings.Contains(out, "No changes") || record(t, n, "payments").Len() != 3 {
		t.Fatalf("the adoption: exit %d\n%s%s", code, out, errOut)
	}
}

// The owners' records are read under the apply's lock, with the broker:
// what another owner took over while this apply waited is not pruned.
func TestOwnerRecordsReadUnderLock(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	mustApply(t, ownerFiles(t, n, "payments", "pay.orders", "shared.events"))
	// While payments' next apply holds the lock, billing's records say it
	// took shared.events over (as its --take-over writes them).
	mine, theirs := record(t, n, "payments"), plan.NewRecord("billing")
	put := func(r *plan.Record) {
		if err := n.Do(ctx, "PUT", "/api/global-parameters/"+plan.OwnerParameterPrefix+r.Owner,
			map[string]any{"name": plan.OwnerParameterPrefix + r.Owner, "value": r.Value()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	operation.BeforeApplyHook = func() {
		events := queue("shared", "shared.events")
		theirs.Objects[definitions.KindQueue] = []string{events.Key()}
		mine.Objects[definitions.KindQueue] = slices.DeleteFunc(mine.Objects[definitions.KindQueue], func(k string) bool { return k == events.Key() })
		put(theirs)
		put(mine)
	}
	t.Cleanup(func() { operation.BeforeApplyHook = nil })
	out, errOut := mustApply(t, "--prune", ownerFiles(t, n, "payments", "pay.orders"))
	operation.BeforeApplyHook = nil
	if got := queueNames(t, n, "shared"); !slices.Contains(got, "shared.events") {
		t.Errorf("payments pruned the queue billing took over while it waited for the lock: %v\n%s%s", got, out, errOut)
	}
}
