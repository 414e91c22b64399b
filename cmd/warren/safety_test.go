package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// Safety against a real node: interrupted and concurrent applies. Prunes
// that would destroy messages or remove every administrator, and the acting
// user's password changed last, are scripts in testdata/broker.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// warrenBinary is warren as a process of its own, for tests of signals,
// kill -9 and concurrent applies: the test binary itself under the name
// warren, which TestMain (testscript.Main) runs as warren.
func warrenBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			binErr = err
			return
		}
		binDir, binErr = os.MkdirTemp("", "warren-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "warren")
		binErr = os.Symlink(exe, binPath)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// bigVhost makes vhost "big" with many queues, where the harness
// administrator has no permissions: pruning them makes apply grant itself
// access for the apply only.
func bigVhost(t *testing.T, n *rabbitmqtest.Node, queues int) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString(`{"vhosts":[{"name":"big"}],"queues":[`)
	for i := range queues {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"q%05d","vhost":"big","durable":true,"auto_delete":false,"arguments":{}}`, i)
	}
	b.WriteString("]}")
	if err := n.PostDefinitions(ctx, []byte(b.String())); err != nil {
		t.Fatal(err)
	}
	n.Do(ctx, "DELETE", "/api/permissions/big/"+n.Admin, nil, nil)
	return writeTemp(t, "defs.yaml", "vhosts:\n  - {name: /}\n  - {name: big}\nqueues: []\n")
}

// temporaryGrant reports whether the harness administrator holds a
// temporary grant on vhost big.
func temporaryGrant(n *rabbitmqtest.Node) bool {
	var p struct{ Configure string }
	err := n.Do(context.Background(), "GET", "/api/permissions/big/"+n.Admin, nil, &p)
	return err == nil && p.Configure == plan.TemporaryPattern
}

// startApply runs warren apply as a process and waits until it has granted
// itself access to vhost big and deleted a few queues.
func startApply(t *testing.T, n *rabbitmqtest.Node, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(warrenBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for !temporaryGrant(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the apply never granted itself access:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	return cmd, &stderr
}

func TestApplyInterruptedTakesBackItsGrants(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	defs := bigVhost(t, n, 2000)
	cmd, stderr := startApply(t, n, "apply", "--yes", "--prune", defs)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("an interrupted apply must exit %d: %v\n%s", exitError, err, stderr)
	}
	for _, want := range []string{"stopping after the step under way", "interrupted", "Done (", "Not done (", "Run warren apply again"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, stderr)
		}
	}
	t.Logf("the interrupted apply's report:\n%s", withoutQueues(stderr.String()))
	if temporaryGrant(n) {
		t.Fatalf("the interrupted apply left its temporary grant:\n%s", stderr)
	}
	code, out, errOut := warren(t, "apply", "--yes", "--prune", defs)
	if code != exitOK {
		t.Fatalf("the re-run: exit %d\n%s%s", code, out, errOut)
	}
	mustInSync(t, "--prune", defs)
	if temporaryGrant(n) {
		t.Fatal("the re-run left a temporary grant")
	}
}

func TestApplyKilledLeavesAGrantTheNextRunRemoves(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	defs := bigVhost(t, n, 2000)
	cmd, _ := startApply(t, n, "apply", "--yes", "--prune", defs)
	cmd.Process.Kill() // kill -9
	cmd.Wait()
	if !temporaryGrant(n) {
		t.Fatal("the killed apply left no grant: the test proves nothing")
	}
	// A later diff, even without --prune, shows the grant as drift.
	code, out, errOut := warren(t, "diff", defs)
	want := `- permission "` + n.Admin + `" on vhost "big"  (a temporary grant an interrupted apply left behind)`
	if code != exitDrift || !strings.Contains(out, want) {
		t.Fatalf("diff after kill -9: exit %d, want %q\n%s%s", code, want, out, errOut)
	}
	// apply removes it.
	if code, out, errOut := warren(t, "apply", "--yes", defs); code != exitOK {
		t.Fatalf("apply after kill -9: exit %d\n%s%s", code, out, errOut)
	}
	if temporaryGrant(n) {
		t.Fatal("apply did not remove the grant a killed apply left")
	}
	mustInSync(t, defs)
	if code, out, errOut := warren(t, "apply", "--yes", "--prune", defs); code != exitOK {
		t.Fatalf("apply --prune: exit %d\n%s%s", code, out, errOut)
	}
	mustInSync(t, "--prune", defs)
}

// withoutQueues drops the lines about single queues from a report.
func withoutQueues(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, `queue "q0`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestTwoAppliesAtOnce(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := context.Background()
	defs := bigVhost(t, n, 2000)
	first, stderr := startApply(t, n, "apply", "--yes", "--prune", defs)
	// The first holds the lock: the second is refused, and says by whom.
	code, out, errOut := warren(t, "apply", "--yes", "--prune", defs)
	for _, want := range []string{"another warren apply holds the broker's lock", `user "` + n.Admin + `"`, fmt.Sprintf("pid %d", first.Process.Pid), "--break-lock"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the second apply's error lacks %q: exit %d\n%s%s", want, code, out, errOut)
		}
	}
	if code != exitError {
		t.Errorf("the second apply: exit %d, want %d", code, exitError)
	}
	// diff neither shows nor prunes the lock.
	if _, out, _ := warren(t, "diff", "--prune", writeTemp(t, "globals.yaml", "global_parameters: []\n")); strings.Contains(out, "warren-lock") {
		t.Errorf("diff shows the lock:\n%s", out)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("the first apply: %v\n%s", err, withoutQueues(stderr.String()))
	}
	if _, held, err := mustClient(t, n).ReadLock(ctx); err != nil || held {
		t.Fatalf("the lock is still there after the apply (%v)", err)
	}
	mustInSync(t, "--prune", defs)
}

func TestStaleAndBrokenLocks(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := context.Background()
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: /}\n  - {name: v}\n")
	putLock := func(host string, renewed time.Time) {
		t.Helper()
		if err := n.Do(ctx, "PUT", "/api/global-parameters/warren-lock", map[string]any{"name": "warren-lock", "value": map[string]any{
			"holder": "someone", "host": host, "pid": 4242, "since": renewed.Add(-time.Minute), "renewed": renewed, "token": "theirs"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	putLock("elsewhere", time.Now())
	code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", defs)
	if code != exitError || !strings.Contains(errOut, `user "someone" on host "elsewhere", pid 4242`) {
		t.Fatalf("apply under another host's lock: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", "--break-lock", defs); code != exitOK || !strings.Contains(errOut, "breaking the broker's lock (--break-lock)") {
		t.Fatalf("apply --break-lock: exit %d\n%s%s", code, out, errOut)
	}
	if _, held, _ := mustClient(t, n).ReadLock(ctx); held {
		t.Error("apply --break-lock did not release the lock")
	}
	// A lock not renewed for longer than LockTTL expires.
	putLock("elsewhere", time.Now().Add(-time.Hour))
	defs2 := writeTemp(t, "defs2.yaml", "vhosts:\n  - {name: /}\n  - {name: v2}\n")
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", "--prune", defs2); code != exitOK || !strings.Contains(errOut, "breaking a stale lock") {
		t.Fatalf("apply over a stale lock: exit %d\n%s%s", code, out, errOut)
	}
	mustInSync(t, "--keep-guest", "--prune", defs2)
}

func TestApplySaysTheBrokerChangedBySomeoneElse(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := context.Background()
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: /}\n  - {name: v}\n")
	operation.BeforeApplyHook = func() { n.Do(ctx, "PUT", "/api/vhosts/surprise", nil, nil) }
	t.Cleanup(func() { operation.BeforeApplyHook = nil })
	// Someone reviews the plan (a terminal, no --yes), and the broker
	// changes before the lock is taken. (With --yes the plan is read under
	// the lock: TestApplyYesPlansUnderTheLock.)
	code, _, errOut := warrenOnTerminal(t, "yes", "apply", "--keep-guest", defs)
	if code != exitError || !strings.Contains(errOut, "changed by someone else") {
		t.Fatalf("apply after a change behind its back: exit %d\n%s", code, errOut)
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/v", nil, nil); err == nil {
		t.Error("the refused apply created vhost v")
	}
	if _, held, _ := mustClient(t, n).ReadLock(ctx); held {
		t.Error("the refused apply left its lock")
	}
}

func mustClient(t *testing.T, n *rabbitmqtest.Node) *rabbitmq.Client {
	t.Helper()
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
