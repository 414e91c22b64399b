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
