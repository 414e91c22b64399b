package definitions

import (
	"slices"
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
