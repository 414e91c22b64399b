// Package atomicfile writes files so that a crash never leaves half of
// one: through a temporary file in the same directory, renamed over the
// old one.
package atomicfile

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Rewrite gives an existing file new content and keeps what points
// at it: a symbolic link is followed (the file it names is rewritten, the
// link stays a link), and a file with hard links is written in place (not
// replaced, which would split it from its other names; a crash may then
// leave it half written). Otherwise the file is replaced atomically, with
// its mode.
func Rewrite(path string, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(real)
	if err != nil {
		return err
	}
	if hardLinks(st) > 1 {
		f, err := os.OpenFile(real, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return replace(real, data, st.Mode().Perm())
}

// umask is the process's file mode creation mask, read from
// /proc/self/status (Linux); without it, 022.
func umask() os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return os.FileMode(m)
				}
			}
		}
	}
	return 0o022
}

// Write writes a new file (or replaces one) with perm less the
// umask, as os.WriteFile does, atomically.
func Write(path string, data []byte, perm os.FileMode) error {
	return replace(path, data, perm&^umask())
}

// replace replaces a file through a temporary file in the same
// directory, so that a crash never leaves half a file; perm is the mode.
func replace(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
