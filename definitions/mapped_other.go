//go:build !(linux || darwin)

package definitions

import "os"

// mapFile maps nothing on this system: files are read.
func mapFile(*os.File, int64) (*mapping, bool) { return nil, false }

func drop([]byte) {}

func (m *mapping) unmap() {}
