package definitions

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/warren-tool/warren/internal/defgen"
)

// allocated returns the bytes and the number of allocations f makes.
func allocated(f func()) (bytes, count uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, after.Mallocs - before.Mallocs
}

// TestValidateAllocatesLinearly: what loading and checking a file
// allocates grows with the file, no faster: per object, ten times the
// objects allocate no more bytes (within 10%), and not many more
// allocations (within 50%: the decoder's table of shared strings has a
// fixed size, so a small file shares more of its strings, such as the
// users' names its permissions repeat, than a large one; from 500,000 to
// 1,500,000 objects the count per object stays the same).
// Something quadratic, or a per-object cost that grows with the document
// (keys joined for every lookup, lists copied as they grow), shows here
// without a clock.
func TestValidateAllocatesLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes 220,000 objects")
	}
	perObject := func(n int) (bytes, count float64) {
		path := filepath.Join(t.TempDir(), "defs.json")
		if err := os.WriteFile(path, defgen.Generate(n), 0o644); err != nil {
			t.Fatal(err)
		}
		b, c := allocated(func() {
			doc, diags := Load([]string{path}, LoadOptions{})
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if ds := Check(doc, CheckOptions{}); ds.HasErrors() {
				t.Fatal(ds.Error())
			}
		})
		return float64(b) / float64(n), float64(c) / float64(n)
	}
	smallBytes, smallCount := perObject(20000)
	largeBytes, largeCount := perObject(200000)
	t.Logf("per object: %.0f bytes, %.2f allocations at 20,000 objects; %.0f bytes, %.2f allocations at 200,000", smallBytes, smallCount, largeBytes, largeCount)
	if largeBytes > smallBytes*1.1 {
		t.Errorf("200,000 objects allocate %.0f bytes each, 20,000 %.0f: more than linear", largeBytes, smallBytes)
	}
	if largeCount > smallCount*1.5 {
		t.Errorf("200,000 objects make %.2f allocations each, 20,000 %.2f: more than linear", largeCount, smallCount)
	}
}

// TestDuplicatesAllocateLittle: finding duplicates allocates a few bytes
// per object (a hash and an index for the largest kind), not a key for
// each: it runs when the model is at its largest.
func TestDuplicatesAllocateLittle(t *testing.T) {
	const n = 20000
	doc, diags := Parse("defs.json", defgen.Generate(n))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b, _ := allocated(func() {
		if dups := doc.duplicates(); len(dups) > 0 {
			t.Fatal(dups.Error())
		}
	})
	if perObject := float64(b) / n; perObject > 8 {
		t.Errorf("duplicates allocates %.1f bytes per object, want at most 8", perObject)
	}
}

// TestTooLargeStdinNotRead: standard input from a file over the limit is
// refused after reading the limit, without a buffer of the file's size.
// A named file over the limit is refused before it is read, with the
// --max-size that reads it.
func TestTooLargeStdinNotRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 30); err != nil { // sparse: takes no disk
		t.Fatal(err)
	}
	b, _ := allocated(func() {
		_, diags := Load([]string{"-"}, LoadOptions{MaxSize: 100, Stdin: f})
		if len(diags) != 1 || diags[0].Message != "file is larger than the limit of 100 bytes: raise it with --max-size (or WARREN_MAX_SIZE)" {
			t.Errorf("standard input: %v", diags)
		}
	})
	if b > 1<<20 {
		t.Errorf("refusing standard input over the limit allocated %d bytes", b)
	}
	_, diags := Load([]string{path}, LoadOptions{MaxSize: 100})
	if len(diags) != 1 || diags[0].Message != "file is 1GiB, larger than the limit of 100 bytes: raise it with --max-size 1GiB (or WARREN_MAX_SIZE=1GiB)" {
		t.Errorf("a named file: %v", diags)
	}
}
