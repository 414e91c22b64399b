//go:build !unix

package rabbitmq

// processAlive cannot tell here (Windows opens another user's process only
// with rights warren may lack): a lock is taken as alive, and only its age
// (LockTTL) makes it stale. Saying "gone" wrongly would break a live lock.
func processAlive(pid int) bool { return true }
