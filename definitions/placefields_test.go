package definitions_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// PlaceFields places objects' fields where a Diagnoser places diagnostics
// at them, and FieldPointer and AppendFieldPointer are the pointers those
// diagnostics show: in a JSON file held in memory, a large one parsed from
// a mapping (placed from a mapping again, where the Diagnoser, after it,
// reads the file), two files at once, a YAML file and a file of Topology
// Operator resources.
func TestPlaceFieldsAsDiagnoser(t *testing.T) {
	var big strings.Builder
	big.WriteString("{\"vhosts\": [{\"name\": \"v\"}],\n\"permissions\": [\n")
	for i := range 20000 {
		if i > 0 {
			big.WriteString(",\n")
		}
		fmt.Fprintf(&big, `  {"user": "user-%d", "vhost": "v", "configure": "^c", "write": "^w\u00e9", "read": ".*"}`, i)
	}
	big.WriteString("\n]}\n")
	path := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(path, []byte(big.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	bigDoc, diags := definitions.Load([]string{path}, definitions.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	small := filepath.Join(t.TempDir(), "small.json")
	if err := os.WriteFile(small, []byte(`{"users": [{"name": "z", "tags": []}], "queues": [{"name": "q", "vhost": "v", "durable": true}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	two, diags := definitions.Load([]string{path, small}, definitions.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	docs := map[string]*definitions.Document{"big.json": bigDoc, "two files": two}
	for name, text := range map[string]string{
		"small.json": `{"users": [{"name": "a", "tags": []}, {"name": "b", "tags": ["x"]}],
 "permissions": [{"user": "a", "vhost": "/", "configure": "x", "write": "y", "read": "z"}]}`,
		"defs.yaml": "users:\n  - name: a\n    tags: []\npermissions:\n  - user: a\n    vhost: /\n    configure: x\n    write: y\n    read: z\n",
		"res.yaml": "apiVersion: rabbitmq.com/v1beta1\nkind: Queue\nmetadata: {name: q}\nspec: {name: q, rabbitmqClusterReference: {name: r}}\n" +
			"---\napiVersion: rabbitmq.com/v1beta1\nkind: Exchange\nmetadata: {name: e}\nspec:\n  name: e\n  rabbitmqClusterReference: {name: r}\n",
	} {
		d, diags := definitions.Parse(name, []byte(text))
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		docs[name] = d
	}
	fields := []string{"", "configure", "write", "read", "name", "tags", "nothing"}
	for name, d := range docs {
		var objs []definitions.Object
		for _, k := range definitions.Kinds {
			for o := range d.All(k) {
				objs = append(objs, o)
			}
		}
		if len(objs) == 0 {
			t.Fatalf("%s: no objects", name)
		}
		field := func(i int) string { return fields[i%len(fields)] }
		got := make([]schema.Pos, len(objs))
		definitions.PlaceFields(len(objs), func(i int) (definitions.Object, string) { return objs[i], field(i) },
			func(i int, p schema.Pos) { got[i] = p })
		var g definitions.Diagnoser
		for i, o := range objs {
			g.AddField(o, field(i), schema.Warning, "W000", "")
		}
		for i, want := range g.Diagnostics() {
			ptr := definitions.FieldPointer(objs[i], field(i))
			appended := string(definitions.AppendFieldPointer([]byte("x"), objs[i], field(i)))
			if got[i] != want.Pos || ptr != want.Pointer || appended != "x"+want.Pointer {
				t.Errorf("%s: %s field %q: placed at %v, pointer %q (appended %q); a Diagnoser places it at %v, %q",
					name, objs[i].Addr(), field(i), got[i], ptr, appended, want.Pos, want.Pointer)
			}
			if want.Pos.Line == 0 && field(i) != "nothing" {
				t.Errorf("%s: %s field %q: not placed", name, objs[i].Addr(), field(i))
			}
		}
	}
}
