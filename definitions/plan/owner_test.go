package plan_test

import (
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// A record goes into its global parameter's value and comes back the
// same, whatever its names hold; a value that is not one is refused.
func TestRecordValue(t *testing.T) {
	desired, diags := definitions.Parse("d.json", []byte(`{"vhosts":[{"name":"a"},{"name":"line\nbreak"}],"users":[{"name":"é ☃","password_hash":"","tags":[]}],
"queues":[{"name":"q\u0000nul","vhost":"a","durable":true},{"name":"q2","vhost":"a","durable":true}]}`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, err := plan.Diff(desired, &definitions.Document{}, plan.WithOwnership(&plan.Ownership{Owner: "team-a"}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Record.Len() != 5 || !p.RecordChanged() {
		t.Fatalf("the plan's record: %d objects, changed %v", p.Record.Len(), p.RecordChanged())
	}
	got, err := plan.ReadRecord(plan.OwnerParameterPrefix+"team-a", p.Record.Value())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(p.Record) {
		t.Errorf("read back %v, want %v", got.Objects, p.Record.Objects)
	}
	for _, o := range []definitions.Object{desired.Vhosts[1], desired.Users[0], desired.Queues[0]} {
		if !got.Has(o) {
			t.Errorf("the record read back lacks %s", o.Addr())
		}
	}
	// Someone else's name, a truncated value, something else entirely.
	if _, err := plan.ReadRecord(plan.OwnerParameterPrefix+"team-b", p.Record.Value()); err == nil || !strings.Contains(err.Error(), `owner "team-a"`) {
		t.Errorf("a record under another owner's name: %v", err)
	}
	v := p.Record.Value()
	v["objects"] = v["objects"].(string)[:20]
	if _, err := plan.ReadRecord(plan.OwnerParameterPrefix+"team-a", v); err == nil {
		t.Error("a truncated record was read")
	}
	if _, err := plan.ReadRecord(plan.OwnerParameterPrefix+"team-a", map[string]any{"holder": "x"}); err == nil {
		t.Error("a value that is no record was read")
	}
}

// An owner's prune plan: what its record holds and the files dropped is
// deleted; another owner's objects and objects in no record are counted,
// never deleted; a forgotten object leaves the record and stays; a
// take-over releases the object from the other owner's record.
func TestOwnershipPlan(t *testing.T) {
	live, _ := definitions.Parse("live.json", []byte(`{"vhosts":[{"name":"v"}],"queues":[
{"name":"mine-kept","vhost":"v","durable":true},{"name":"mine-dropped","vhost":"v","durable":true},
{"name":"mine-forgotten","vhost":"v","durable":true},{"name":"theirs","vhost":"v","durable":true},
{"name":"taken","vhost":"v","durable":true},{"name":"byhand","vhost":"v","durable":true}]}`))
	desired, diags := definitions.Parse("d.yaml", []byte(`warren:
  owner: a
  forget:
    - {kind: queues, vhost: v, name: mine-forgotten}
vhosts:
  - {name: v}
queues:
  - {name: mine-kept, vhost: v, durable: true}
  - {name: taken, vhost: v, durable: true}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	rec := func(owner string, names ...string) *plan.Record {
		var qs []*definitions.Queue
		for _, n := range names {
			qs = append(qs, &definitions.Queue{Name: n, Vhost: "v"})
		}
		p, err := plan.Diff(&definitions.Document{Queues: qs}, &definitions.Document{}, plan.WithOwnership(&plan.Ownership{Owner: owner}))
		if err != nil {
			t.Fatal(err)
		}
		return p.Record
	}
	own := &plan.Ownership{Owner: "a", Mine: rec("a", "mine-kept", "mine-dropped", "mine-forgotten"),
		Others: map[string]*plan.Record{"b": rec("b", "theirs", "taken")}}
	if _, err := plan.Diff(desired, live, plan.WithPrune(true), plan.WithOwnership(own), plan.WithForget(desired.Settings.Forgotten)); err == nil {
		t.Fatal("a plan naming another owner's queue without a take-over was made")
	}
	own.TakeOver = true
	p, err := plan.Diff(desired, live, plan.WithPrune(true), plan.WithOwnership(own), plan.WithForget(desired.Settings.Forgotten))
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, ch := range p.Changes {
		if ch.Action == plan.Delete {
			deleted = append(deleted, ch.Addr.String())
		}
	}
	if len(deleted) != 1 || deleted[0] != `queue "mine-dropped" on vhost "v"` {
		t.Errorf("deleted %v, want only mine-dropped", deleted)
	}
	if p.OwnedElsewhere["b"] != 1 || p.NotOwned[definitions.KindQueue] != 1 {
		t.Errorf("owned elsewhere %v, owned by no one %v", p.OwnedElsewhere, p.NotOwned)
	}
	if len(p.Forgotten) != 1 || len(p.TakeOvers) != 1 || p.TakeOvers[0].From != "b" {
		t.Errorf("forgotten %v, taken over %v", p.Forgotten, p.TakeOvers)
	}
	want := rec("a", "mine-kept", "taken")
	want.Objects[definitions.KindVhost] = []string{"v"}
	if !p.Record.Equal(want) {
		t.Errorf("a's record after the plan: %v, want %v", p.Record.Objects, want.Objects)
	}
	if b := p.Released["b"]; b == nil || b.Has(&definitions.Queue{Name: "taken", Vhost: "v"}) || !b.Has(&definitions.Queue{Name: "theirs", Vhost: "v"}) {
		t.Errorf("b's record after the take-over: %+v", b)
	}
}
