package definitions

import (
	"bytes"
	"encoding/json"
	"strings"
)

// What the views (package render) need of the model's canonical form,
// without the ordered tree itself.

// Field is one field of an object: of an object's fields as warren fmt
// writes them (FieldsOf), or of a Table.
type Field struct {
	Name  string
	Value any // a model value: OneLine and PrettyJSON print it
}

// FieldsOf is o's fields in canonical order.
func FieldsOf(o Object) []Field {
	return treeOf(o)
}

// treeOf is o's fields in canonical order, from the table of kinds.
func treeOf(o Object) omap { return info(o.Kind()).tree(o) }

// OneLine writes a model value (a field's value, an object's fields) as one
// line of JSON for people: an object's fields in canonical order, separated
// by ", "; nil is "(none)". The views (package render) print values so.
func OneLine(v any) string {
	if v == nil {
		return "(none)"
	}
	var b bytes.Buffer
	switch v := v.(type) {
	case omap:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(&b, m.Name)
			b.WriteString(": ")
			b.WriteString(OneLine(m.Value))
		}
		b.WriteByte('}')
	default:
		writeCompact(&b, v)
	}
	return b.String()
}

// PrettyJSON writes a model value as indented JSON with sorted keys, numbers
// exact, for the line diffs of long values in the views.
func PrettyJSON(v any) string {
	var b bytes.Buffer
	dec := json.NewDecoder(strings.NewReader(CanonicalJSON(v)))
	dec.UseNumber() // numbers stay as written: 2^53+1 is not 2^53
	var raw any
	dec.Decode(&raw)
	writeJSON(&b, toOrdered(raw), "\n")
	return b.String() + "\n"
}

// toOrdered turns decoded JSON into values writeJSON takes.
func toOrdered(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = toOrdered(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toOrdered(e)
		}
		return out
	}
	return v
}
