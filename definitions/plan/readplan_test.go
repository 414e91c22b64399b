package plan_test

import (
	"testing"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/defgen"
)

// TestReadSavedPlanSkipsDefinitions: apply asks ReadSavedPlan of every
// definitions file named *.json; one that cannot hold a "warren" key is
// answered without decoding it, and a key written with escapes is still
// found.
func TestReadSavedPlanSkipsDefinitions(t *testing.T) {
	data := defgen.Shape{Vhosts: 10, Users: 1000, Queues: 1000}.Broker()
	allocs := testing.AllocsPerRun(5, func() {
		sp, err := plan.ReadSavedPlan(data)
		if sp != nil || err != nil {
			t.Fatal(sp, err)
		}
	})
	if allocs > 0 {
		t.Errorf("reading %d bytes of definitions as a plan allocated %v times: they were decoded", len(data), allocs)
	}
	for _, doc := range []string{`{"\u0077arren": "definitions"}`, `{"users": [], "warren": 1}`} {
		if _, err := plan.ReadSavedPlan([]byte(doc)); err == nil {
			t.Errorf("%s: read as definitions, want the error of a plan that does not read as one", doc)
		}
	}
}
