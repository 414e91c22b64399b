package definitions

import (
	"hash/crc32"
	"os"
	"runtime/debug"

	"github.com/warren-tool/warren/internal/decode"
	"github.com/warren-tool/warren/schema"
)

// mapMin is the smallest file Load maps instead of reading: below it the
// bytes cost little and reading is simpler.
const mapMin = 1 << 20

// dropEvery is how far the decoder moves on before the pages behind it are
// released.
const dropEvery = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// mapping is a file mapped for parsing. While the decoder moves on, the
// pages behind it are checksummed and released; once parsed the file is
// unmapped, and File.bytes reads it again (if it is unchanged) only to
// place diagnostics.
type mapping struct {
	data []byte
	done int    // bytes before done are checksummed and released
	sum  uint32 // CRC-32C of data[:done]
}

// consumed is told that the decoder is done with the bytes before off.
func (m *mapping) consumed(off int) {
	page := os.Getpagesize()
	end := off / page * page
	if end-m.done < dropEvery {
		return
	}
	m.sum = crc32.Update(m.sum, castagnoli, m.data[m.done:end])
	drop(m.data[m.done:end])
	m.done = end
}

// finish checksums and releases the rest, and returns the whole file's
// checksum.
func (m *mapping) finish() uint32 {
	m.sum = crc32.Update(m.sum, castagnoli, m.data[m.done:])
	drop(m.data[m.done:])
	m.done = len(m.data)
	return m.sum
}

// reread says how to read a released file again: its path, and its size
// and checksum as parsed, so that a file changed since is not used to place
// diagnostics.
type reread struct {
	path string
	size int
	sum  uint32
}

// faultGuard turns a fault reading a mapped file (the file truncated while
// it is parsed: SIGBUS) into an error instead of a crash. It returns the
// function to defer.
func faultGuard(onFault func()) func() {
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); fault {
				onFault()
				return
			}
			panic(r)
		}
	}
}

// placeReleased places pointers in a released JSON file without reading it
// onto the heap again (4.8 MB for make bench's file, for the position of
// one permission): the file is mapped, checked against the checksum of
// what was parsed a megabyte at a time, each released once checked, and
// read only up to the last pointer. It does so once: a caller that places
// diagnostics one at a time (a hundred mappings and checksums of that file
// took a second) has bytes read the file and keep it. ok is false when f
// was not released, was placed from a mapping already, or cannot be
// mapped: bytes reads it then. A file changed since it was parsed places
// nothing, as bytes does.
func (f *File) placeReleased(ptrs []string) (pos map[string]schema.Pos, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reread
	if f.data != nil || r == nil || f.mappedOnce {
		return nil, false
	}
	f.mappedOnce = true
	file, err := os.Open(r.path)
	if err != nil {
		return nil, false
	}
	defer file.Close()
	if st, err := file.Stat(); err != nil || st.Size() != int64(r.size) {
		f.reread = nil // changed: nothing is placed, now or later
		return map[string]schema.Pos{}, true
	}
	m, mapped := mapFile(file, int64(r.size))
	if !mapped {
		return nil, false
	}
	defer m.unmap()
	defer faultGuard(func() { pos, ok = map[string]schema.Pos{}, true })()
	var sum uint32
	for off := 0; off < len(m.data); off += dropEvery {
		chunk := m.data[off:min(off+dropEvery, len(m.data))]
		sum = crc32.Update(sum, castagnoli, chunk)
		drop(chunk)
	}
	if sum != r.sum {
		f.reread = nil
		return map[string]schema.Pos{}, true
	}
	offs := decode.LocateJSON(m.data, ptrs)
	last := 0
	for _, o := range offs {
		last = max(last, o)
	}
	// Lines and columns are counted up to the last pointer only.
	return placeOffsets(offs, decode.NewLineIndex(m.data[:min(last+1, len(m.data))])), true
}
