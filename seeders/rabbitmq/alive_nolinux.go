//go:build !linux

package rabbitmq

// processIdentity cannot tell here which processes share this one's pids:
// a lock's pid is never looked up, and only its age (LockTTL) makes it
// stale.
func processIdentity() (bootID, pidNS string) { return "", "" }
