package definitions_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/defgen"
)

// BenchmarkLoadValidate times what warren validate does with one file:
// decode, schema, model, checks. make bench compares the 150,000-object
// case with python's json.load and reports peak memory.
func BenchmarkLoadValidate(b *testing.B) {
	for _, n := range []int{1000, 10000, 150000} {
		data := defgen.Generate(n)
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				doc, diags := definitions.Parse("bench.json", data)
				if diags.HasErrors() {
					b.Fatal(diags.Error())
				}
				if ds := definitions.Check(doc, definitions.CheckOptions{}); ds.HasErrors() {
					b.Fatal(ds.Error())
				}
			}
		})
	}
}

// BenchmarkLoad times decoding and converting the make bench broker file
// (41,200 objects) alone, and BenchmarkValidate the checks on it.
func BenchmarkLoad(b *testing.B) {
	data := defgen.BenchShape.Broker()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := definitions.Parse("bench.json", data); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	doc, diags := definitions.Parse("bench.json", defgen.BenchShape.Broker())
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	b.ReportAllocs()
	for b.Loop() {
		if ds := definitions.Check(doc, definitions.CheckOptions{}); ds.HasErrors() {
			b.Fatal(ds.Error())
		}
	}
}

// BenchmarkLoadFile times what warren validate does from the file on disk
// (read, decode, model, checks) for 150,000 objects; its B/op shows what
// reading the file costs on top of BenchmarkLoadValidate.
func BenchmarkLoadFile(b *testing.B) {
	data := defgen.Generate(150000)
	path := filepath.Join(b.TempDir(), "bench.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		doc, diags := definitions.Load([]string{path}, definitions.LoadOptions{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		if ds := definitions.Check(doc, definitions.CheckOptions{}); ds.HasErrors() {
			b.Fatal(ds.Error())
		}
	}
}
