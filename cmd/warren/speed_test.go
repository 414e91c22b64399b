package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/internal/defgen"
)

// countingWriter counts the writes made to it, as os.Stdout would count
// system calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestPlanPrintedBuffered: a plan of many changes reaches stdout in a few
// large writes, not one a line (os.Stdout is not buffered).
func TestPlanPrintedBuffered(t *testing.T) {
	dir := t.TempDir()
	desired := filepath.Join(dir, "desired.json")
	live := filepath.Join(dir, "live.json")
	if err := os.WriteFile(desired, defgen.Shape{Vhosts: 2, Users: 500, Queues: 500}.Broker(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(live, []byte(`{"vhosts":[{"name":"/"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "markdown"} {
		var stdout countingWriter
		var stderr bytes.Buffer
		if code := run([]string{"warren", "diff", "--format", format, "--keep-guest", "--against", live, desired}, nil, &stdout, &stderr); code != exitDrift {
			t.Fatalf("%s: exit %d: %s", format, code, stderr.String())
		}
		lines := strings.Count(stdout.String(), "\n")
		if lines < 1000 || stdout.writes > 1+stdout.Len()/(32<<10) {
			t.Errorf("%s: %d lines in %d writes", format, lines, stdout.writes)
		}
	}
}
