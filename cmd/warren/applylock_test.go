package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestApplyYesPlansUnderTheLock: with --yes nobody reviews the plan, so
// apply takes the lock first and reads the broker once, under it. A change
// made after the lock was taken is in the plan (here pruned), where an
// apply that planned before locking stops with "changed by someone else".
func TestApplyYesPlansUnderTheLock(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	t.Logf("RabbitMQ %s", n.Version)
	ctx := context.Background()
	t.Cleanup(func() { n.Do(ctx, "DELETE", "/api/vhosts/late", nil, nil) })
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: /}\n  - {name: planned-under-lock}\n")
	t.Cleanup(func() { n.Do(ctx, "DELETE", "/api/vhosts/planned-under-lock", nil, nil) })
	sawLock := false
	operation.BeforeApplyHook = func() {
		_, sawLock, _ = mustClient(t, n).ReadLock(ctx)
		n.Do(ctx, "PUT", "/api/vhosts/late", nil, nil)
	}
	t.Cleanup(func() { operation.BeforeApplyHook = nil })
	code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", "--prune", "--destroy-messages", defs)
	if code != exitOK {
		t.Fatalf("apply --yes: exit %d\n%s%s", code, out, errOut)
	}
	if !sawLock {
		t.Error("the broker was read for the plan without the lock held")
	}
	if !strings.Contains(out, `vhost "late"`) {
		t.Errorf("the plan does not delete the vhost made after the lock was taken:\n%s", out)
	}
	if _, held, _ := mustClient(t, n).ReadLock(ctx); held {
		t.Error("apply left its lock")
	}
	operation.BeforeApplyHook = nil
	mustInSync(t, "--keep-guest", "--prune", defs)
	// Nothing to do: the lock is still given back.
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", "--prune", defs); code != exitOK || !strings.Contains(out, "No changes") {
		t.Fatalf("apply --yes with nothing to do: exit %d\n%s%s", code, out, errOut)
	}
	if _, held, _ := mustClient(t, n).ReadLock(ctx); held {
		t.Error("apply with nothing to do left its lock")
	}
}

// warrenOnTerminal runs warren with a terminal as its standard input,
// where answer is typed, as a person answering apply's question would.
func warrenOnTerminal(t *testing.T, answer string, args ...string) (int, string, string) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("a pseudo-terminal is required in CI (the confirmed apply's path runs on one): %v", err)
		}
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	unlock := int32(0)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var num uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&num))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", num), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if _, err := master.WriteString(answer + "\n"); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"warren"}, args...), tty, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}
