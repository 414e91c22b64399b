package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// deadPID is the pid of a process of this machine that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func lockClient(t *testing.T, n *rabbitmqtest.Node) *Client {
	t.Helper()
	c, err := New(Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// putLock writes the lock parameter as another apply would.
func putLock(t *testing.T, n *rabbitmqtest.Node, l LockInfo) {
	t.Helper()
	if err := n.Do(context.Background(), "PUT", "/api/global-parameters/"+plan.LockParameter, map[string]any{"name": plan.LockParameter, "value": l}, nil); err != nil {
		t.Fatal(err)
	}
}

func lockToken(t *testing.T, n *rabbitmqtest.Node) string {
	t.Helper()
	var p struct{ Value json.RawMessage }
	if err := n.Do(context.Background(), "GET", "/api/global-parameters/"+plan.LockParameter, nil, &p); err != nil {
		return ""
	}
	var l LockInfo
	json.Unmarshal(p.Value, &l)
	return l.Token
}

// TestLockOfAnotherPIDNamespaceHolds: a lock written on this hostname by
// a pid this process cannot see (another container on the host network,
// a CI runner) is held; only one from this boot and PID namespace whose
// process is gone is stale.
func TestLockOfAnotherPIDNamespaceHolds(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	c := lockClient(t, n)
	host, _ := os.Hostname()
	boot, ns := processIdentity()
	if boot == "" || ns == "" {
		t.Fatalf("no boot id or PID namespace on this Linux machine: %q %q", boot, ns)
	}
	now := time.Now()
	for _, tc := range []struct {
		name        string
		boot, pidNS string
		stale       bool
	}{
		{"written before boot ids were recorded", "", "", false},
		{"another PID namespace", boot, "other-ns", false},
		{"another boot", "another-boot", ns, false},
		{"this boot and PID namespace", boot, ns, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := LockInfo{Holder: "someone", Host: host, PID: deadPID(t), Since: now, Renewed: now, Token: "other-apply", BootID: tc.boot, PIDNS: tc.pidNS}
			putLock(t, n, other)
			defer n.Do(ctx, "DELETE", "/api/global-parameters/"+plan.LockParameter, nil, nil)
			h, err := c.Lock(ctx, LockOptions{})
			if !tc.stale {
				var le *LockedError
				if !errors.As(err, &le) || le.Held.Token != "other-apply" {
					h.Release()
					t.Fatalf("Lock broke a lock held in another PID namespace: %v", err)
				}
				if got := lockToken(t, n); got != "other-apply" {
					t.Fatalf("the other apply's lock was replaced by %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("a lock whose process is gone from this very namespace was not broken: %v", err)
			}
			if err := h.Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestApplyStopsWhenItsLockIsTaken: another apply broke the lock while this
// one held it; this one makes no change, and its release leaves the other's
// lock in place.
func TestApplyStopsWhenItsLockIsTaken(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	tg := NewTarget(lockClient(t, n), definitions.TargetRabbitMQ)
	release, err := tg.Lock(ctx, false, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	putLock(t, n, LockInfo{Holder: "someone", Host: "elsewhere", PID: 1, Since: now, Renewed: now, Token: "breaker"})
	v := &definitions.Vhost{Name: "made-without-the-lock"}
	p := &plan.Plan{Changes: []plan.Change{{Action: plan.Create, Kind: definitions.KindVhost, Step: plan.StepCreate, Addr: plan.AddrOf(v), After: v}}}
	err = tg.Apply(ctx, p, seeders.ApplyOptions{})
	var lost *LostLockError
	if !errors.As(err, &lost) || !strings.Contains(err.Error(), "no longer this apply's") {
		t.Errorf("apply under a lock another took: %v", err)
	}
	if n.Do(ctx, "GET", "/api/vhosts/made-without-the-lock", nil, nil) == nil {
		t.Error("the apply changed the broker after its lock was taken")
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if got := lockToken(t, n); got != "breaker" {
		t.Fatalf("release deleted or replaced a lock it did not hold: token now %q", got)
	}
	n.Do(ctx, "DELETE", "/api/global-parameters/"+plan.LockParameter, nil, nil)
}

// TestLockLeaseOnTheBrokersClock: an apply on a machine whose clock runs
// ten minutes ahead finds a lock another apply renewed a moment ago (on the
// broker's clock, which its own agrees with): it is held, not stale. Its
// own lock is written on the broker's clock too, so an apply whose clock
// agrees with the broker's finds it held.
func TestLockLeaseOnTheBrokersClock(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	defer n.Do(ctx, "DELETE", "/api/global-parameters/"+plan.LockParameter, nil, nil)
	now := time.Now()
	putLock(t, n, LockInfo{Holder: "someone", Host: "another-machine", PID: 1, Since: now, Renewed: now, Token: "other-apply"})
	localNow = func() time.Time { return time.Now().Add(10 * time.Minute) }
	defer func() { localNow = time.Now }()
	h, err := lockClient(t, n).Lock(ctx, LockOptions{})
	var le *LockedError
	if !errors.As(err, &le) || le.Held.Token != "other-apply" || lockToken(t, n) != "other-apply" {
		h.Release()
		t.Fatalf("a clock ten minutes ahead broke a lock renewed a moment ago: %v", err)
	}
	n.Do(ctx, "DELETE", "/api/global-parameters/"+plan.LockParameter, nil, nil)
	h, err = lockClient(t, n).Lock(ctx, LockOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	localNow = time.Now
	if _, err := lockClient(t, n).Lock(ctx, LockOptions{}); !errors.As(err, &le) {
		t.Fatalf("the lock taken by a clock ten minutes ahead is not held for one that agrees with the broker: %v", err)
	}
}
