package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/schema"
)

// The fast path decides validity for the library; these tests check that
// the two always agree, on real files and on every way of breaking them.

func decodeNumbers(data []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	return v, true
}

// mutations are what a value is replaced by, one at a time.
var mutations = []any{json.Number("5"), json.Number("-2"), json.Number("1.5"), "s", "", true, nil, map[string]any{}, []any{}, []any{json.Number("1")}, map[string]any{"env": "X"}}

func checkAgree(t *testing.T, name string, doc any) {
	t.Helper()
	if f, r := schema.FastValid("", doc), schema.ReferenceValid("", doc); f != r {
		b, _ := json.Marshal(doc)
		t.Fatalf("%s: fast path says valid=%v, the library %v, for\n%s", name, f, r, b)
	}
}

// mutate calls try with doc changed at one place, for every place.
func mutate(v any, set func(any), try func()) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			for _, m := range mutations {
				v[k] = m
				try()
			}
			delete(v, k)
			try()
			v[k] = e
			mutate(e, func(x any) { v[k] = x }, try)
		}
		v["unexpected"] = json.Number("1")
		try()
		delete(v, "unexpected")
	case []any:
		for i, e := range v {
			for _, m := range mutations {
				v[i] = m
				try()
			}
			v[i] = e
			mutate(e, func(x any) { v[i] = x }, try)
		}
	}
}

func TestFastPathAgrees(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/*/*.json")
	more, _ := filepath.Glob("../../shared/corpus/rabbitmq-server/history/*.json")
	files = append(files, more...)
	examples, _ := filepath.Glob("testdata/agree/*.json")
	files = append(files, examples...)
	if len(files) < 60 {
		t.Fatalf("found %d files", len(files))
	}
	checked := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, ok := decodeNumbers(data)
		if !ok {
			continue
		}
		checkAgree(t, f, doc)
		checked++
		if len(data) > 3000 {
			continue // mutating every place of the large files takes too long
		}
		mutate(doc, nil, func() { checkAgree(t, f, doc) })
	}
	if checked < 60 {
		t.Fatalf("checked %d files", checked)
	}
}

func FuzzFastPathAgrees(f *testing.F) {
	f.Add([]byte(`{"users":[{"name":"a","password":{"env":"X"},"tags":"a,b","limits":{"max-channels":-1}}]}`))
	f.Add([]byte(`{"parameters":[{"component":"vhost-limits","name":"l","value":{"max-queues":1.0}}]}`))
	f.Add([]byte(`{"parameters":[{"component":"operator_policy","name":"o","vhost":"v","value":{"pattern":"","definition":{}}}]}`))
	f.Add([]byte(`{"policies":[{"name":"p","pattern":"","apply-to":"streams","priority":1e2,"definition":{}}],"bindings":[{"source":"","destination":"d","destination_type":"exchange"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if doc, ok := decodeNumbers(data); ok {
			checkAgree(t, "fuzz", doc)
		}
	})
}
