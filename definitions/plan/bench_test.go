package plan_test

import (
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/defgen"
)

// BenchmarkDiff times the diff computation alone on a 150,000-object
// document against a live copy with 1% of its objects changed.
func BenchmarkDiff(b *testing.B) {
	data := defgen.Generate(150000)
	desired, diags := definitions.Parse("desired.json", data)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	live, _ := definitions.Parse("live.json", append([]byte(nil), data...))
	for i, p := range live.Permissions {
		if i%100 == 0 {
			p.Configure = "changed"
		}
	}
	b.ResetTimer()
	for b.Loop() {
		p, err := plan.Diff(desired, live)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Changes) != len(live.Permissions)/100+1 && len(p.Changes) != len(live.Permissions)/100 {
			b.Fatalf("%d changes", len(p.Changes))
		}
	}
}

// BenchmarkDiffInSync is warren diff's computation on the make bench
// broker: 41,200 objects, nothing changed.
func BenchmarkDiffInSync(b *testing.B) {
	data := defgen.BenchShape.Broker()
	desired, _ := definitions.Parse("desired.json", data)
	live, _ := definitions.Parse("live.json", data)
	b.ReportAllocs()
	for b.Loop() {
		p, err := plan.Diff(desired, live)
		if err != nil || !p.Empty() {
			b.Fatal(err, len(p.Changes))
		}
	}
}

// BenchmarkDiffInSyncOwned is BenchmarkDiffInSync for an owner whose
// record on the broker holds every object, as apply wrote it: what an
// owner adds to a diff's computation (the record read from its value, the
// record the plan would write, compared with it).
func BenchmarkDiffInSyncOwned(b *testing.B) {
	data := defgen.BenchShape.Broker()
	desired, _ := definitions.Parse("desired.json", data)
	live, _ := definitions.Parse("live.json", data)
	p, err := plan.Diff(desired, live, plan.WithOwnership(&plan.Ownership{Owner: "bench"}))
	if err != nil {
		b.Fatal(err)
	}
	value := p.Record.Value()
	b.ReportAllocs()
	for b.Loop() {
		mine, err := plan.ReadRecord(plan.OwnerParameterPrefix+"bench", value)
		if err != nil {
			b.Fatal(err)
		}
		p, err := plan.Diff(desired, live, plan.WithOwnership(&plan.Ownership{Owner: "bench", Mine: mine}))
		if err != nil || !p.Empty() || p.RecordChanged() {
			b.Fatal(err, len(p.Changes), p.RecordChanged())
		}
	}
}
