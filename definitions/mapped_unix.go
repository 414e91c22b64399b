//go:build linux || darwin

package definitions

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps a regular file read-only, for parsing without holding its
// bytes in warren's own memory: the decoder reads the pages through the
// kernel's page cache, and released hands back to the kernel those it is
// done with, so a 20 MB file adds a few pages to the process, not 20 MB.
// ok is false when the file is better read (the mapping failed).
//
// The file is mapped one page past a huge page's boundary (hugeAlign):
// at an address the kernel chooses, a large file is aligned to huge
// pages, and the page cache of a file just written may hold 2 MiB folios,
// which a read then maps whole, 2 MiB at once, past where the pages
// behind are released (placing make bench's findings in a file written
// just before peaked 2 MB higher so).
func mapFile(f *os.File, size int64) (*mapping, bool) {
	if size <= 0 || int64(int(size)) != size {
		return nil, false
	}
	if data, ok := mapMisaligned(int(f.Fd()), int(size)); ok {
		return &mapping{data: data, misaligned: true}, true
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	return &mapping{data: data}, true
}

// hugeAlign is the size of a huge page (x86-64's and arm64's 2 MiB).
const hugeAlign = 2 << 20

// mapMisaligned maps size bytes of fd read-only at an address one page
// past a multiple of hugeAlign: no huge page can map them. It reserves a
// range that has room for such an address, maps the file over it, and
// gives back the rest.
func mapMisaligned(fd, size int) ([]byte, bool) {
	page := os.Getpagesize()
	span := uintptr(size + hugeAlign + page)
	r, err := unix.MmapPtr(-1, 0, nil, span, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, false
	}
	// at is r+skip: one page past the first multiple of hugeAlign.
	skip := (hugeAlign-uintptr(r)%hugeAlign)%hugeAlign + uintptr(page)
	at := unsafe.Add(r, skip)
	p, err := unix.MmapPtr(fd, 0, at, uintptr(size), unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_FIXED)
	if err != nil || p != at {
		_ = unix.MunmapPtr(r, span)
		return nil, false
	}
	// The reservation around the file: before it, and after its last page.
	_ = unix.MunmapPtr(r, skip)
	if end := skip + (uintptr(size)+uintptr(page)-1)/uintptr(page)*uintptr(page); end < span {
		_ = unix.MunmapPtr(unsafe.Add(r, end), span-end)
	}
	return unsafe.Slice((*byte)(p), size), true
}

// drop tells the kernel that the pages of b (whole pages, b starting on
// one) are not needed now: they leave the process's resident memory and
// come back from the file if read again.
func drop(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTNEED) }

func (m *mapping) unmap() {
	switch {
	case m.data == nil:
	case m.misaligned:
		_ = unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(m.data)), uintptr(len(m.data)))
	default:
		_ = unix.Munmap(m.data)
	}
	m.data = nil
}
