package definitions

import (
	"bytes"
	"cmp"
	"encoding/json"
	"iter"
	"maps"
	"slices"
)

// Table is a JSON object as the model holds a queue's, an exchange's or a
// binding's arguments: its fields sorted by name (bytewise), each name once.
// nil is an absent object; an empty Table that is not nil is {}, and is
// written back so.
//
// A Table is a slice of its fields because a Go map of two entries takes
// 336 bytes, and an empty one 48: the arguments of make bench's 150,000
// objects were a quarter of what warren validate kept. An empty Table
// takes nothing.
//
// The model's Tables are shared (a broker's listing gives equal queues one
// Table, Normalize gives them one normalized Table) and never changed in
// place: With and Without return new ones. Policy definitions stay maps: a
// broker has few policies, and their checks read them as maps.
type Table []Field

// TableOf returns m's fields as a Table: nil for a nil map, an empty Table
// for an empty one.
func TableOf(m map[string]any) Table {
	if m == nil {
		return nil
	}
	t := make(Table, 0, len(m))
	for k, v := range m {
		t = append(t, Field{k, v})
	}
	slices.SortFunc(t, byName)
	return t
}

func byName(a, b Field) int { return cmp.Compare(a.Name, b.Name) }

// find returns the index of name in t, or where it would go.
func (t Table) find(name string) (int, bool) {
	if len(t) <= 8 { // arguments are few: a scan beats the search
		for i, f := range t {
			if f.Name >= name {
				return i, f.Name == name
			}
		}
		return len(t), false
	}
	return slices.BinarySearchFunc(t, name, func(f Field, n string) int { return cmp.Compare(f.Name, n) })
}

// Lookup returns the value of name, and whether t has it.
func (t Table) Lookup(name string) (any, bool) {
	if i, ok := t.find(name); ok {
		return t[i].Value, true
	}
	return nil, false
}

// Get returns the value of name, nil when t does not have it (as a map
// index would).
func (t Table) Get(name string) any {
	v, _ := t.Lookup(name)
	return v
}

// All ranges over t's names and values in order.
func (t Table) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for _, f := range t {
			if !yield(f.Name, f.Value) {
				return
			}
		}
	}
}

// With returns a copy of t with name set to v. It is not nil.
func (t Table) With(name string, v any) Table {
	i, ok := t.find(name)
	out := make(Table, 0, len(t)+1)
	out = append(out, t[:i]...)
	out = append(out, Field{name, v})
	if ok {
		i++
	}
	return append(out, t[i:]...)
}

// Without returns t without the named fields: t itself when it has none of
// them, else a copy (empty, not nil, when nothing is left).
func (t Table) Without(names ...string) Table {
	if !slices.ContainsFunc(t, func(f Field) bool { return slices.Contains(names, f.Name) }) {
		return t
	}
	out := make(Table, 0, len(t))
	for _, f := range t {
		if !slices.Contains(names, f.Name) {
			out = append(out, f)
		}
	}
	return out
}

// Map returns t as a new map: nil for a nil Table.
func (t Table) Map() map[string]any {
	if t == nil {
		return nil
	}
	m := make(map[string]any, len(t))
	for _, f := range t {
		m[f.Name] = f.Value
	}
	return m
}

// Equal reports whether t and u hold the same names with values that are
// surely equal (the same type and value, or Tables, maps and lists of
// such). false may still be two ways of writing one value (1 and 1.0):
// compare CanonicalJSON then.
func (t Table) Equal(u Table) bool {
	if len(t) != len(u) {
		return false
	}
	for i := range t {
		if t[i].Name != u[i].Name || !sameValue(t[i].Value, u[i].Value) {
			return false
		}
	}
	return true
}

// sameValue is Table.Equal's test of two values: true only when they are
// surely the same (CanonicalJSON would write them alike).
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && a == s
	case bool:
		v, ok := b.(bool)
		return ok && a == v
	case int64:
		v, ok := b.(int64)
		return ok && a == v
	case json.Number:
		v, ok := b.(json.Number)
		return ok && a == v
	case Table:
		u, ok := b.(Table)
		return ok && a.Equal(u)
	case map[string]any:
		m, ok := b.(map[string]any)
		if !ok || len(a) != len(m) {
			return false
		}
		for k, x := range a {
			y, ok := m[k]
			if !ok || !sameValue(x, y) {
				return false
			}
		}
		return true
	case []any:
		l, ok := b.([]any)
		if !ok || len(a) != len(l) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], l[i]) {
				return false
			}
		}
		return true
	case []string:
		l, ok := b.([]string)
		return ok && slices.Equal(a, l)
	case map[string]int64:
		m, ok := b.(map[string]int64)
		return ok && maps.Equal(a, m)
	}
	return false
}

// SameValue reports whether two model values are surely equal, compared
// without writing them (see Table.Equal); false means "not sure": compare
// their CanonicalJSON.
func SameValue(a, b any) bool { return sameValue(a, b) }

// MarshalJSON writes t as a JSON object, numbers as written; nil is null.
func (t Table) MarshalJSON() ([]byte, error) {
	if t == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	writeCompactAs(&b, t, false)
	return b.Bytes(), nil
}

// UnmarshalJSON reads a JSON object (numbers as json.Number, as warren's
// decoder gives them) or null.
func (t *Table) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*t = TableOf(m)
	return nil
}
