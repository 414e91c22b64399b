package rabbitmqtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// RemoveLeftovers removes the temporary node directories of killed test
// binaries and nothing else: not one whose maker still runs, not one a
// running process still names, not one just made whose owner file is not
// written yet, not a kept directory of another name. It stops the node of
// a directory whose maker is gone, and no other node.
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
	named := mk("warren-rabbitmq-102", gone, old)   // its maker is gone; a process that is not its node names it
	mk("warren-rabbitmq-103", "", time.Now())       // just made, owner file not written yet
	mk("warren-rabbitmq-104", "", old)              // left by a harness without owner files
	mk("warren-rabbitmq-1020", gone, old)           // a name that begins with a running node's
	mk("warren-rabbitmq-105", reused, old)          // its maker's pid now belongs to another process
	mk("warren-bench-x10", "", old)                 // kept on purpose (scripts/devnode -dir)
	mk("warren-rabbitmq-keep", "", old)             // not a name os.MkdirTemp gives
	orphan := mk("warren-rabbitmq-107", gone, old)  // its maker is gone and its node runs on
	owned := mk("warren-rabbitmq-108", self, old)   // its maker and its node run
	ownerless := mk("warren-rabbitmq-109", "", old) // its node runs, and who made it is not known
	lately := mk("warren-rabbitmq-106", "", old)    // no owner file, its node wrote its log a moment ago
	os.Chtimes(filepath.Join(lately, "log", "node.log"), time.Now(), time.Now())

	// A live process naming the directory (someone reading its log), and
	// stand-ins for nodes: processes with the environment the harness
	// gives a node.
	reader := standIn(t, "", named)
	nodes := map[string]*exec.Cmd{}
	for _, dir := range []string{orphan, owned, ownerless} {
		nodes[filepath.Base(dir)] = standIn(t, dir, "")
	}

	got := RemoveLeftovers(base, "")
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	sort.Strings(got)
	want := []string{"warren-rabbitmq-100", "warren-rabbitmq-1020", "warren-rabbitmq-104", "warren-rabbitmq-105", "warren-rabbitmq-107"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(base)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	wantLeft := []string{"warren-bench-x10", "warren-rabbitmq-101", "warren-rabbitmq-102", "warren-rabbitmq-103", "warren-rabbitmq-106", "warren-rabbitmq-108", "warren-rabbitmq-109", "warren-rabbitmq-keep"}
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
	if stopped(reader) {
		t.Error("the process naming warren-rabbitmq-102, not its node, was stopped")
	}
	for name, node := range nodes {
		if got, want := stopped(node), name == "warren-rabbitmq-107"; got != want {
			t.Errorf("the node of %s: stopped %v, want %v", name, got, want)
		}
	}
}

// standIn starts a stand-in process that lives a minute: a node's process of
// nodeDir (its environment has HOME=nodeDir and RABBITMQ_NODENAME) when
// nodeDir is not "", else one that only names mentioned.
func standIn(t *testing.T, nodeDir, mentioned string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if nodeDir != "" {
		cmd.Env = []string{"HOME=" + nodeDir, "RABBITMQ_NODENAME=stand-in@localhost"}
	} else {
		cmd.Env = append(os.Environ(), "HOME="+mentioned)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// stopped tells whether a process started by this one has ended (it is a
// zombie until it is waited for).
func stopped(cmd *exec.Cmd) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] == 'Z'
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
// carries an owner file, so that other test binaries leave it alone while
// its maker runs. A node whose maker is gone is stopped by the sweep.
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
	// When its maker is gone (its watchdog too), the next sweep stops the
	// node and removes its directory.
	if err := os.WriteFile(filepath.Join(n.Dir, ownerFile), []byte(goneOwner(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	removed := RemoveLeftovers(base, inst.root)
	if !slices.Contains(removed, n.Dir) {
		t.Errorf("RemoveLeftovers removed %v, not the directory %s of a node whose maker is gone", removed, n.Dir)
	}
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("node %s still runs 30s after RemoveLeftovers found its maker gone", n.Name)
	}
	for what, port := range map[string]int{"AMQP": n.AMQPPort, "management": n.MgmtPort, "epmd": n.EpmdPort} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Errorf("the %s port %d of node %s answers after RemoveLeftovers stopped it", what, port, n.Name)
		}
	}
}
