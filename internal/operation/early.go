package operation

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

// Early is a RabbitMQ target opened, and its read started
// (seeders.Prefetcher), while the files load: a diff reads the broker
// only once the files are valid, but its read need not wait for them. The
// open talks to the broker as Open does, and shows nothing: what it would
// log is kept, and shown by Target once the files are valid. It never
// prompts. A nil *Early is none.
type Early struct {
	cancel context.CancelFunc
	done   chan struct{}
	t      seeders.Target
	err    error
	log    bytes.Buffer
	// locked: the open also wrote the apply lock, and the read is under
	// it (OpenEarlyLocked).
	locked bool
	// The interrupts caught until Apply catches them (OpenEarlyLocked):
	// handed closes when Apply does, caught when the catcher is done.
	sigs     chan os.Signal
	handed   chan struct{}
	caught   chan struct{}
	handOnce sync.Once
	stopOnce sync.Once
}

// OpenEarly opens a RabbitMQ target in the background; nil for the cloud
// targets and where the connection waits for the broker (--wait), which
// must not come before the files' errors.
func OpenEarly(ctx context.Context, req TargetRequest) *Early {
	return openEarly(ctx, req, nil)
}

// EarlyLock asks OpenEarlyLocked for the apply lock.
type EarlyLock struct {
	// Interrupted runs when SIGINT or SIGTERM comes before Apply catches
	// them itself, once the lock is given back; it ends the process.
	Interrupted func(os.Signal)
}

// OpenEarlyLocked is OpenEarly for an apply that nobody reviews (--yes):
// on a broker where the plan reads one whole export (RabbitMQ 4.3), the
// apply lock is written first, when no lock is there (a lock to wait for
// or to break is Apply's business, once the files are valid), and the
// read started under it, so that the plan is read under the lock while the
// files load. Apply confirms the lock (ApplyRequest.Early); Stop gives
// back a lock Apply did not take, as an interrupt does until Apply
// catches interrupts itself. Elsewhere it is OpenEarly.
func OpenEarlyLocked(ctx context.Context, req TargetRequest, lock EarlyLock) *Early {
	e := openEarly(ctx, req, &lock)
	if e == nil {
		return nil
	}
	e.sigs, e.handed, e.caught = make(chan os.Signal, 1), make(chan struct{}), make(chan struct{})
	signal.Notify(e.sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-e.sigs:
			signal.Stop(e.sigs) // a second one ends warren at once
			e.stop()
			lock.Interrupted(s)
		case <-e.handed:
		}
		close(e.caught)
	}()
	return e
}

// handOff stops catching interrupts (Apply catches them from now on), or,
// when one was caught, waits for its end.
func (e *Early) handOff() {
	if e == nil || e.sigs == nil {
		return
	}
	e.handOnce.Do(func() {
		signal.Stop(e.sigs)
		close(e.handed)
		<-e.caught
	})
}

// earlyLocker writes the apply lock before the files are loaded
// (rabbitmq.Target.LockEarly) and gives it back when no apply took it.
type earlyLocker interface {
	LockEarly(ctx context.Context, warn io.Writer) (bool, error)
	ReleaseEarly() error
}

func openEarly(ctx context.Context, req TargetRequest, lock *EarlyLock) *Early {
	if req.Name == definitions.TargetAmazonMQActiveMQ || req.Name == definitions.TargetHuaweiCloudRabbitMQ || req.Connection.Wait > 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	e := &Early{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		t, err := Open(ctx, &quietUI{log: &e.log}, req)
		if err != nil {
			e.err = err
			return
		}
		e.t = t
		if l, ok := t.(earlyLocker); ok && lock != nil {
			// Not cancelled by Stop: a lock written must be known, to be
			// given back.
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			tried, err := l.LockEarly(lctx, &e.log)
			cancel()
			if tried && err != nil {
				e.locked = true // Apply's lock says why
				return
			}
			if e.locked = tried; tried && BeforeApplyHook != nil {
				BeforeApplyHook() // the lock is written; the read begins
			}
		}
		if p, ok := t.(seeders.Prefetcher); ok {
			p.Prefetch(ctx)
		}
	}()
	return e
}

// Target waits for the early open and returns its target or its error,
// after showing on ui what the open logged. Both are nil when the open
// needed a prompt: the caller opens the target itself.
func (e *Early) Target(ui UI) (seeders.Target, error) {
	if e == nil {
		return nil, nil
	}
	<-e.done
	if errors.Is(e.err, errNoPrompt) {
		return nil, nil
	}
	ui.Log().Write(e.log.Bytes())
	return e.t, e.err
}

// Locked says whether the early open wrote the apply lock (or tried to):
// Apply then confirms that lock rather than taking one.
func (e *Early) Locked() bool {
	if e == nil {
		return false
	}
	<-e.done
	return e.locked
}

// Stop cancels what the early open still does (a read no one took),
// waits for the open to end, and gives back a lock no apply took.
func (e *Early) Stop() {
	if e == nil {
		return
	}
	e.handOff()
	e.stop()
}

func (e *Early) stop() {
	e.stopOnce.Do(func() {
		e.cancel()
		<-e.done
		if l, ok := e.t.(earlyLocker); ok {
			// When it cannot be given back, it expires (rabbitmq.LockTTL),
			// or the next apply on this host finds its process gone.
			l.ReleaseEarly()
		}
	})
}

// errNoPrompt is why an early open cannot ask for a password.
var errNoPrompt = errors.New("no prompt before the files are loaded")

// quietUI is the UI of an early open: its log is kept, and it shows and
// asks nothing.
type quietUI struct{ log *bytes.Buffer }

func (u *quietUI) Out() io.Writer                       { return io.Discard }
func (u *quietUI) Log() io.Writer                       { return u.log }
func (u *quietUI) Diagnostics(schema.Diagnostics)       {}
func (u *quietUI) Plan(*plan.Plan)                      {}
func (u *quietUI) Notes([]string)                       {}
func (u *quietUI) Confirm() error                       { return errNoPrompt }
func (u *quietUI) Progress(seeders.Progress)            {}
func (u *quietUI) ProgressDone()                        {}
func (u *quietUI) Password(user string) (string, error) { return "", errNoPrompt }
