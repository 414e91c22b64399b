package schema_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/warren-tool/warren/internal/testcorpus"
	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
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

// ownFiles are the repository's own definitions, in every shape it has them:
// the agreement fixtures, the examples, and the JSON and YAML sections of the
// diagnostics and plan goldens (which hold every kind, valid and not).
func ownFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	agree, _ := filepath.Glob("testdata/agree/*.json")
	for _, f := range agree {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = data
	}
	examples, _ := filepath.Glob("../examples/*/*.yaml")
	more, _ := filepath.Glob("../examples/*/*/*.yaml")
	for _, f := range append(examples, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = data
	}
	var archives []string
	filepath.WalkDir("../definitions", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".txtar" {
			archives = append(archives, path)
		}
		return nil
	})
	for _, f := range archives {
		ar, err := txtar.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range ar.Files {
			if ext := filepath.Ext(file.Name); ext == ".json" || ext == ".yaml" || ext == ".yml" {
				out[f+"/"+file.Name] = file.Data
			}
		}
	}
	return out
}

// decodeAny decodes JSON (numbers kept exact) or YAML into the values the
// schema sees.
func decodeAny(name string, data []byte) (any, bool) {
	if filepath.Ext(name) == ".json" {
		return decodeNumbers(data)
	}
	var v any
	if yaml.Unmarshal(data, &v) != nil || v == nil {
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	return decodeNumbers(b)
}

func TestFastPathAgrees(t *testing.T) {
	files := ownFiles(t)
	own := len(files)
	isOwn := map[string]bool{}
	for f := range files {
		isOwn[f] = true
	}
	if dir, ok := testcorpus.Path(); ok {
		corpus, _ := filepath.Glob(filepath.Join(dir, "*", "*.json"))
		history, _ := filepath.Glob(filepath.Join(dir, "rabbitmq-server", "history", "*.json"))
		for _, f := range append(corpus, history...) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			files[f] = data
		}
	} else {
		t.Logf("no shared corpus: checking the repository's %d own files only", own)
	}
	checked := 0
	for _, f := range slices.Sorted(maps.Keys(files)) {
		data := files[f]
		doc, ok := decodeAny(f, data)
		if !ok {
			continue
		}
		checkAgree(t, f, doc)
		checked++
		if len(data) > 3000 {
			continue // mutating every place of the large files takes too long
		}
		if testing.Short() && !isOwn[f] {
			continue // -short (make check): the corpus files are checked as they are, only the repository's own are mutated
		}
		mutate(doc, nil, func() { checkAgree(t, f, doc) })
	}
	if checked < 40 {
		t.Fatalf("checked %d files; the repository alone has more", checked)
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
