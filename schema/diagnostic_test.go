package schema_test

import (
	"testing"

	"github.com/warren-tool/warren/schema"
)

// A diagnostic prints as file:line:col: pointer: message (also at …)
// [code], each part only when it has one; AppendText appends the same
// text to what the buffer holds.
func TestDiagnosticText(t *testing.T) {
	also := &schema.Location{File: "a.json", Pos: schema.Pos{Line: 5, Col: 1}, Pointer: "/users/0"}
	for _, c := range []struct {
		d    schema.Diagnostic
		want string
	}{
		{schema.Diagnostic{File: "defs.json", Pos: schema.Pos{Line: 12, Col: 7}, Pointer: "/users/3", Code: "E001", Message: "bad"},
			"defs.json:12:7: /users/3: bad [E001]"},
		{schema.Diagnostic{File: "defs.json", Code: "W100", Message: "no place"}, "defs.json: no place [W100]"},
		{schema.Diagnostic{Pointer: "/vhosts", Code: "E002", Message: "m", Also: also},
			"/vhosts: m (also at " + also.String() + ") [E002]"},
		{schema.Diagnostic{Code: "E003", Message: "bare"}, "bare [E003]"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
		if got := string(c.d.AppendText([]byte("> "))); got != "> "+c.want {
			t.Errorf("AppendText = %q, want %q", got, "> "+c.want)
		}
	}
}
