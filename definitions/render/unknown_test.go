package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// A count warren does not have is never printed as 0.
func TestTakesWithUnknownCounts(t *testing.T) {
	v := &definitions.Vhost{Name: "data"}
	for _, tc := range []struct {
		name     string
		queues   []plan.QueueMessages
		want     []string
		dontWant []string
	}{
		{"a stream it cannot count",
			[]plan.QueueMessages{{Name: "events", Unknown: true}, {Name: "orders", Messages: 5}},
			[]string{"2 queues holding at least 5 messages", `"events" (an unknown number of messages)`, `"orders" (5 messages)`,
				"destroys at least 5 messages: apply refuses without --destroy-messages"},
			[]string{"0 messages"}},
		{"nothing counted",
			[]plan.QueueMessages{{Name: "events", Unknown: true}},
			[]string{"1 queue holding an unknown number of messages", "destroys an unknown number of messages"},
			[]string{"0 messages"}},
		{"counted when applying",
			[]plan.QueueMessages{{Name: "orders", Unknown: true, AtApply: true}},
			[]string{"1 queue holding an unknown number of messages", "counted when applying"},
			[]string{"0 messages", "destroys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &plan.Plan{Changes: []plan.Change{{Action: plan.Delete, Kind: definitions.KindVhost, Step: plan.StepDelete,
				Addr: plan.AddrOf(v), Before: v, Takes: &plan.VhostContents{Queues: tc.queues}}}}
			var b bytes.Buffer
			Text(&b, p, Options{})
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("the plan lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.dontWant {
				if strings.Contains(b.String(), w) {
					t.Errorf("the plan says %q:\n%s", w, b.String())
				}
			}
			js, _ := json.Marshal(ToJSON(p))
			if strings.Contains(b.String(), "unknown") && !strings.Contains(string(js), `"unknown":true`) {
				t.Errorf("the JSON plan does not say which count is unknown: %s", js)
			}
		})
	}
}
