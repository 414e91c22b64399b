package plan

import (
	"encoding/json"
	"testing"

	"github.com/warren-tool/warren/definitions"
)

// TestEqualValuesWithoutText: values that are the same are found so
// without writing their canonical JSON (a diff in sync compares 10,000
// queues' arguments and 10,000 users' limits), and equal never says
// "the same" of values whose canonical JSON differs.
func TestEqualValuesWithoutText(t *testing.T) {
	args := func() map[string]any {
		return map[string]any{"x-queue-type": "quorum", "x-max-length": int64(10), "x-single-active-consumer": true,
			"x-nested": map[string]any{"list": []any{"a", json.Number("1.5"), int64(2)}, "empty": map[string]any{}}}
	}
	d, l := args(), args()
	dl, ll := map[string]int64{"max-connections": 10}, map[string]int64{"max-connections": 10}
	allocs := testing.AllocsPerRun(50, func() {
		var f Fields
		f.value("arguments", d, l)
		f.value("limits", dl, ll)
		if len(f) > 0 {
			t.Fatalf("same values differ: %+v", f)
		}
	})
	if allocs != 0 {
		t.Errorf("comparing the same values allocated %v times: their text was written", allocs)
	}

	pairs := []struct {
		a, b   any
		differ bool // as the broker sees them
	}{
		{args(), args(), false},
		{json.Number("1"), json.Number("1.0"), false}, // equal by value, through the canonical form
		{map[string]any{"n": json.Number("1e0")}, map[string]any{"n": int64(1)}, false},
		{map[string]any{"a": "x"}, map[string]any{"a": "y"}, true},
		{map[string]any{"a": "x"}, map[string]any{"b": "x"}, true},
		{map[string]any{"a": "x"}, map[string]any{"a": "x", "b": "y"}, true},
		{[]any{"a", "b"}, []any{"b", "a"}, true},
		{[]any{"a"}, []any{"a", "a"}, true},
		{map[string]int64{"max-queues": 1}, map[string]int64{"max-queues": 2}, true},
		{map[string]int64{"max-queues": 1}, map[string]int64{}, true},
		{int64(1), "1", true},
		{map[string]any(nil), map[string]any{}, false},
	}
	for _, p := range pairs {
		if equal(p.a, p.b) && definitions.CanonicalJSON(p.a) != definitions.CanonicalJSON(p.b) {
			t.Errorf("equal(%#v, %#v), but their canonical JSON differs", p.a, p.b)
		}
		var f Fields
		f.value("v", p.a, p.b)
		if got := len(f) > 0; got != p.differ {
			t.Errorf("value(%#v, %#v) records a change: %v, want %v", p.a, p.b, got, p.differ)
		}
	}
}
