package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-tool/warren/definitions/plan"
)

// RabbitMQ has no lock. An apply takes an advisory one: the global
// parameter warren-lock (plan.LockParameter), written with its
// holder, host, pid, process identity, time and a random token, checked
// before applying, renewed while the apply runs and deleted at its end.
//
// A lock is a lease: it is stale when not renewed for LockTTL. Its pid is
// looked at only when the lock was written by this very machine's boot and
// PID namespace (processIdentity): the same hostname is shared by
// containers on the host network, hostNetwork pods and CI runners, where
// another apply's pid means nothing here, and a lock broken on that ground
// was broken while held. The holder re-reads the lock before each step
// that changes the broker (Held.Check) and stops when its token is no
// longer there, and gives back only a lock that holds its token.
//
// An exclusive AMQP queue held for the apply's duration would be exact
// (the broker drops it when its holder's connection dies), but it is not
// used: it lives in a vhost, which the apply itself may delete (pruning
// "/"), and in which the acting user, an administrator, may have no
// permission; it needs the AMQP port, which a management URL does not
// give; and a restart of the node it lives on drops it in the middle of an
// apply that is otherwise fine.

// A lock's times are the broker's (brokerNow): the lease is written and
// judged on one clock, so that an apply on a machine whose clock runs
// ahead does not take a lock renewed a moment ago for stale, and break it
// while it is held.

// brokerClock is the broker's time as the Date header of its last answer
// gives it (to the second), kept as an offset from this machine's clock.
type brokerClock struct {
	offset atomic.Int64 // nanoseconds
	known  atomic.Bool
}

// localNow is this machine's clock.
var localNow = time.Now

func (b *brokerClock) observe(date string) {
	t, err := http.ParseTime(date)
	if b == nil || err != nil {
		return
	}
	b.offset.Store(int64(t.Sub(localNow())))
	b.known.Store(true)
}

// brokerNow is the broker's time, as far as its answers said; this
// machine's before any answer.
func (c *Client) brokerNow() time.Time {
	now := localNow()
	if c.clock == nil || !c.clock.known.Load() {
		return now
	}
	return now.Add(time.Duration(c.clock.offset.Load()))
}

// LockTTL is how long a lock lives without being renewed: an apply renews
// its lock every LockTTL/4, so one older than this was left by an apply
// that was killed (or lost the broker) and is stale.
const LockTTL = 2 * time.Minute

// LockInfo is what the lock parameter holds.
type LockInfo struct {
	Holder  string    `json:"holder"` // the user warren logged in as
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Since   time.Time `json:"since"`
	Renewed time.Time `json:"renewed"`
	Token   string    `json:"token"`
	// BootID and PIDNS identify the machine boot and PID namespace the pid
	// belongs to (processIdentity); "" where they cannot be read.
	BootID string `json:"boot_id,omitempty"`
	PIDNS  string `json:"pid_ns,omitempty"`
}

func (l LockInfo) String() string {
	return fmt.Sprintf("user %q on host %q, pid %d, since %s (renewed %s)", l.Holder, l.Host, l.PID,
		l.Since.UTC().Format(time.RFC3339), l.Renewed.UTC().Format(time.RFC3339))
}

// stale says why a lock no longer holds, or "". me is this process's
// lock: a pid is looked up only in the boot and PID namespace it belongs
// to.
func (l LockInfo) stale(now time.Time, me LockInfo) string {
	if now.Sub(l.Renewed) > LockTTL {
		return fmt.Sprintf("not renewed for over %s", LockTTL)
	}
	sameProcesses := l.Host == me.Host && l.BootID != "" && l.BootID == me.BootID && l.PIDNS != "" && l.PIDNS == me.PIDNS
	if sameProcesses && l.PID > 0 && l.PID != me.PID && !processAlive(l.PID) {
		return "its process is gone"
	}
	return ""
}

// LostLockError says the lock an apply held is no longer its own: another
// apply broke it (--break-lock, or it was not renewed for LockTTL).
type LostLockError struct {
	Now   LockInfo
	Found bool
}

func (e *LostLockError) Error() string {
	if !e.Found {
		return fmt.Sprintf("the broker's lock (global parameter %s) is no longer this apply's: it was deleted; stopping", plan.LockParameter)
	}
	return fmt.Sprintf("the broker's lock (global parameter %s) is no longer this apply's: it is held by %s; stopping", plan.LockParameter, e.Now)
}

// LockedError says another apply holds the lock.
type LockedError struct{ Held LockInfo }

func (e *LockedError) Error() string {
	return fmt.Sprintf("another warren apply holds the broker's lock (global parameter %s): %s; wait for it to finish, "+
		"or, if that apply is gone, run again with --break-lock (a lock not renewed for %s expires on its own)",
		plan.LockParameter, e.Held, LockTTL)
}

// LockOptions tune Lock.
type LockOptions struct {
	// Break takes the lock even when another apply holds it.
	Break bool
	// Warn hears what Lock has to say (a stale or broken lock).
	Warn io.Writer
	// IfFree writes the lock only where there is none, not even a stale
	// one (errLockPresent).
	IfFree bool
	// While, when set, runs once the lock is written and while Lock waits
	// to see whether another apply wrote it at the same moment: what it
	// reads is read under the lock (it began after the lock was written),
	// and the wait costs no time of its own. When the lock turns out to be
	// another's, While's work is thrown away with a LockedError; when
	// While fails, the lock is given back and its error returned.
	While func(ctx context.Context) error
}

// Held is a lock this process holds; Release gives it back.
type Held struct {
	mu   sync.Mutex
	c    *Client // as Use last set it
	info LockInfo
	stop chan struct{}
	done chan struct{}
	once sync.Once
	over bool // released or abandoned: it governs nothing any more
}

// Lock takes the broker's apply lock, or says who holds it.
// GET, PUT /api/global-parameters/warren-lock
func (c *Client) Lock(ctx context.Context, opts LockOptions) (*Held, error) {
	p, err := c.beginLock(ctx, opts)
	if err != nil {
		return nil, err
	}
	return p.finish(ctx, opts.While)
}

// errLockPresent is why LockOptions.IfFree took no lock.
var errLockPresent = errors.New("the broker's lock is there")

// pendingLock is a lock written and not yet confirmed: another apply may
// have written its own at the same moment (Lock).
type pendingLock struct {
	c    *Client
	h    *Held
	wait <-chan time.Time
}

// beginLock reads the lock, writes this process's, and starts renewing
// it: what is read from now on is read under it, if finish confirms it.
// GET, PUT /api/global-parameters/warren-lock
func (c *Client) beginLock(ctx context.Context, opts LockOptions) (*pendingLock, error) {
	if opts.Warn == nil {
		opts.Warn = io.Discard
	}
	host, _ := os.Hostname()
	held, found, err := c.readLock(ctx)
	if err != nil {
		return nil, err
	}
	now := c.brokerNow() // the answer just read set it
	token := make([]byte, 8)
	rand.Read(token)
	me := LockInfo{Holder: c.cfg.Username, Host: host, PID: os.Getpid(), Since: now, Renewed: now, Token: hex.EncodeToString(token)}
	me.BootID, me.PIDNS = processIdentity()
	if found && opts.IfFree {
		return nil, errLockPresent
	}
	if found {
		why := held.stale(now, me)
		switch {
		case opts.Break:
			fmt.Fprintf(opts.Warn, "warren: breaking the broker's lock (--break-lock), held by %s\n", held)
		case why != "":
			fmt.Fprintf(opts.Warn, "warren: breaking a stale lock (%s), held by %s\n", why, held)
		default:
			return nil, &LockedError{Held: held}
		}
	}
	if err := c.writeLock(ctx, me); err != nil {
		return nil, fmt.Errorf("taking the broker's lock: %w", err)
	}
	// Two applies that both found no lock both wrote one: the last write
	// wins, and the other sees it in finish.
	p := &pendingLock{c: c, wait: time.After(200 * time.Millisecond)}
	// Renewed from now on: what runs before finish may read for longer
	// than the lock lives unrenewed.
	p.h = &Held{c: c, info: me, stop: make(chan struct{}), done: make(chan struct{})}
	go p.h.renew()
	return p, nil
}

// finish runs while (when set) and confirms the lock once the moment to
// see a concurrent taker's write is over: the lock is this process's, or
// while's work is thrown away with a LockedError. When while fails, the
// lock is given back and its error returned.
// GET /api/global-parameters/warren-lock
func (p *pendingLock) finish(ctx context.Context, while func(context.Context) error) (*Held, error) {
	var whileErr error
	if while != nil {
		whileErr = while(ctx)
	}
	<-p.wait
	now, found, err := p.c.readLock(ctx)
	if err != nil {
		p.h.abandon()
		return nil, err
	}
	if !found || now.Token != p.h.info.Token {
		p.h.abandon()
		return nil, &LockedError{Held: now}
	}
	if whileErr != nil {
		p.h.Release()
		return nil, whileErr
	}
	return p.h, nil
}

// Use makes the lock renewed and released through c from now on: an apply
// that changed the password of the user it logs in as, or deleted that
// user, carries on as another.
func (h *Held) Use(c *Client) {
	h.mu.Lock()
	h.c = c
	h.mu.Unlock()
}

func (h *Held) client() *Client {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.c
}

func (h *Held) renew() {
	defer close(h.done)
	t := time.NewTicker(LockTTL / 4)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			c := h.client()
			cur, found, err := c.readLock(ctx)
			if err == nil && found && cur.Token == h.info.Token {
				h.info.Renewed = c.brokerNow()
				c.writeLock(ctx, h.info)
			}
			cancel()
		}
	}
}

// Check re-reads the lock and says whether it is still this process's: an
// apply calls it before each step that changes the broker, and stops on a
// *LostLockError. A nil Held holds nothing and checks nothing.
// GET /api/global-parameters/warren-lock
func (h *Held) Check(ctx context.Context) error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	over := h.over
	h.mu.Unlock()
	if over {
		return nil
	}
	cur, found, err := h.client().readLock(ctx)
	if err != nil {
		return err
	}
	if !found || cur.Token != h.info.Token {
		return &LostLockError{Now: cur, Found: found}
	}
	return nil
}

// abandon stops renewing a lock that is not this process's after all.
func (h *Held) abandon() {
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		h.mu.Lock()
		h.over = true
		h.mu.Unlock()
	})
}

// Release gives the lock back (when it is still this process's).
// DELETE /api/global-parameters/warren-lock
func (h *Held) Release() error {
	if h == nil {
		return nil
	}
	var err error
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		h.mu.Lock()
		h.over = true
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c := h.client()
		cur, found, rerr := c.readLock(ctx)
		if rerr != nil || !found || cur.Token != h.info.Token {
			err = rerr
			return
		}
		err = c.do(ctx, http.MethodDelete, "/api/global-parameters/"+esc(plan.LockParameter), nil, nil)
		if NotFound(err) {
			err = nil
		}
	})
	return err
}

// ReadLock says who holds the broker's lock, if anyone.
func (c *Client) ReadLock(ctx context.Context) (LockInfo, bool, error) { return c.readLock(ctx) }

func (c *Client) readLock(ctx context.Context) (LockInfo, bool, error) {
	var p struct {
		Value json.RawMessage `json:"value"`
	}
	err := c.getJSON(ctx, "/api/global-parameters/"+esc(plan.LockParameter), &p)
	if NotFound(err) {
		return LockInfo{}, false, nil
	}
	if err != nil {
		return LockInfo{}, false, fmt.Errorf("reading the broker's lock: %w", err)
	}
	var l LockInfo
	if json.Unmarshal(p.Value, &l) != nil {
		l = LockInfo{Holder: "(unreadable lock)"} // never renewed: stale
	}
	return l, true, nil
}

func (c *Client) writeLock(ctx context.Context, l LockInfo) error {
	body, _ := json.Marshal(map[string]any{"name": plan.LockParameter, "value": l})
	return c.do(ctx, http.MethodPut, "/api/global-parameters/"+esc(plan.LockParameter), body, nil)
}
