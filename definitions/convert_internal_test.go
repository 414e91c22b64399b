package definitions

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/warren-tool/warren/schema"
)

// TestTypedFieldsAreInTheSchema keeps the model and the schema in step:
// every field the model reads must be a property the schema describes,
// otherwise validate would warn about it as unknown.
func TestTypedFieldsAreInTheSchema(t *testing.T) {
	for def, fields := range typed {
		props := schema.Properties(def)
		for _, f := range fields {
			if !slices.Contains(props, f) {
				t.Errorf("$defs/%s has no property %q", def, f)
			}
		}
	}
	for _, f := range typedTop {
		if !slices.Contains(schema.Properties(""), f) {
			t.Errorf("the schema's top level has no property %q", f)
		}
	}
	for _, r := range kindTable {
		if !slices.Contains(schema.Properties(""), string(r.Kind)) {
			t.Errorf("the schema's top level has no %q", r.Kind)
		}
		if _, ok := typed[r.Schema]; !ok {
			t.Errorf("no typed fields for %s", r.Schema)
		}
		if !slices.Contains(typedTop, string(r.Kind)) {
			t.Errorf("typedTop leaves out the kind %q", r.Kind)
		}
	}
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"3.0.4", "3.6.0", true},
		{"3.6.0", "3.6.0", false},
		{"3.10.8", "3.6.0", false},
		{"3.5.7+rc.1", "3.6", true},
		{"3.8.6.gad0c0bd", "3.6.0", false},
		{"", "3.6.0", true},
	}
	for _, tt := range tests {
		if got := versionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("versionLess(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestLocateJSON(t *testing.T) {
	data := []byte("{\n  \"a\": [1, {\"b\": \"x\\\"y\"}, [2]],\n  \"é\": {\"c/d\": true}\n}")
	li := newLineIndex(data)
	tests := map[string]schema.Pos{
		"":           {Line: 1, Col: 1},
		"/a":         {Line: 2, Col: 3},
		"/a/1":       {Line: 2, Col: 12},
		"/a/1/b":     {Line: 2, Col: 13},
		"/a/2/0":     {Line: 2, Col: 28},
		"/é/c~1d":    {Line: 3, Col: 9},
		"/a/9":       {Line: 2, Col: 3}, // missing: the deepest existing parent
		"/nope/deep": {Line: 1, Col: 1},
	}
	var ptrs []string
	for p := range tests {
		ptrs = append(ptrs, p)
	}
	got := locateJSON(data, ptrs)
	for p, want := range tests {
		if pos := li.pos(got[p]); pos != want {
			t.Errorf("%q at %v, want %v", p, pos, want)
		}
	}
}

func TestDecodeJSONValues(t *testing.T) {
	v, err := decodeJSON([]byte("\xEF\xBB\xBF{\"s\": \"a\\u00e9\\ud83d\\ude00\\n\", \"n\": -1.5e3, \"t\": true, \"z\": null, \"l\": []}"))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["s"] != "aé😀\n" || string(m["n"].(json.Number)) != "-1.5e3" || m["t"] != true || m["z"] != nil || len(m["l"].([]any)) != 0 {
		t.Errorf("decoded %#v", m)
	}
	for _, bad := range []string{`{"a":1,}`, `{"a" 1}`, `[01]`, `{"a":"\x01"}`, `{"a":tru}`, `{"a":"\q"}`, "{\"a\":\"\xff\"}", `{} {}`, `{"a":1e}`, `"unterminated`} {
		if _, err := decodeJSON([]byte(bad)); err == nil || err.code != schema.ESyntax {
			t.Errorf("%q: want a syntax error, got %v", bad, err)
		}
	}
	deep := []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100))
	if _, err := decodeJSON(deep); err == nil || err.code != schema.ETooDeep {
		t.Errorf("deep nesting: got %v", err)
	}
}
