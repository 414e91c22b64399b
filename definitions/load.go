package definitions

import (
	"bytes"
	"cmp"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/warren-tool/warren/definitions/topology"
	"github.com/warren-tool/warren/internal/decode"

	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

// DefaultMaxSize is the largest file Load reads unless told otherwise.
const DefaultMaxSize = 128 << 20

// File is one input file as it was read.
type File struct {
	Name   string // as the user named it; "<stdin>" for standard input
	Format string // "json" or "yaml"
	// data is the file's bytes; nil for a large file, which was mapped to
	// be parsed and is read again (see reread) only to place diagnostics.
	data   []byte
	reread *reread
	// mappedOnce is set once diagnostics were placed in the released file
	// from a mapping (placeReleased): placing more reads it onto the heap
	// and keeps it, as a second pass suggests a third.
	mappedOnce bool
	mu         sync.Mutex
	// rabbitVersion is the file's own rabbit_version, which decides how
	// RabbitMQ reads hashes without hashing_algorithm.
	rabbitVersion string
	yroot         *yaml.Node
	lines         *decode.LineIndex
	// topo is set for a file of Topology Operator resources
	// (topology_load.go).
	topo *topoFile
}

// Data returns the file's bytes as read, or nil when a large file has
// changed since it was parsed.
func (f *File) Data() []byte { return f.bytes() }

// bytes returns f.data, reading a released file again the first time. A
// file that is no longer what was parsed (its size or CRC-32C differs)
// gives nil: positions found in it would be wrong.
func (f *File) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.reread; f.data == nil && r != nil {
		f.reread = nil
		data, err := os.ReadFile(r.path)
		if err == nil && len(data) == r.size && crc32.Checksum(data, castagnoli) == r.sum {
			f.data = data
		}
	}
	return f.data
}

// positions finds where pointers are in the file.
func (f *File) positions(ptrs []string) map[string]schema.Pos {
	switch {
	case f.topo != nil:
		return f.topo.positions(ptrs)
	case f.yroot != nil:
		return decode.LocateYAML(f.yroot, ptrs)
	}
	out := make(map[string]schema.Pos, len(ptrs))
	f.placeEach(ptrs, func(i int, p schema.Pos) { out[ptrs[i]] = p })
	return out
}

// placeEach is positions handed to set, the i-th pointer's as set(i,
// pos), rather than put in a map: for many pointers. A pointer that
// cannot be placed may not be handed: its position is none.
func (f *File) placeEach(ptrs []string, set func(i int, p schema.Pos)) {
	switch {
	case f.topo != nil || f.yroot != nil:
		m := f.positions(ptrs)
		for i, p := range ptrs {
			set(i, m[p])
		}
	case f.Format == "json":
		if f.placeReleased(ptrs, set) {
			return
		}
		data := f.bytes()
		if data == nil {
			return
		}
		// The line index is made once and remembers its last answer:
		// one placing at a time (warren access places the user's
		// permissions while the checks place their diagnostics).
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.lines == nil {
			f.lines = decode.NewLineIndex(data)
		}
		placeJSON(data, f.lines, ptrs, set)
	}
}

// placeJSON finds pointers in a JSON file's data and hands set their
// positions in the order of the file (lines.Pos counts each line's
// characters once).
func placeJSON(data []byte, lines *decode.LineIndex, ptrs []string, set func(i int, p schema.Pos)) {
	offs, _ := decode.LocateJSONReleasing(data, ptrs, nil)
	placeOffsets(offs, lines, set)
}

// placeOffsets turns offsets into positions, in the order of the file,
// and hands set the i-th offset's as set(i, pos).
func placeOffsets(offs []int, lines *decode.LineIndex, set func(i int, p schema.Pos)) {
	for _, i := range inFileOrder(offs) {
		set(int(i), lines.Pos(offs[i]))
	}
}

// inFileOrder are the indices of offs in increasing order of offset:
// positions asked in that order are counted in one pass. (Sorting
// pointers by looking their offsets up in a map took 13 ms of placing
// 10,000 findings; these are looked up in a slice.)
func inFileOrder(offs []int) []int32 {
	order := make([]int32, len(offs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(offs[a], offs[b]) })
	return order
}

// LoadOptions tune Load.
type LoadOptions struct {
	// MaxSize is the largest file accepted, in bytes; 0 means DefaultMaxSize.
	MaxSize int64
	// Stdin is read for the path "-"; nil means os.Stdin.
	Stdin io.Reader
}

// Load reads definitions from files, directories (their .json, .yaml and
// .yml files, in sorted order, not recursing) and "-" (standard input), and
// merges them into one document. Every problem found on the way is reported,
// with its position; the document is nil only when nothing could be read.
func Load(paths []string, opts LoadOptions) (*Document, schema.Diagnostics) {
	paths, diags := Expand(paths)
	var docs []*Document
	for _, p := range paths {
		doc, ds := loadOne(p, opts)
		diags = append(diags, ds...)
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		return nil, diags
	}
	diags = append(diags, linkTopology(docs)...)
	doc := docs[0]
	if len(docs) > 1 {
		doc = Merge(docs...)
	}
	dups := append(doc.duplicates(), doc.mergeDiags...)
	doc.resolve(dups)
	return doc, append(diags, dups...)
}

// Expand replaces directories by the definitions files in them (.json,
// .yaml and .yml, sorted, not recursing) and reports paths that cannot be
// read.
func Expand(paths []string) ([]string, schema.Diagnostics) {
	var out []string
	var diags schema.Diagnostics
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			diags = append(diags, readError(p, err))
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			diags = append(diags, readError(p, err))
			continue
		}
		var files []string
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".json", ".yaml", ".yml":
				if !e.IsDir() {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
		}
		slices.Sort(files)
		if len(files) == 0 {
			diags = append(diags, schema.Diagnostic{File: p, Severity: schema.Error, Code: schema.ERead,
				Message: "directory holds no .json, .yaml or .yml files"})
		}
		out = append(out, files...)
	}
	return out, diags
}

func readError(name string, err error) schema.Diagnostic {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	return schema.Diagnostic{File: name, Severity: schema.Error, Code: schema.ERead, Message: "cannot read: " + err.Error()}
}

func loadOne(path string, opts LoadOptions) (*Document, schema.Diagnostics) {
	name := path
	var r io.Reader
	if path == "-" {
		name = "<stdin>"
		r = opts.Stdin
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, schema.Diagnostics{readError(path, err)}
		}
		defer f.Close()
		r = f
	}
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	// A large file is mapped, not read: see mapFile. Another is read into a
	// buffer of its size: io.ReadAll's doubling allocated 2.5 times a 20 MB
	// file and kept the last buffer, up to twice the file, for the rest of
	// the run.
	var buf bytes.Buffer
	if f, ok := r.(*os.File); ok {
		st, err := f.Stat()
		if err == nil && st.Mode().IsRegular() && st.Size() > limit && path != "-" {
			// Refused before a byte is read, with the size it needs.
			return nil, schema.Diagnostics{tooLarge(name, st.Size(), limit)}
		}
		if err == nil && st.Mode().IsRegular() && st.Size() <= limit {
			// Standard input is read: it has no path to read it again by
			// (to place diagnostics), and it starts at its offset, not at
			// the file's start.
			if st.Size() >= mapMin && path != "-" {
				if m, ok := mapFile(f, st.Size()); ok {
					return parseMapped(name, path, m)
				}
			}
			buf.Grow(int(st.Size()) + bytes.MinRead)
		}
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	data := buf.Bytes()
	if err != nil {
		return nil, schema.Diagnostics{readError(name, err)}
	}
	if int64(len(data)) > limit {
		return nil, schema.Diagnostics{tooLarge(name, -1, limit)}
	}
	return parse(&File{Name: name, Format: formatOf(name, data), data: data}, nil)
}

// tooLarge is the diagnostic for a file over the limit; size is the
// file's, or -1 when it is not known (standard input, a pipe).
func tooLarge(name string, size, limit int64) schema.Diagnostic {
	msg := fmt.Sprintf("file is larger than the limit of %s: raise it with --max-size (or WARREN_MAX_SIZE)", sizeText(limit))
	if size >= 0 {
		need := strings.TrimSuffix(sizeText(roundSize(size)), " bytes")
		msg = fmt.Sprintf("file is %s, larger than the limit of %s: raise it with --max-size %s (or WARREN_MAX_SIZE=%s)", sizeText(size), sizeText(limit), need, need)
	}
	return schema.Diagnostic{File: name, Severity: schema.Error, Code: schema.ETooLarge, Message: msg}
}

// roundSize rounds n up to whole MiB (from 1 MiB) or KiB (from 1 KiB), a
// limit a user would write.
func roundSize(n int64) int64 {
	for _, unit := range []int64{1 << 20, 1 << 10} {
		if n >= unit {
			return (n + unit - 1) / unit * unit
		}
	}
	return n
}

// sizeText writes a size as --max-size reads it: in GiB, MiB or KiB when
// it is a whole number of them, in bytes otherwise.
func sizeText(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.name)
		}
	}
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// parseMapped parses a mapped file, releasing its pages as the decoder
// moves on, and unmaps it.
func parseMapped(name, path string, m *mapping) (doc *Document, diags schema.Diagnostics) {
	defer m.unmap()
	defer faultGuard(func() {
		doc, diags = nil, schema.Diagnostics{{File: name, Severity: schema.Error, Code: schema.ERead,
			Message: "cannot read: the file changed (was truncated) while it was read"}}
	})()
	f := &File{Name: name, Format: formatOf(name, m.data), data: m.data}
	doc, diags = parse(f, m.consumed)
	sum := m.finish()
	f.mu.Lock()
	// The line index reads the bytes too.
	f.data, f.lines, f.reread = nil, nil, &reread{path: path, size: len(m.data), sum: sum, marks: m.marks}
	f.mu.Unlock()
	return doc, diags
}

// Parse decodes and converts one file's content. Diagnostics carry the
// file's name and their line and column. The document keeps data (to
// place diagnostics found later): the caller must not modify it afterwards.
func Parse(name string, data []byte) (*Document, schema.Diagnostics) {
	doc, diags := parse(&File{Name: name, Format: formatOf(name, data), data: data}, nil)
	if doc != nil {
		diags = append(diags, linkTopology([]*Document{doc})...)
	}
	return doc, diags
}

// parse decodes and converts f.data; consumed, when set, is told which
// bytes the decoder is done with.
func parse(f *File, consumed func(off int)) (*Document, schema.Diagnostics) {
	name, data := f.Name, f.data
	if topology.Detect(data) {
		return parseTopology(f)
	}
	var diags schema.Diagnostics
	c := newConverter(f, &diags)
	var (
		v    any
		derr *decode.Error
	)
	if f.Format == "json" {
		// Objects are checked and converted as they are decoded, so the
		// decoded values of a large file are never all alive at once.
		v, derr = decode.JSONStream(data, decode.Stream{Keys: isKind, Item: c.item, Consumed: consumed, Spare: &c.spare})
	} else {
		v, f.yroot, derr = decode.YAML(data)
		if top, ok := v.(map[string]any); ok && derr == nil {
			for _, k := range Kinds {
				if list, ok := top[string(k)].([]any); ok {
					for i, item := range list {
						c.item(string(k), i, item)
					}
					top[string(k)] = []any{}
				}
			}
		}
	}
	if derr != nil {
		d := schema.Diagnostic{File: name, Pointer: derr.Pointer, Severity: schema.Error, Code: derr.Code, Message: derr.Msg, Pos: derr.Pos}
		if derr.First != nil {
			d.Also = &schema.Location{File: name, Pos: *derr.First}
		}
		if derr.Off >= 0 {
			d.Pos = decode.NewLineIndex(data).Pos(derr.Off)
			if derr.Code == schema.EDuplicateKey {
				// The decoder stopped at the second occurrence; find the first.
				if p, ok := firstKey(data, derr.Pointer); ok {
					d.Also = &schema.Location{File: name, Pos: p}
				}
			}
		}
		return nil, schema.Diagnostics{d}
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, schema.Diagnostics{{File: name, Pos: schema.Pos{Line: 1, Col: 1}, Severity: schema.Error, Code: schema.EUnsupportedIn,
			Message: "the top level must be an object holding users, vhosts, permissions, …"}}
	}
	c.top(top)
	f.resolve(diags)
	return c.doc, diags
}

// firstKey finds where the key a duplicate-key pointer names first appears.
func firstKey(data []byte, ptr string) (schema.Pos, bool) {
	off, ok := decode.LocateJSON(data, []string{ptr})[ptr]
	if !ok {
		return schema.Pos{}, false
	}
	return decode.NewLineIndex(data).Pos(off), true
}

// formatOf decides how to decode a file: by its extension, or for other
// names (standard input, RabbitMQ's .txt fixtures) by its first character.
func formatOf(name string, data []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return "json"
	}
	return "yaml"
}

// resolve fills in the positions of diagnostics about f that have a
// pointer but no position yet.
func (f *File) resolve(diags schema.Diagnostics) {
	var ptrs []string
	for _, d := range diags {
		if d.File == f.Name && d.Pos.Line == 0 {
			ptrs = append(ptrs, d.Pointer)
		}
		if a := d.Also; a != nil && a.File == f.Name && a.Pos.Line == 0 {
			ptrs = append(ptrs, a.Pointer)
		}
	}
	if len(ptrs) == 0 {
		return
	}
	pos := f.positions(ptrs)
	for i := range diags {
		d := &diags[i]
		if d.File == f.Name && d.Pos.Line == 0 {
			d.Pos = pos[d.Pointer]
			if f.topo != nil {
				d.Pointer = f.topo.pointer(d.Pointer)
			}
		}
		if a := d.Also; a != nil && a.File == f.Name && a.Pos.Line == 0 {
			a.Pos = pos[a.Pointer]
			if f.topo != nil {
				a.Pointer = f.topo.pointer(a.Pointer)
			}
		}
	}
}

// resolve fills in positions for diagnostics about any file d was read
// from.
// Resolve fills in the line and column of diagnostics that point into the
// files d was read from (as Check does for its own).
func (d *Document) Resolve(diags schema.Diagnostics) { d.resolve(diags) }

func (d *Document) resolve(diags schema.Diagnostics) {
	for _, f := range d.files {
		f.resolve(diags)
	}
}

// Files lists the files d was read from, in the order they were read.
func (d *Document) Files() []*File { return d.files }
