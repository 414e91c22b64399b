package rabbitmq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/warren-tool/warren/definitions/plan"
)

// RabbitMQ has no lock. An apply takes an advisory one: the global
// parameter warren-lock (plan.LockParameter), written with its
// holder, host, pid and time, checked before applying, renewed while the
// apply runs and deleted at its end.

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
}

func (l LockInfo) String() string {
	return fmt.Sprintf("user %q on host %q, pid %d, since %s (renewed %s)", l.Holder, l.Host, l.PID,
		l.Since.UTC().Format(time.RFC3339), l.Renewed.UTC().Format(time.RFC3339))
}

// stale says why a lock no longer holds, or "".
func (l LockInfo) stale(now time.Time, host string) string {
	if now.Sub(l.Renewed) > LockTTL {
		return fmt.Sprintf("not renewed for over %s", LockTTL)
	}
	if l.Host == host && l.PID > 0 && !processAlive(l.PID) {
		return "its process is gone"
	}
	return ""
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
}

// Lock takes the broker's apply lock, or says who holds it.
// GET, PUT /api/global-parameters/warren-lock
func (c *Client) Lock(ctx context.Context, opts LockOptions) (*Held, error) {
	if opts.Warn == nil {
		opts.Warn = io.Discard
	}
	host, _ := os.Hostname()
	now := time.Now()
	token := make([]byte, 8)
	rand.Read(token)
	me := LockInfo{Holder: c.cfg.Username, Host: host, PID: os.Getpid(), Since: now, Renewed: now, Token: hex.EncodeToString(token)}
	held, found, err := c.readLock(ctx)
	if err != nil {
		return nil, err
	}
	if found {
		why := held.stale(now, host)
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
	// wins, and the other sees it here.
	wait := time.After(200 * time.Millisecond)
	// Renewed from now on: While may read for longer than the lock lives
	// unrenewed.
	h := &Held{c: c, info: me, stop: make(chan struct{}), done: make(chan struct{})}
	go h.renew()
	var whileErr error
	if opts.While != nil {
		whileErr = opts.While(ctx)
	}
	<-wait
	now2, found, err := c.readLock(ctx)
	if err != nil {
		h.abandon()
		return nil, err
	}
	if !found || now2.Token != me.Token {
		h.abandon()
		return nil, &LockedError{Held: now2}
	}
	if whileErr != nil {
		h.Release()
		return nil, whileErr
	}
	return h, nil
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
				h.info.Renewed = time.Now()
				c.writeLock(ctx, h.info)
			}
			cancel()
		}
	}
}

// abandon stops renewing a lock that is not this process's after all.
func (h *Held) abandon() {
	h.once.Do(func() {
		close(h.stop)
		<-h.done
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
