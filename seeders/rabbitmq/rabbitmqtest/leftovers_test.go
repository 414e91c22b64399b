package rabbitmqtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// RemoveLeftovers removes the temporary node directories of killed test
// binaries and nothing else: not one whose maker still runs, not one a
// running process (its node) still names, not one just made whose owner
// file is not written yet, not a kept directory of another name.
func TestRemoveLeftovers(t *testing.T) {
	base := t.TempDir()
	old := time.Now().Add(-2 * leftoverGrace)
	mk := func(name, owner string, mtime time.Time) string {
		t.Helper()
		dir := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "log", "node.log"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if owner != "" {
			if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{filepath.Join(dir, "log", "node.log"), filepath.Join(dir, "log"), dir} {
			if err := os.Chtimes(p, mtime, mtime); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	gone := goneOwner(t)
	self := fmt.Sprintf("%d %s\n", os.Getpid(), startTime(os.Getpid()))
	reused := fmt.Sprintf("%d 1\n", os.Getpid()) // this pid, another start time

	mk("warren-rabbitmq-100", gone, old)            // its test binary was killed, its node is gone
	mk("warren-rabbitmq-101", self, old)            // its maker runs (it may restart a killed node)
	running := mk("warren-rabbitmq-102", gone, old) // its node runs on after its test binary died
	mk("warren-rabbitmq-103", "", time.Now())       // just made, owner file not written yet
	mk("warren-rabbitmq-104", "", old)              // left by a harness without owner files
	mk("warren-rabbitmq-1020", gone, old)           // a name that begins with a running node's
	mk("warren-rabbitmq-105", reused, old)          // its maker's pid now belongs to another process
	mk("warren-bench-x10", "", old)                 // kept on purpose (scripts/devnode -dir)
	mk("warren-rabbitmq-keep", "", old)             // not a name os.MkdirTemp gives
	lately := mk("warren-rabbitmq-106", "", old)    // no owner file, its node wrote its log a moment ago
	os.Chtimes(filepath.Join(lately, "log", "node.log"), time.Now(), time.Now())

	// A live process naming the directory the way a node does (HOME=dir, -home dir).
	node := exec.Command("sleep", "60")
	node.Env = append(os.Environ(), "HOME="+running)
	if err := node.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { node.Process.Kill(); node.Wait() }()

	got := RemoveLeftovers(base, "")
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	sort.Strings(got)
	want := []string{"warren-rabbitmq-100", "warren-rabbitmq-1020", "warren-rabbitmq-104", "warren-rabbitmq-105"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(base)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	wantLeft := []string{"warren-bench-x10", "warren-rabbitmq-101", "warren-rabbitmq-102", "warren-rabbitmq-103", "warren-rabbitmq-106", "warren-rabbitmq-keep"}
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
}

// goneOwner is an owner file's text for a process that ran and is gone.
func goneOwner(t *testing.T) string {
	t.Helper()
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d 1\n", done.Process.Pid)
}

// Starting a node removes the leftovers in its series' temporary
// directory (inside the chroot for 4.x), and the node's own directory
// carries an owner file, so that other test binaries leave it alone.
func TestStartRemovesLeftovers(t *testing.T) {
	if err := Available(); err != nil {
		Unavailable(t, err)
	}
	inst, err := findInstall(Series())
	if err != nil {
		t.Fatal(err)
	}
	base := tempBase(inst)
	leftover, err := os.MkdirTemp(base, tempPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(leftover)
	if err := os.WriteFile(filepath.Join(leftover, ownerFile), []byte(goneOwner(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	kept, err := os.MkdirTemp(base, "warren-kept-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(kept)
	cleanedMu.Lock()
	delete(cleaned, base) // Shared may have started a node in this process already
	cleanedMu.Unlock()

	n, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover %s is still there after a node started (%v)", leftover, err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("kept directory %s: %v", kept, err)
	}
	owner, err := os.ReadFile(filepath.Join(n.Dir, ownerFile))
	if err != nil || !strings.HasPrefix(string(owner), fmt.Sprint(os.Getpid())+" ") {
		t.Errorf("owner file of %s: %q, %v", n.Dir, owner, err)
	}
	// When its test binary is gone, the directory of a node that still
	// runs stays: its node names it.
	if err := os.WriteFile(filepath.Join(n.Dir, ownerFile), []byte(goneOwner(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range RemoveLeftovers(base, inst.root) {
		if d == n.Dir {
			t.Errorf("RemoveLeftovers removed the running node's directory %s", d)
		}
	}
	if _, err := os.Stat(filepath.Join(n.Dir, "rabbitmq.conf")); err != nil {
		t.Errorf("running node's directory: %v", err)
	}
}
