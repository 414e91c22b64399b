package definitions_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/golden"
)

// FuzzLoad feeds arbitrary bytes to the loader as JSON and as YAML. Nothing
// may panic, and a file that loads without errors must format to a canonical
// form that loads again to the very same form.
//
// The seeds are testdata/fuzz/FuzzLoad plus every file of the golden
// diagnostics archives and the examples. CI runs it briefly (make test);
// make fuzz runs it longer.
func FuzzLoad(f *testing.F) {
	for _, ar := range golden.Glob(f, "testdata/diagnostics/*.txtar") {
		for _, file := range ar.Files {
			if file.Name != "want" {
				f.Add(file.Data, filepath.Ext(file.Name) != ".json")
			}
		}
	}
	examples, _ := filepath.Glob("../examples/*/*.yaml")
	for _, e := range examples {
		data, err := os.ReadFile(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, isYAML bool) {
		name := "fuzz.json"
		if isYAML {
			name = "fuzz.yaml"
		}
		doc, diags := definitions.Parse(name, data)
		if doc == nil || diags.HasErrors() {
			return
		}
		definitions.Check(doc, definitions.CheckOptions{Resolve: func(*definitions.Secret) (string, error) { return "Fuzz-Password-1", nil }})
		doc.Sort()
		once := doc.EncodeJSON()
		again, diags := definitions.Parse("again.json", once)
		if diags.HasErrors() {
			t.Fatalf("canonical JSON does not load:\n%s\n%s", diags.Error(), once)
		}
		again.Sort()
		if twice := again.EncodeJSON(); !bytes.Equal(once, twice) {
			t.Fatalf("formatting is not stable:\n%s\n---\n%s", once, twice)
		}
		y := doc.EncodeYAML("")
		fromYAML, diags := definitions.Parse("again.yaml", y)
		if diags.HasErrors() {
			t.Fatalf("canonical YAML does not load:\n%s\n%s", diags.Error(), y)
		}
		fromYAML.Sort()
		if got := fromYAML.EncodeJSON(); !bytes.Equal(once, got) {
			t.Fatalf("YAML form loads differently:\n%s\n---\n%s", once, got)
		}
	})
}
