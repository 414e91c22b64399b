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
