//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

// hardLinks is how many names a file has.
func hardLinks(st os.FileInfo) uint64 {
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(sys.Nlink)
	}
	return 1
}
