package definitions_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/defgen"
)

// TestEncodeCompactJSON: the compact encoding is EncodeJSON's without the
// whitespace, byte for byte.
func TestEncodeCompactJSON(t *testing.T) {
	docs := map[string][]byte{
		"generated": defgen.Generate(3000),
		"values": []byte(`{"vhosts":[{"name":"v","description":"caf\u00e9 <&>","tags":["a","b"]}],
			"policies":[{"vhost":"v","name":"p","pattern":"^a\\.b$","definition":{"max-length":1.0,"x":[1,2.5,"s",{"k":null}],"ha-mode":"all"}}],
			"queues":[{"vhost":"v","name":"q","arguments":{"x-message-ttl":1e3,"nested":{"b":true,"a":[]}}}]}`),
	}
	files, _ := filepath.Glob("../examples/*/*.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = data
	}
	for name, data := range docs {
		doc, diags := definitions.Parse("defs.json", data)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags.Error())
		}
		pretty, compact := doc.EncodeJSON(), doc.EncodeCompactJSON()
		var want bytes.Buffer
		if err := json.Compact(&want, pretty); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(compact, want.Bytes()) {
			t.Errorf("%s: EncodeCompactJSON\n%s\nwant\n%s", name, compact, want.Bytes())
		}
	}
}
