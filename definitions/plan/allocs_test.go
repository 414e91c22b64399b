package plan_test

import (
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/defgen"
)

// TestDiffInSyncAllocations bounds what a diff in sync allocates per
// object (make bench's shape, a tenth of it): each object's key is made
// once, and values that are the same are not written out to compare
// them. 31 allocations an object before, 21 after (the live digest, on
// another core, is most of what remains).
func TestDiffInSyncAllocations(t *testing.T) {
	shape := defgen.Shape{Vhosts: 10, Users: 1000, Queues: 1000, Exchanges: 100, Bindings: 1000, Policies: 10}
	data := shape.Broker()
	desired, _ := definitions.Parse("desired.json", data)
	live, _ := definitions.Parse("live.json", data)
	allocs := testing.AllocsPerRun(5, func() {
		p, err := plan.Diff(desired, live)
		if err != nil || !p.Empty() {
			t.Fatal(err, len(p.Changes))
		}
	})
	perObject := allocs / float64(shape.Objects())
	t.Logf("%.1f allocations an object", perObject)
	if perObject > 25 {
		t.Errorf("a diff in sync allocates %.1f times an object, want at most 25", perObject)
	}
}
