//go:build linux

package rabbitmq

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processIdentity is the boot (/proc/sys/kernel/random/boot_id) and the
// PID namespace (the inode of /proc/self/ns/pid) this process's pid
// belongs to; "" for what cannot be read. Two processes see each other's
// pids only when both match.
func processIdentity() (bootID, pidNS string) {
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		bootID = strings.TrimSpace(string(b))
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/pid", &st); err == nil && st.Ino != 0 {
		pidNS = strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(st.Ino, 10)
	}
	return bootID, pidNS
}
