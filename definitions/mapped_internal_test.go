package definitions

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"

	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/schema"
)

// needMapping skips a test where files are not mapped (mapped_other.go):
// on Linux and macOS a large file must be, so the test runs and fails if it
// is not.
func needMapping(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skip("files are not mapped on " + runtime.GOOS)
	}
}

// largeFile writes a definitions file above mapMin whose last objects
// have problems: a field the schema does not know and a permission for a
// user nobody defines, so diagnostics must be placed near the file's end,
// after the decoder released the pages there.
func largeFile(t *testing.T) (string, []byte) {
	t.Helper()
	data := defgen.Generate(20000)
	tail := []byte(`{"user":"nobody","vhost":"vhost-0","configure":".*","write":".*","read":".*","colour":"red"}]`)
	i := bytes.LastIndex(data, []byte(`"permissions":[`))
	j := bytes.IndexByte(data[i:], ']') + i
	data = append(append(append([]byte{}, data[:j]...), append([]byte(","), tail...)...), data[j+1:]...)
	if len(data) < 2*mapMin {
		t.Fatalf("the file is %d bytes; the test needs more than %d", len(data), 2*mapMin)
	}
	path := filepath.Join(t.TempDir(), "large.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// TestLoadLargeFileMapped: a large file is mapped and released after
// parsing, and gives the document and the positioned diagnostics that
// parsing its bytes gives; its bytes come back when asked for.
func TestLoadLargeFileMapped(t *testing.T) {
	needMapping(t)
	path, data := largeFile(t)
	doc, diags := Load([]string{path}, LoadOptions{})
	if doc == nil {
		t.Fatalf("Load: %v", diags)
	}
	f := doc.Files()[0]
	if f.data != nil || f.reread == nil {
		t.Fatal("the large file's bytes are still held after parsing")
	}
	if f.reread.sum != crc32.Checksum(data, castagnoli) || f.reread.size != len(data) {
		t.Errorf("checksum %08x size %d, want %08x %d", f.reread.sum, f.reread.size, crc32.Checksum(data, castagnoli), len(data))
	}
	diags = append(diags, Check(doc, CheckOptions{})...)

	want, wdiags := Parse(path, data)
	wdiags = append(wdiags, Check(want, CheckOptions{})...)
	if !bytes.Equal(doc.EncodeJSON(), want.EncodeJSON()) {
		t.Error("the mapped file's document differs from the parsed bytes'")
	}
	got, exp := diags.Error(), wdiags.Error()
	if got != exp {
		t.Errorf("diagnostics differ:\nmapped: %s\nparsed: %s", got, exp)
	}
	placed := 0
	for _, d := range diags {
		if d.Code == schema.WUnknownField || d.Code == schema.WUndefinedUser {
			if d.Pos.Line == 0 {
				t.Errorf("not placed: %v", d)
			}
			placed++
		}
	}
	if placed != 2 {
		t.Errorf("want the unknown field and the unknown user reported, got %v", diags)
	}
	if f.data != nil {
		t.Error("placing the diagnostics read the file's bytes onto the heap again")
	}
	if !bytes.Equal(f.Data(), data) {
		t.Error("Data does not give the file's bytes back")
	}
}

// TestLargeFileChangedAfterParsing: a large file changed after it was
// parsed is not used to place diagnostics (its positions would be wrong).
func TestLargeFileChangedAfterParsing(t *testing.T) {
	needMapping(t)
	path, data := largeFile(t)
	doc, _ := Load([]string{path}, LoadOptions{})
	if doc == nil || doc.Files()[0].data != nil {
		t.Fatal("the large file was not mapped")
	}
	changed := append([]byte("\n\n\n"), data[:len(data)-3]...)
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range Check(doc, CheckOptions{}) {
		if d.Pos.Line != 0 {
			t.Errorf("placed in a file that changed since: %v", d)
		}
	}
	if doc.Files()[0].Data() != nil {
		t.Error("Data gives the bytes of a file that changed since it was parsed")
	}
}

// TestMappedFileTruncatedWhileParsed: a mapped file cut short under the
// decoder (SIGBUS) is an error, not a crash.
func TestMappedFileTruncatedWhileParsed(t *testing.T) {
	needMapping(t)
	path, _ := largeFile(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	m, ok := mapFile(f, st.Size())
	if !ok {
		t.Fatal("the large file was not mapped")
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	doc, diags := parseMapped(path, path, m)
	if doc != nil || len(diags) != 1 || diags[0].Code != schema.ERead {
		t.Fatalf("want one read error, got %v", diags)
	}
}

// TestLargeStdinIsRead: standard input is read, not mapped, even when it is
// a large regular file: it has no path to read it again by (its bytes and
// the positions of diagnostics found after parsing were lost), and it is
// read from where its offset stands, not from the file's start.
func TestLargeStdinIsRead(t *testing.T) {
	path, data := largeFile(t)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	doc, diags := Load([]string{"-"}, LoadOptions{Stdin: in})
	if doc == nil {
		t.Fatalf("Load: %v", diags)
	}
	if !bytes.Equal(doc.Files()[0].Data(), data) {
		t.Error("Data does not give standard input's bytes")
	}
	placed := false
	for _, d := range Check(doc, CheckOptions{}) {
		if d.Code == schema.WUndefinedUser {
			placed = d.Pos.Line != 0
		}
	}
	if !placed {
		t.Error("the undefined user found after parsing standard input is not placed")
	}

	// A shell that read a line of the file before handing it over.
	shifted := filepath.Join(t.TempDir(), "shifted")
	if err := os.WriteFile(shifted, append([]byte("a first line\n"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	in2, err := os.Open(shifted)
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	if _, err := in2.Seek(int64(len("a first line\n")), 0); err != nil {
		t.Fatal(err)
	}
	if doc, diags := Load([]string{"-"}, LoadOptions{Stdin: in2}); doc == nil || diags.HasErrors() {
		t.Errorf("standard input read from its offset: %v", diags)
	}
}

// TestLayerOverChangedLargeBase: an overlay patches an object of a large
// base file, which layering decodes again from the file; when the file
// changed since it was loaded, that is an error, not a patch of an empty
// object (the queue lost its type, durability and arguments, and a plan
// would have changed the broker's queue to match).
func TestLayerOverChangedLargeBase(t *testing.T) {
	needMapping(t)
	path, data := largeFile(t)
	doc, diags := Load([]string{path}, LoadOptions{})
	if doc == nil {
		t.Fatalf("Load: %v", diags)
	}
	if doc.Files()[0].data != nil {
		t.Fatal("the large file was not mapped")
	}
	if err := os.WriteFile(path, append([]byte("\n"), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	over := filepath.Join(t.TempDir(), "over.json")
	if err := os.WriteFile(over, []byte(`{"queues":[{"name":"q-0","vhost":"vhost-0","arguments":{"x-max-length":5}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ov, diags := Load([]string{over}, LoadOptions{})
	if ov == nil {
		t.Fatalf("Load: %v", diags)
	}
	l := &Layers{patched: map[string]map[string]*patchedObject{}, raw: map[*File]map[string]any{}, files: map[string]*File{}}
	diags, _ = l.apply(doc, ov)
	if diags.HasErrors() {
		if len(diags) != 1 || diags[0].Code != schema.ERead || diags[0].File != path {
			t.Errorf("want a read error for the base, got %v", diags)
		}
		return
	}
	for _, q := range doc.Queues {
		if q.Name == "q-0" && q.Vhost == "vhost-0" {
			if q.Durable == nil || q.Arguments.Get("x-queue-type") != "classic" {
				t.Errorf("the patched queue lost the base's fields, without an error: %+v", q)
			}
			return
		}
	}
	t.Error("queue q-0 is gone")
}

// TestReleasedFilePlacedOneAtATime: diagnostics placed one at a time in a
// released file are placed from a mapping the first time only; the
// second reads the file and keeps it, so that a hundred placements are
// not a hundred mappings and checksums of the whole file.
func TestReleasedFilePlacedOneAtATime(t *testing.T) {
	needMapping(t)
	path, data := largeFile(t)
	doc, diags := Load([]string{path}, LoadOptions{})
	if doc == nil {
		t.Fatalf("Load: %v", diags)
	}
	want, _ := Parse(path, data)
	f := doc.Files()[0]
	for i, p := range doc.Permissions[:3] {
		got, exp := Diagnose(p, 0, "", ""), Diagnose(want.Permissions[i], 0, "", "")
		if got.Pos != exp.Pos || got.Pos.Line == 0 {
			t.Errorf("%s placed at %v, want %v", p.Addr(), got.Pos, exp.Pos)
		}
		if held := f.data != nil; held != (i > 0) {
			t.Errorf("after %d placements, the file's bytes held: %v", i+1, held)
		}
	}
}

// TestReleasedFilePlacedFromItsStart: placing an object near a released
// file's start checks the file up to the first checksum mark past it, not
// to its end: a file changed only past that mark still places it (where
// its bytes say), and the end of the file is not read.
func TestReleasedFilePlacedFromItsStart(t *testing.T) {
	needMapping(t)
	path, data := largeFile(t)
	doc, diags := Load([]string{path}, LoadOptions{})
	if doc == nil {
		t.Fatalf("Load: %v", diags)
	}
	f := doc.Files()[0]
	if f.reread == nil || len(f.reread.marks) == 0 || f.reread.marks[0].off >= len(data)-1 {
		t.Fatalf("no checksum marks before the file's end: %+v", f.reread)
	}
	changed := bytes.Clone(data)
	changed[len(changed)-2] = ' ' // the last object's closing ] becomes a space: past every mark
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := Parse(path, data)
	got, exp := Diagnose(doc.Users[0], 0, "", ""), Diagnose(want.Users[0], 0, "", "")
	if got.Pos != exp.Pos || got.Pos.Line == 0 {
		t.Errorf("%s placed at %v in a file changed only at its end, want %v", doc.Users[0].Addr(), got.Pos, exp.Pos)
	}
}

// A mapped file starts one page past a huge page's boundary, so that no
// huge page maps it (the page cache of a file just written may hold 2 MiB
// folios, which a read would map whole past what is released), and reads
// and unmaps as any mapping: its bytes are the file's, to its last.
func TestMappedFileOffHugePages(t *testing.T) {
	needMapping(t)
	for _, size := range []int{mapMin, 5<<20 + 123} {
		want := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		path := filepath.Join(t.TempDir(), "big.json")
		if err := os.WriteFile(path, want, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := mapFile(f, int64(size))
		f.Close()
		if !ok {
			t.Fatalf("%d bytes: not mapped", size)
		}
		if at := uintptr(unsafe.Pointer(unsafe.SliceData(m.data))); at%hugeAlign != uintptr(os.Getpagesize()) {
			t.Errorf("%d bytes mapped at %#x: %#x past a huge page's boundary, want one page", size, at, at%hugeAlign)
		}
		if !bytes.Equal(m.data, want) {
			t.Errorf("%d bytes: the mapping is not the file", size)
		}
		drop(m.data[:os.Getpagesize()])
		if m.data[0] != '0' || m.data[size-1] != want[size-1] {
			t.Errorf("%d bytes: not read again after release", size)
		}
		m.unmap()
	}
}
