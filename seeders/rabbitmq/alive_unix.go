//go:build unix

package rabbitmq

import (
	"errors"
	"syscall"
)

// processAlive says whether a process of this host runs under pid (one of
// another user's counts: signal 0 is refused, not unanswered).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
