package plan_test

import (
	"runtime"
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

// TestDiffInSyncSharesObjects bounds what a diff in sync allocates for a
// broker's users and queues as RabbitMQ 4.3 exports them (limits {}, a
// type and x-queue-type) against files whose users give no limits and
// whose queues no type:
// normalizing shares them instead of copying each (NormalizeShared), so
// that the live and desired objects are not held twice through a diff.
func TestDiffInSyncSharesObjects(t *testing.T) {
	shape := defgen.Shape{Vhosts: 10, Users: 2000, Queues: 2000}
	data := shape.Broker()
	desired, _ := definitions.Parse("desired.json", data)
	live, _ := definitions.Parse("live.json", data)
	noLimits := map[string]int64{}
	classic := definitions.Table{{Name: "x-queue-type", Value: "classic"}}
	for _, u := range live.Users {
		u.Limits = noLimits
	}
	for _, q := range live.Queues {
		q.Type, q.Arguments = "classic", classic
	}
	bytes := func() uint64 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.TotalAlloc
	}
	var p *plan.Plan
	before := bytes()
	p, err := plan.Diff(desired, live)
	perObject := float64(bytes()-before) / float64(shape.Users+shape.Queues)
	if err != nil || !p.Empty() {
		t.Fatal(err, p.Changes)
	}
	t.Logf("%.0f bytes an object", perObject)
	// 500 bytes an object when each user and queue was copied, each key
	// of the files' objects made, a new index made a kind and compared
	// strings and arguments made values; 118 since.
	if perObject > 200 {
		t.Errorf("a diff in sync allocates %.0f bytes an object, want at most 200", perObject)
	}
}
