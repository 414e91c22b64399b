package definitions

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/internal/golden"
	"github.com/warren-tool/warren/internal/testcorpus"
)

// TestCompactWriterIsTheTree: the digest and the import's compact JSON
// write objects straight from their fields (compactWriter); fmt, exports
// and plans write the tree of the same fields. Both must give the same
// bytes for every object of every file at hand: the examples, the golden
// archives, generated files and, when it is there, the corpus.
func TestCompactWriterIsTheTree(t *testing.T) {
	docs := map[string][]byte{"generated": defgen.Generate(2000), "broker": defgen.Broker(50, 50, 5)}
	add := func(name string, data []byte) {
		if ext := filepath.Ext(name); ext == ".json" || ext == ".yaml" || ext == ".yml" {
			docs[name] = data
		}
	}
	paths, _ := filepath.Glob("../examples/*/*") // and the corpus's, when it is there
	for _, ar := range golden.Glob(t, "testdata/diagnostics/*.txtar") {
		for _, f := range ar.Files {
			add(ar.Path+"/"+f.Name, f.Data)
		}
	}
	if dir, ok := testcorpus.Path(); ok {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				paths = append(paths, p)
			}
			return nil
		})
	}
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			add(p, data)
		}
	}
	objects := 0
	for name, data := range docs {
		doc, _ := Parse(name, data)
		if doc == nil {
			continue
		}
		for _, o := range doc.Objects() {
			for _, canonical := range []bool{false, true} {
				var want, got bytes.Buffer
				writeCompactAs(&want, treeOf(o), canonical)
				(&compactWriter{b: &got, canonical: canonical}).object(o)
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Fatalf("%s: %s (canonical %v):\n got %s\nwant %s", name, o.Addr(), canonical, got.Bytes(), want.Bytes())
				}
			}
			objects++
		}
		var want bytes.Buffer
		writeCompactAs(&want, doc.tree(), false)
		if got := doc.EncodeCompactJSON(); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s: EncodeCompactJSON is not the tree's compact JSON:\n got %s\nwant %s", name, got, want.Bytes())
		}
	}
	// Without the corpus: the examples, the archives and the generated files.
	if objects < 2000 {
		t.Errorf("only %d objects compared", objects)
	}
	t.Logf("%d files, %d objects", len(docs), objects)
}
