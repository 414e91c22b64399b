// Package golden compares test output with golden files and rewrites them
// when WARREN_UPDATE is set (WARREN_UPDATE=1 go test ./...; make golden).
//
// A golden is either a plain file (File) or a section of a txtar archive
// (Archive): inputs and the wanted outputs side by side, the archive's
// comment holding options for the test. A mismatch fails the test with a
// (-want +got) line diff; under WARREN_UPDATE the file is rewritten instead,
// so that CI can check with git diff that rewriting changes nothing.
package golden

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
)

// Update reports whether goldens are rewritten rather than compared.
func Update() bool { return os.Getenv("WARREN_UPDATE") != "" }

// File compares got with the file at path, or writes got there under
// WARREN_UPDATE.
func File(t testing.TB, path, got string) {
	t.Helper()
	if Update() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (WARREN_UPDATE=1 writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s is out of date (WARREN_UPDATE=1 rewrites it) (-want +got):\n%s", path, diff)
	}
}

// Archive is a txtar golden: input sections, output sections, and a
// comment whose lines are options ("prune", "version=4.0") or prose.
type Archive struct {
	Path string
	*txtar.Archive
}

// Glob returns the archives that match pattern, in name order, and fails
// the test when there are none: a golden test over nothing proves nothing.
func Glob(t testing.TB, pattern string) []*Archive {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no golden archives match %s", pattern)
	}
	archives := make([]*Archive, len(paths))
	for i, p := range paths {
		archives[i] = Load(t, p)
	}
	return archives
}

// Load parses the txtar archive at path.
func Load(t testing.TB, path string) *Archive {
	t.Helper()
	ar, err := txtar.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &Archive{Path: path, Archive: ar}
}

// Name is the archive's file name without .txtar, for t.Run.
func (a *Archive) Name() string {
	return strings.TrimSuffix(filepath.Base(a.Path), ".txtar")
}

// Section returns the data of the section called name.
func (a *Archive) Section(name string) ([]byte, bool) {
	for _, f := range a.Files {
		if f.Name == name {
			return f.Data, true
		}
	}
	return nil, false
}

// Flag reports whether a line of the comment is exactly word.
func (a *Archive) Flag(word string) bool {
	return slices.Contains(a.commentLines(), word)
}

// Option returns the value of the comment line "key=value" (the last one).
func (a *Archive) Option(key string) (string, bool) {
	value, found := "", false
	for _, line := range a.commentLines() {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			value, found = v, true
		}
	}
	return value, found
}

func (a *Archive) commentLines() []string {
	return strings.Split(string(a.Comment), "\n")
}

// Output is one section a test computes from the archive's inputs.
type Output struct {
	Name string
	Data string
}

// Check compares the sections the test produced (got) with the archive's.
// names lists, in order, every section the test owns; an owned section
// the test did not produce this time (an error instead of a plan) must be
// absent from the archive.
//
// Under WARREN_UPDATE the archive is rewritten instead: a produced section
// replaces its namesake in place or is appended, in the order of names;
// owned sections not produced are removed; every other section and the
// comment stay as they are, and an unchanged archive is not written.
func (a *Archive) Check(t testing.TB, names []string, got map[string]string) {
	t.Helper()
	if Update() {
		a.rewrite(t, names, got)
		return
	}
	for _, name := range names {
		want, inArchive := a.Section(name)
		v, produced := got[name]
		switch {
		case produced && !inArchive:
			t.Errorf("%s: no %s section (WARREN_UPDATE=1 adds it); got:\n%s", a.Path, name, v)
		case !produced && inArchive:
			t.Errorf("%s: has a %s section the test no longer produces (WARREN_UPDATE=1 removes it)", a.Path, name)
		case produced:
			if diff := cmp.Diff(string(want), v); diff != "" {
				t.Errorf("%s: %s (-want +got):\n%s", a.Path, name, diff)
			}
		}
	}
}

func (a *Archive) rewrite(t testing.TB, names []string, got map[string]string) {
	t.Helper()
	var files []txtar.File
	done := map[string]bool{}
	for _, f := range a.Files {
		if !slices.Contains(names, f.Name) {
			files = append(files, f)
			continue
		}
		if v, ok := got[f.Name]; ok && !done[f.Name] {
			files = append(files, txtar.File{Name: f.Name, Data: []byte(v)})
			done[f.Name] = true
		}
	}
	for _, name := range names {
		if v, ok := got[name]; ok && !done[name] {
			files = append(files, txtar.File{Name: name, Data: []byte(v)})
		}
	}
	before := txtar.Format(a.Archive)
	a.Files = files
	if after := txtar.Format(a.Archive); string(after) != string(before) {
		if err := os.WriteFile(a.Path, after, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
