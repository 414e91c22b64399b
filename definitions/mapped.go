package definitions

import (
	"hash/crc32"
	"os"
	"runtime/debug"
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
