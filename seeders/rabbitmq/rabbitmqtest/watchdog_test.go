package rabbitmqtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// orphanEnv, set in the environment of this test binary, makes it the
// child of TestNodeStopsWithItsProcess: it starts nodes, says which on its
// standard output, and then dies the way the value says. orphanDirEnv is
// the kept directory of a "kept" child's node.
const (
	orphanEnv    = "WARREN_RABBITMQTEST_ORPHAN"
	orphanDirEnv = "WARREN_RABBITMQTEST_ORPHAN_DIR"
)

// orphan is what the child says of one of its nodes.
type orphan struct {
	Name, Dir, NodeDir, Root string
	AMQPPort, MgmtPort       int
	EpmdPort, Group          int
	Kept                     bool // Dir is a kept Options.Dir
}

// orphanChild starts nodes and dies without stopping them. "sigkill" (one
// node), "cluster" (a two-node cluster) and "kept" (one node in a kept
// directory, as scripts/devnode -dir starts, killed and restarted) wait for the parent's
// SIGKILL; "panic" panics in a timer's goroutine, as go test's -timeout
// does.
func orphanChild(how string) {
	ctx := context.Background()
	var nodes []*Node
	var err error
	switch how {
	case "sigkill", "panic":
		var n *Node
		n, err = Start(ctx, Options{})
		nodes = append(nodes, n)
	case "kept":
		// Killed and started again first: the watchdog stops the node's
		// current process group.
		var n *Node
		if n, err = Start(ctx, Options{Dir: os.Getenv(orphanDirEnv)}); err == nil {
			if err = n.Kill(); err == nil {
				err = n.Restart(ctx, 0)
			}
		}
		nodes = append(nodes, n)
	case "cluster":
		var cl *Cluster
		if cl, err = StartCluster(ctx, 2, Options{}); err == nil {
			nodes = cl.Nodes
		}
	default:
		err = fmt.Errorf("%s=%q: want sigkill, panic, kept or cluster", orphanEnv, how)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "orphan child:", err)
		os.Exit(3)
	}
	var said []orphan
	for _, n := range nodes {
		said = append(said, orphan{
			Name: n.Name, Dir: n.Dir, NodeDir: n.nodeDir, Root: n.inst.root,
			AMQPPort: n.AMQPPort, MgmtPort: n.MgmtPort, EpmdPort: n.EpmdPort, Group: n.cmd.Process.Pid,
			Kept: !n.tempDir,
		})
	}
	json.NewEncoder(os.Stdout).Encode(said)
	if how == "panic" {
		time.AfterFunc(0, func() { panic("test timed out after 0s (the orphan child's own panic)") })
	}
	time.Sleep(10 * time.Minute) // the parent gives up long before
	os.Exit(3)
}

// A node does not outlive the process that started it, however that
// process dies: SIGKILL (none of its code runs) or a panic (go test's
// -timeout). Within a bounded time the node's Erlang VM and its epmd are
// gone (a cluster's shared epmd too), its ports no longer answer and its
// temporary directory is removed; a kept directory stays, with the node's
// data. The other node of this test binary (the shared one) runs on.
func TestNodeStopsWithItsProcess(t *testing.T) {
	shared := Shared(t)
	for _, how := range []string{"sigkill", "panic", "kept", "cluster"} {
		t.Run(how, func(t *testing.T) {
			child, nodes := startOrphans(t, how)
			if how != "panic" {
				if err := child.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
			err := child.Wait()
			died := time.Now()
			t.Logf("the child that started %d node(s) ended: %v", len(nodes), err)
			const bound = 60 * time.Second
			for _, o := range nodes {
				var left string
				for time.Since(died) < bound {
					if left = o.left(); left == "" {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				if left != "" {
					t.Errorf("%s after the process that started node %s died: %s", bound, o.Name, left)
					continue
				}
				t.Logf("node %s was gone %s after its process died", o.Name, time.Since(died).Round(100*time.Millisecond))
				if o.Kept {
					if entries, err := os.ReadDir(filepath.Join(o.Dir, "mnesia")); err != nil || len(entries) == 0 {
						t.Errorf("the kept directory %s lost the node's data: %d entries in mnesia, %v", o.Dir, len(entries), err)
					}
				}
			}
		})
	}
	if err := shared.Do(context.Background(), "GET", "/api/overview", nil, nil); err != nil {
		t.Errorf("the shared node %s: %v", shared.Name, err)
	}
}

// startOrphans starts this test binary as an orphan child and reads what
// it says of its nodes. Whatever the test finds, the nodes are gone when
// the test ends.
func startOrphans(t *testing.T, how string) (*exec.Cmd, []orphan) {
	t.Helper()
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), orphanEnv+"="+how)
	if how == "kept" {
		inst, err := findInstall(Series())
		if err != nil {
			t.Fatal(err)
		}
		kept, err := os.MkdirTemp(tempBase(inst), "warren-kept-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(kept) })
		child.Env = append(child.Env, orphanDirEnv+"="+kept)
	}
	child.Stderr = stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	said := make(chan []orphan, 1)
	go func() {
		var nodes []orphan
		if json.NewDecoder(bufio.NewReader(out)).Decode(&nodes) == nil {
			said <- nodes
		}
		close(said)
	}()
	var nodes []orphan
	select {
	case got, ok := <-said:
		if !ok {
			child.Wait()
			text, _ := os.ReadFile(stderr.Name())
			t.Fatalf("the orphan child said nothing of its nodes:\n%s", text)
		}
		nodes = got
	case <-time.After(3 * time.Minute):
		t.Fatal("the orphan child did not start its nodes within 3 minutes")
	}
	t.Cleanup(func() {
		for _, o := range nodes {
			o.remove(t)
		}
	})
	return child, nodes
}

// left describes what is left of the orphan's node: "" when nothing.
func (o orphan) left() string {
	var left []string
	// A zombie has no command line or environment: it mentions nothing.
	for _, p := range processes(o.Root) {
		if mentions(p.data, o.NodeDir) {
			left = append(left, fmt.Sprintf("process %d (%.60s) runs", p.pid, strings.ReplaceAll(string(p.data), "\x00", " ")))
		}
	}
	if syscall.Kill(-o.Group, 0) == nil {
		left = append(left, fmt.Sprintf("process group %d is there", o.Group))
	}
	for what, port := range map[string]int{"AMQP": o.AMQPPort, "management": o.MgmtPort, "epmd": o.EpmdPort} {
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond); err == nil {
			c.Close()
			left = append(left, fmt.Sprintf("its %s port %d answers", what, port))
		}
	}
	if _, err := os.Stat(o.Dir); err == nil && !o.Kept {
		left = append(left, "its temporary directory "+o.Dir+" is there")
	}
	return strings.Join(left, "; ")
}

// remove kills what is left of the orphan's node, as a person would by
// hand, so that a failing test leaves nothing running. It kills again
// until nothing is left: a node's helper processes (erl_child_setup and
// its ports run in sessions of their own) may still start one, such as an
// epmd, as they go.
func (o orphan) remove(t *testing.T) {
	for range 50 {
		if o.left() == "" {
			return
		}
		syscall.Kill(-o.Group, syscall.SIGKILL)
		for _, p := range processes(o.Root) {
			if mentions(p.data, o.NodeDir) { // its epmd too: it has the node's HOME
				syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
		if !o.Kept {
			os.RemoveAll(o.Dir)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("after killing what was left of node %s: %s", o.Name, o.left())
}
