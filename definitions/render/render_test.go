package render_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
)

// TestNumbersStayExact diffs values that float64 cannot tell apart: every
// rendering must show both, and a diff of equal values written differently
// (1.0 and 1) must find nothing.
func TestNumbersStayExact(t *testing.T) {
	parse := func(text string) *definitions.Document {
		t.Helper()
		d, diags := definitions.Parse("defs.json", []byte(text))
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return d
	}
	policy := `{"policies": [{"name": "p", "vhost": "v", "pattern": ".*", "definition": {"max-length-bytes": %s, "big": %s}}]}`
	desired := parse(strings.NewReplacer("%s", "9007199254740993").Replace(policy))
	live := parse(strings.NewReplacer("%s", "9007199254740992").Replace(policy))
	p, err := plan.Diff(desired, live)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 {
		t.Fatalf("want one change, got %d", len(p.Changes))
	}
	var text bytes.Buffer
	render.Text(&text, p, render.Options{})
	js, err := json.Marshal(render.ToJSON(p))
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "json": string(js)} {
		if !strings.Contains(out, "9007199254740992") || !strings.Contains(out, "9007199254740993") {
			t.Errorf("%s rendering lost a digit:\n%s", name, out)
		}
	}

	// Beyond int64, and the same number written two ways.
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"18446744073709551617", "18446744073709551616", false},
		{"1.0", "1", true},
		{"1e3", "1000", true},
		{"0.1", "0.10", true},
		{"100000000000000000001", "1e20", false},
	} {
		a := parse(strings.NewReplacer("%s", tt.a).Replace(policy))
		b := parse(strings.NewReplacer("%s", tt.b).Replace(policy))
		p, err := plan.Diff(a, b)
		if err != nil {
			t.Fatal(err)
		}
		if p.Empty() != tt.same {
			t.Errorf("%s against %s: in sync = %v, want %v", tt.a, tt.b, p.Empty(), tt.same)
		}
	}
}
