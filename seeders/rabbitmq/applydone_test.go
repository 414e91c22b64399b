package rabbitmq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// TestDoneAndFailKeepTheRest: what remains of a failed apply is the plan
// less each done change's first match, in order, and less the failed; also
// for an import of 100,000 objects booked at once. (Its speed is measured
// by make bench, not timed here.)
func TestDoneAndFailKeepTheRest(t *testing.T) {
	ch := func(a plan.Action, name string) plan.Change {
		return plan.Change{Action: a, Kind: definitions.KindUser, Addr: plan.AddrOf(&definitions.User{Name: name})}
	}
	all := []plan.Change{ch(plan.Create, "a"), ch(plan.Delete, "a"), ch(plan.Create, "b"),
		ch(plan.Create, "b"), ch(plan.Update, "c"), ch(plan.Create, "d")}
	a := &applier{plan: &plan.Plan{Changes: all}, total: len(all)}
	a.done("import", ch(plan.Create, "a"), ch(plan.Create, "b"), ch(plan.Create, "x"))
	err := a.fail(errors.New("boom"), ch(plan.Update, "c"))
	var ae *plan.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("%T", err)
	}
	if d := cmp.Diff([]plan.Change{all[1], all[3], all[5]}, ae.Remaining, cmpopts.EquateComparable(plan.Addr{})); d != "" {
		t.Errorf("Remaining of the failure (-want +got):\n%s", d)
	}
	if len(ae.Done) != 3 {
		t.Errorf("Done: %d changes, want 3", len(ae.Done))
	}
	if err := a.fail(errors.New("again")); !errors.As(err, &ae) || len(ae.Remaining) != 4 {
		t.Errorf("a second failure: %+v", err)
	}

	const n = 100000
	big := make([]plan.Change, n)
	for i := range big {
		big[i] = ch(plan.Create, fmt.Sprint("u", i))
	}
	a = &applier{plan: &plan.Plan{Changes: big}, total: n}
	a.done("import", big[:n-1]...)
	if err := a.fail(errors.New("boom")); !errors.As(err, &ae) || len(ae.Remaining) != 1 || ae.Remaining[0].Addr != big[n-1].Addr {
		t.Errorf("remaining: %d changes", len(ae.Remaining))
	}
	a = &applier{plan: &plan.Plan{Changes: big}, total: n}
	if err := a.fail(errors.New("interrupted")); !errors.As(err, &ae) || len(ae.Remaining) != n || len(ae.Done) != 0 {
		t.Errorf("a failure before anything was done: %d remaining, %d done", len(ae.Remaining), len(ae.Done))
	}
}

// TestImportDocumentCompact: the document apply imports has no whitespace
// between tokens (RabbitMQ 3.10 parses it with jsx: make bench's 41,200
// objects were 7.3 MB indented, 5.1 MB compact), and says the same.
func TestImportDocumentCompact(t *testing.T) {
	tracing := true
	changes := []plan.Change{
		{Action: plan.Create, Kind: definitions.KindVhost, After: &definitions.Vhost{Name: "v", Tags: []string{"a b"}, Tracing: &tracing}},
		{Action: plan.Create, Kind: definitions.KindQueue, After: &definitions.Queue{Vhost: "v", Name: "q", Arguments: definitions.TableOf(map[string]any{"x-max-length": int64(10), "x-queue-type": "quorum"})}},
		{Action: plan.Create, Kind: definitions.KindPermission, After: &definitions.Permission{User: "u", Vhost: "v", Configure: "^a b$", Write: ".*", Read: ""}},
	}
	body, err := importDocument(changes, definitions.ResolveSecret)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, compact.Bytes()) {
		t.Errorf("the import document is not compact:\n%s", body)
	}
	want := `{"vhosts":[{"name":"v","tags":["a b"],"tracing":true}],"permissions":[{"user":"u","vhost":"v","configure":"^a b$","write":".*","read":""}],"queues":[{"name":"q","vhost":"v","arguments":{"x-max-length":10,"x-queue-type":"quorum"}}]}`
	if string(body) != want {
		t.Errorf("the import document:\n%s\nwant\n%s", body, want)
	}
}
