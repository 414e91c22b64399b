package render_test

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/internal/defgen"
)

// BenchmarkRender renders the plan of an apply from scratch (41,200
// creations) as text and as JSON.
func BenchmarkRender(b *testing.B) {
	desired, _ := definitions.Parse("desired.json", defgen.BenchShape.Broker())
	p, err := plan.Diff(desired, &definitions.Document{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("text", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			render.Text(io.Discard, p, render.Options{})
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(render.ToJSON(p)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
