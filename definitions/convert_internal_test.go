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
