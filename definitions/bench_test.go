package definitions_test

import (
	"encoding/json"
	"fmt"
	"io"
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

// BenchmarkDiff times the diff computation alone on a 150,000-object
// document against a live copy with 1% of its objects changed.
func BenchmarkDiff(b *testing.B) {
	data := defgen.Generate(150000)
	desired, diags := definitions.Parse("desired.json", data)
	if diags.HasErrors() {
		b.Fatal(diags.Error())
	}
	live, _ := definitions.Parse("live.json", append([]byte(nil), data...))
	for i, p := range live.Permissions {
		if i%100 == 0 {
			p.Configure = "changed"
		}
	}
	b.ResetTimer()
	for b.Loop() {
		plan, err := definitions.Diff(desired, live)
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Changes) != len(live.Permissions)/100+1 && len(plan.Changes) != len(live.Permissions)/100 {
			b.Fatalf("%d changes", len(plan.Changes))
		}
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

// BenchmarkDiffInSync is warren diff's computation on the make bench
// broker: 41,200 objects, nothing changed.
func BenchmarkDiffInSync(b *testing.B) {
	data := defgen.BenchShape.Broker()
	desired, _ := definitions.Parse("desired.json", data)
	live, _ := definitions.Parse("live.json", data)
	b.ReportAllocs()
	for b.Loop() {
		plan, err := definitions.Diff(desired, live)
		if err != nil || !plan.Empty() {
			b.Fatal(err, len(plan.Changes))
		}
	}
}

// BenchmarkRender renders the plan of an apply from scratch (41,200
// creations) as text and as JSON.
func BenchmarkRender(b *testing.B) {
	desired, _ := definitions.Parse("desired.json", defgen.BenchShape.Broker())
	plan, err := definitions.Diff(desired, &definitions.Document{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			definitions.RenderText(io.Discard, plan, definitions.RenderOptions{})
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(definitions.ToJSON(plan)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
