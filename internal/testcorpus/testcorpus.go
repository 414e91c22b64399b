// Package testcorpus finds the shared corpus of real definitions files that
// tests check warren against. The corpus lives outside the repository (it is
// others' work, never copied in): WARREN_CORPUS names it, and it defaults to
// ../shared/corpus beside the repository's root. Where it is absent a test
// is skipped with the reason, except in CI (CI set), where it fails.
package testcorpus

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Dir returns the corpus directory, or skips (fails in CI) the test when
// there is none.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared corpus is required in CI: %v (set WARREN_CORPUS)", err)
		}
		t.Skipf("no shared corpus (%v); set WARREN_CORPUS to run this test", err)
	}
	return dir
}

// Path returns the corpus directory and whether it exists, for callers
// that add corpus files to others of their own when it is there.
func Path() (string, bool) {
	dir, err := find()
	return dir, err == nil
}

func find() (string, error) {
	dir := os.Getenv("WARREN_CORPUS")
	if dir == "" {
		// This file is internal/testcorpus/testcorpus.go in the repository.
		_, self, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(self), "..", "..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "IMPORT_RESULTS.tsv")); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// Result is one row of a results file: a corpus file (relative to the
// corpus directory) and RabbitMQ's HTTP status on importing it.
type Result struct {
	Path, Status string
}

// Results reads a results file (IMPORT_RESULTS.tsv, IMPORT_RESULTS_4.0.5.tsv):
// tab-separated lines with a header, a file and a status first. It splits on
// tabs alone (messages hold quotes that a CSV reader would take for
// quoting), and checks the corpus has its 97 files.
func Results(t testing.TB, name string) []Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out []Result
	for i, line := range lines[1:] {
		fields := strings.Split(line, "\t")
		if len(fields) < 2 {
			t.Fatalf("%s:%d: want a file and a status, got %q", name, i+2, line)
		}
		out = append(out, Result{Path: fields[0], Status: fields[1]})
	}
	if len(out) != 97 {
		t.Fatalf("%s lists %d files, want 97", name, len(out))
	}
	return out
}
