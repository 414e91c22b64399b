package operation

import (
	"fmt"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/defgen"
)

// BenchmarkAccessChangesOnePercent is the access section of make bench's
// apply with 1% changed: 412 of the 41,200-object broker's permissions get
// a new configure pattern.
func BenchmarkAccessChangesOnePercent(b *testing.B) {
	data := defgen.BenchShape.Broker()
	live, diags := definitions.Parse("live.json", data)
	if diags.HasErrors() {
		b.Fatalf("generated document: %v", diags)
	}
	desired, _ := definitions.Parse("defs.json", data)
	for i := range 412 {
		p := *desired.Permissions[i]
		p.Configure = fmt.Sprintf(`^changed-%d\.`, i)
		desired.Permissions[i] = &p
	}
	p, err := plan.Diff(desired, live)
	if err != nil {
		b.Fatal(err)
	}
	if len(p.Changes) != 412 {
		b.Fatalf("%d changes, want 412", len(p.Changes))
	}
	b.ReportAllocs()
	for b.Loop() {
		AccessChanges(live, p, "4.3.6")
	}
}
