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

// placeEvery is how far placing in a released file moves on before the
// pages behind it are released: it reads the file while the answer to a
// question is made (warren access), not, as parsing does, before.
const placeEvery = 256 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// mapping is a file mapped for parsing. While the decoder moves on, the
// pages behind it are checksummed and released; once parsed the file is
// unmapped, and File.bytes reads it again (if it is unchanged) only to
// place diagnostics.
type mapping struct {
	data []byte
	done int    // bytes before done are checksummed and released
	sum  uint32 // CRC-32C of data[:done]
	// marks are the checksums of data[:done] at each done reached while
	// parsing: placing objects near the file's start then checks the
	// bytes up to them, not the whole file.
	marks []mark
	// misaligned is set when the file is mapped off huge pages'
	// boundaries (mapFile).
	misaligned bool
}

// mark is the CRC-32C of a file's first off bytes.
type mark struct {
	off int
	sum uint32
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
	m.marks = append(m.marks, mark{end, m.sum})
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
	path  string
	size  int
	sum   uint32
	marks []mark // of the mapping it was parsed from
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
// one permission): the file is mapped and read up to the last pointer, the
// pages behind released as it goes, and what was read is checked against
// the checksum of the first mark past it (the whole file's when none is). Positions depend on the bytes before
// them alone: the rest of the file is not read (checksumming all of make
// bench's file was half of placing a permission near its start). It does
// so once: a caller that places diagnostics one at a time (a hundred
// mappings of that file took a second) has bytes read the file and keep
// it. ok is false when f was not released, was placed from a mapping
// already, or cannot be mapped: bytes reads it then. A file changed since
// it was parsed (in its size, or up to the pointers) places nothing, as
// bytes does.
//
// The positions are handed to set, the i-th pointer's as set(i, pos).
func (f *File) placeReleased(ptrs []string, set func(i int, p schema.Pos)) (ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.reread
	if f.data != nil || r == nil || f.mappedOnce {
		return false
	}
	f.mappedOnce = true
	file, err := os.Open(r.path)
	if err != nil {
		return false
	}
	defer file.Close()
	if st, err := file.Stat(); err != nil || st.Size() != int64(r.size) {
		f.reread = nil // changed: nothing is placed, now or later
		return true
	}
	m, mapped := mapFile(file, int64(r.size))
	if !mapped {
		return false
	}
	defer m.unmap()
	// What was placed before a fault or a change is found is taken back.
	unplace := func() {
		for i := range ptrs {
			set(i, schema.Pos{})
		}
	}
	defer faultGuard(func() { unplace(); ok = true })()
	// The pointers are located, then their lines and columns counted, each
	// in one pass that releases the pages behind it: the bytes up to the
	// last pointer are not resident at once.
	page := os.Getpagesize()
	offs, read := decode.LocateJSONReleasing(m.data, ptrs, func(off int) {
		if end := off / page * page; end-m.done >= placeEvery {
			m.sum = crc32.Update(m.sum, castagnoli, m.data[m.done:end])
			drop(m.data[m.done:end])
			m.done = end
		}
	})
	placeSwept(m.data, offs, set)
	offs = nil
	upTo, want := len(m.data), r.sum
	for _, k := range r.marks {
		if k.off >= read {
			upTo, want = k.off, k.sum
			break
		}
	}
	// What was located and not yet checksummed (m.done on) is checked up
	// to the mark.
	sum := m.sum
	for off := m.done; off < upTo; {
		end := min(off/page*page+placeEvery, upTo)
		sum = crc32.Update(sum, castagnoli, m.data[off:end])
		drop(m.data[off/page*page : end])
		off = end
	}
	if sum != want {
		f.reread = nil
		unplace()
	}
	return true
}

// placeSwept turns offsets into positions in a mapped file, in one pass
// over it that releases the pages behind, and hands set the i-th offset's
// as set(i, pos).
func placeSwept(data []byte, offs []int, set func(i int, p schema.Pos)) {
	order := inFileOrder(offs)
	page, dropped := os.Getpagesize(), 0
	decode.PositionsEach(data, len(order), func(k int) int { return offs[order[k]] }, func(off int) {
		if end := off / page * page; end-dropped >= placeEvery {
			drop(data[dropped:end])
			dropped = end
		}
	}, func(k int, p schema.Pos) { set(int(order[k]), p) })
}
