package schema_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/internal/golden"
	"github.com/warren-tool/warren/schema"
)

func TestValidateAcceptsAndRejects(t *testing.T) {
	num := func(s string) any { return json.Number(s) }
	tests := []struct {
		name string
		doc  map[string]any
		want []string // pointer + code
	}{
		{"empty document", map[string]any{}, nil},
		{"minimal user", map[string]any{"users": []any{map[string]any{"name": "a"}}}, nil},
		{"user without name", map[string]any{"users": []any{map[string]any{"tags": []any{}}}}, []string{"/users/0 E011"}},
		{"password from env", map[string]any{"users": []any{map[string]any{"name": "a", "password": map[string]any{"env": "X"}}}}, nil},
		{"password from nowhere", map[string]any{"users": []any{map[string]any{"name": "a", "password": map[string]any{"vault": "X"}}}}, []string{"/users/0/password E010"}},
		{"limit not integer", map[string]any{"users": []any{map[string]any{"name": "a", "limits": map[string]any{"max-channels": num("1.5")}}}}, []string{"/users/0/limits/max-channels E010"}},
		{"unknown limit", map[string]any{"users": []any{map[string]any{"name": "a", "limits": map[string]any{"max-queues": num("1")}}}}, []string{"/users/0/limits E012"}},
		{"users not a list", map[string]any{"users": map[string]any{}}, []string{"/users E010"}},
		{"binding destination type", map[string]any{"bindings": []any{map[string]any{"source": "", "destination": "q", "destination_type": "queues"}}}, []string{"/bindings/0/destination_type E012"}},
		{"operator policy needs definition", map[string]any{"parameters": []any{map[string]any{"component": "operator_policy", "name": "o", "value": map[string]any{"pattern": ".*"}}}}, []string{"/parameters/0/value E011"}},
		{"unknown fields allowed", map[string]any{"whatever": 1, "queues": []any{map[string]any{"name": "q", "x": true}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range schema.Validate(tt.doc) {
				got = append(got, d.Pointer+" "+string(d.Code))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchemaIsValidJSONSchema compiles the embedded schema (Validate panics
// otherwise) and checks it names its own $id.
func TestSchemaIsValidJSONSchema(t *testing.T) {
	schema.Validate(map[string]any{})
	if !regexp.MustCompile(`"\$id": "` + regexp.QuoteMeta(schema.URL) + `"`).Match(schema.JSON) {
		t.Errorf("schema $id is not %s", schema.URL)
	}
}

func TestPropertiesOfEveryKind(t *testing.T) {
	for _, def := range []string{"", "user", "vhost", "permission", "topic_permission", "parameter", "global_parameter", "policy", "queue", "exchange", "binding"} {
		if len(schema.Properties(def)) == 0 {
			t.Errorf("$defs/%s lists no properties", def)
		}
	}
	if !slices.Contains(schema.Properties("user"), "activemq") {
		t.Error("user has no activemq property")
	}
}

func TestCodesAreUniqueAndDocumented(t *testing.T) {
	seen := map[schema.Code]bool{}
	for _, in := range schema.Codes {
		if seen[in.Code] {
			t.Errorf("code %s listed twice", in.Code)
		}
		seen[in.Code] = true
		wantSev := schema.Warning
		if in.Code[0] == 'E' {
			wantSev = schema.Error
		}
		if in.Severity != wantSev {
			t.Errorf("%s has severity %s", in.Code, in.Severity)
		}
		if in.Title == "" || in.Detail == "" {
			t.Errorf("%s is not explained", in.Code)
		}
	}
	golden.File(t, "../docs/diagnostics.md", schema.Markdown())
}

func TestDiagnosticString(t *testing.T) {
	tests := []struct {
		d    schema.Diagnostic
		want string
	}{
		{schema.Diagnostic{File: "a.yaml", Pos: schema.Pos{Line: 12, Col: 7}, Pointer: "/permissions/3/vhost", Code: "W104", Message: `vhost "orders" is not defined`},
			`a.yaml:12:7: /permissions/3/vhost: vhost "orders" is not defined [W104]`},
		{schema.Diagnostic{File: "a.yaml", Code: "E006", Message: "cannot read"}, "a.yaml: cannot read [E006]"},
		{schema.Diagnostic{File: "b.json", Pos: schema.Pos{Line: 2, Col: 3}, Pointer: "/users/1", Code: "E020", Message: "defined twice",
			Also: &schema.Location{File: "a.json", Pos: schema.Pos{Line: 5, Col: 1}, Pointer: "/users/0"}},
			"b.json:2:3: /users/1: defined twice (also at a.json:5:1 /users/0) [E020]"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestPointerTokens(t *testing.T) {
	for _, tok := range []string{"plain", "a/b", "t~1", "~/~"} {
		p := "/x/" + schema.EscapePointerToken(tok)
		if got := schema.SplitPointer(p); !slices.Equal(got, []string{"x", tok}) {
			t.Errorf("SplitPointer(%q) = %q", p, got)
		}
	}
}

// TestEveryCodeConstantIsListed parses codes.go: a code constant missing
// from Codes would be undocumented.
func TestEveryCodeConstantIsListed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[schema.Code]bool{}
	for _, in := range schema.Codes {
		listed[in.Code] = true
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		code, _ := strconv.Unquote(lit.Value)
		n++
		if !listed[schema.Code(code)] {
			t.Errorf("constant %s = %s is not in Codes", vs.Names[0], code)
		}
		return true
	})
	if n != len(schema.Codes) {
		t.Errorf("%d code constants, %d listed", n, len(schema.Codes))
	}
}
