package httpapi

import (
	"context"
	"errors"
	"net"
	"syscall"
	"time"
)

// Retry calls once until it succeeds, says it may not be tried again, or
// has been called attempts times (at least once). Before the n-th call
// again (n from 1) it waits wait(n). It returns once's last error, or
// ctx's when ctx ends during a wait.
func Retry(ctx context.Context, attempts int, wait func(n int) time.Duration, once func() (again bool, err error)) error {
	var last error
	for attempt := 0; attempt < max(attempts, 1); attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait(attempt)):
			}
		}
		again, err := once()
		if err == nil || !again {
			return err
		}
		last = err
	}
	return last
}

// Doubling waits first, then twice as long on each call again.
func Doubling(first time.Duration) func(n int) time.Duration {
	return func(n int) time.Duration { return first << (n - 1) }
}

// Refused reports whether a connection was refused (nothing was sent, so
// even a request that is not safe to repeat may be sent again).
func Refused(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}
