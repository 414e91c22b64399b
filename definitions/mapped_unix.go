//go:build linux || darwin

package definitions

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file read-only, for parsing without holding its
// bytes in warren's own memory: the decoder reads the pages through the
// kernel's page cache, and released hands back to the kernel those it is
// done with, so a 20 MB file adds a few pages to the process, not 20 MB.
// ok is false when the file is better read (the mapping failed).
func mapFile(f *os.File, size int64) (*mapping, bool) {
	if size <= 0 || int64(int(size)) != size {
		return nil, false
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	return &mapping{data: data}, true
}

// drop tells the kernel that the pages of b (whole pages, b starting on
// one) are not needed now: they leave the process's resident memory and
// come back from the file if read again.
func drop(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

func (m *mapping) unmap() {
	if m.data != nil {
		_ = unix.Munmap(m.data)
		m.data = nil
	}
}
