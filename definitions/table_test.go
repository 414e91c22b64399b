package definitions

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTable(t *testing.T) {
	tab := TableOf(map[string]any{"x-queue-type": "quorum", "x-max-length": json.Number("10"), "a": true})
	if want := (Table{{"a", true}, {"x-max-length", json.Number("10")}, {"x-queue-type", "quorum"}}); !cmp.Equal(tab, want) {
		t.Errorf("TableOf is not sorted by name: %v", tab)
	}
	if v, ok := tab.Lookup("x-max-length"); !ok || v != json.Number("10") {
		t.Errorf("Lookup: %v %v", v, ok)
	}
	if v, ok := tab.Lookup("x-expires"); ok || v != nil || tab.Get("x-expires") != nil {
		t.Errorf("Lookup of a missing name: %v %v", v, ok)
	}

	// With and Without copy: the Table they are given stays as it was.
	before := TableOf(tab.Map())
	with := tab.With("x-expires", json.Number("5")).With("a", false).With("z", "last")
	if want := (Table{{"a", false}, {"x-expires", json.Number("5")}, {"x-max-length", json.Number("10")}, {"x-queue-type", "quorum"}, {"z", "last"}}); !cmp.Equal(with, want) {
		t.Errorf("With: %v", with)
	}
	without := tab.Without("a", "x-queue-type", "missing")
	if want := (Table{{"x-max-length", json.Number("10")}}); !cmp.Equal(without, want) {
		t.Errorf("Without: %v", without)
	}
	if !cmp.Equal(tab, before) {
		t.Errorf("With or Without changed the Table they were given: %v", tab)
	}
	if empty := (Table{{"a", true}}).Without("a"); empty == nil || len(empty) != 0 {
		t.Errorf("Without of every field must be {} (empty, not nil): %#v", empty)
	}

	// nil is absent, empty is {}: both survive JSON, as Map and TableOf.
	for _, c := range []struct {
		tab  Table
		json string
	}{{nil, "null"}, {Table{}, "{}"}, {tab, `{"a":true,"x-max-length":10,"x-queue-type":"quorum"}`}} {
		got, err := json.Marshal(c.tab)
		if err != nil || string(got) != c.json {
			t.Errorf("json.Marshal(%#v) = %s, %v; want %s", c.tab, got, err, c.json)
		}
		var back Table
		if err := json.Unmarshal(got, &back); err != nil || !cmp.Equal(back, c.tab) || (back == nil) != (c.tab == nil) {
			t.Errorf("json.Unmarshal(%s) = %#v, %v", got, back, err)
		}
		if m := c.tab.Map(); (m == nil) != (c.tab == nil) || !cmp.Equal(TableOf(m), c.tab) {
			t.Errorf("Map and TableOf of %#v: %#v", c.tab, m)
		}
	}

	// Long tables are searched, not scanned: every name is still found.
	long := Table{}
	for _, n := range []string{"k", "b", "x", "d", "m", "a", "q", "e", "z", "c", "y"} {
		long = long.With(n, n)
	}
	for _, f := range long {
		if long.Get(f.Name) != f.Name {
			t.Errorf("Get(%q) in a long table = %v", f.Name, long.Get(f.Name))
		}
	}
	if _, ok := long.Lookup("l"); ok {
		t.Error("Lookup found a name a long table does not have")
	}
}

// TestTableEqual: Equal is sure or says no; CanonicalJSON settles the rest.
func TestTableEqual(t *testing.T) {
	a := TableOf(map[string]any{"n": json.Number("1"), "l": []any{"x"}, "m": map[string]any{"k": true}})
	b := TableOf(map[string]any{"n": json.Number("1"), "l": []any{"x"}, "m": map[string]any{"k": true}})
	if !a.Equal(b) {
		t.Error("equal Tables are not Equal")
	}
	c := a.With("n", json.Number("1.0"))
	if a.Equal(c) {
		t.Error("1 and 1.0 are Equal, which only CanonicalJSON may say")
	}
	if CanonicalJSON(a) != CanonicalJSON(c) {
		t.Errorf("1 and 1.0 write differently: %s %s", CanonicalJSON(a), CanonicalJSON(c))
	}
	if a.Equal(a.Without("l")) || a.Equal(a.With("n", "1")) {
		t.Error("different Tables are Equal")
	}
	// null is null: go-cmp uses Equal too, so tests comparing documents
	// with a null argument depend on it.
	n := TableOf(map[string]any{"k": nil, "l": []any{nil}})
	if !n.Equal(TableOf(map[string]any{"k": nil, "l": []any{nil}})) || n.Equal(n.With("k", false)) {
		t.Error("nulls do not compare as themselves")
	}
}
