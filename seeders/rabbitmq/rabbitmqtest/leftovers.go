package rabbitmqtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A temporary node directory (Options.Dir "") is named tempPrefix plus
// os.MkdirTemp's digits, and holds ownerFile: the process that made it, as
// "pid starttime", so that a directory being prepared by another test
// binary is not taken for a leftover.
const (
	tempPrefix = "warren-rabbitmq-"
	ownerFile  = ".warren-owner"
)

// leftoverGrace is how old a temporary directory without an owner file
// must be before it counts as a leftover: one made by a harness without
// owner files, or one whose owner file is not written yet.
const leftoverGrace = 10 * time.Minute

var (
	cleanedMu sync.Mutex
	cleaned   = map[string]bool{}
)

// removeLeftoversOnce removes the leftovers of base (RemoveLeftovers) the
// first time this process starts a node there.
func removeLeftoversOnce(base, root string) {
	cleanedMu.Lock()
	defer cleanedMu.Unlock()
	if cleaned[base] {
		return
	}
	cleaned[base] = true
	RemoveLeftovers(base, root)
}

// tempBase is where an installation's temporary node directories are made,
// as this process sees it.
func tempBase(inst install) string {
	if inst.root != "" {
		return filepath.Join(inst.root, "tmp")
	}
	return os.TempDir()
}

// RemoveLeftovers removes the temporary node directories under base that
// a test binary killed mid-run (a timeout, an interrupt) left behind, and
// returns the ones it removed. root is the chroot the nodes of base run
// in ("" for the host).
//
// A node whose maker is gone (its owner file names a process that no
// longer runs) is stopped first, with SIGKILL to every process that has
// the node's environment (the shell script, the Erlang VM, its helpers, its
// epmd): its watchdog should have stopped it, and this is the fallback for
// a watchdog that was killed too, or a node of a harness without one.
//
// A directory stays when it is not a temporary one (a kept Options.Dir,
// such as make bench-scale's warren-bench-x10), when the process that made
// it is still running (it may be copying files or booting the node, or own
// a node it killed to restart), when any process of that root still names
// it in its command line or environment (a node that would not die, a node
// of a directory without an owner file, someone reading its log), or when
// it has no owner file and it or its log was written less than
// leftoverGrace ago.
func RemoveLeftovers(base, root string) []string {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var candidates []string
	for _, e := range entries {
		if e.IsDir() && isTempName(e.Name()) {
			candidates = append(candidates, e.Name())
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	// nodePath is a directory as its node sees it: nodeDir makes it
	// ROOT/tmp/NAME in a chroot.
	nodePath := func(name string) string {
		if root != "" {
			return "/tmp/" + name
		}
		return filepath.Join(base, name)
	}
	procs := processes(root)
	var orphans []string
	for _, name := range candidates {
		if ownerGone(filepath.Join(base, name)) && killNode(nodePath(name), procs) {
			orphans = append(orphans, nodePath(name))
		}
	}
	if len(orphans) > 0 {
		procs = waitNodesGone(root, orphans, 5*time.Second)
	}
	var removed []string
	for _, name := range candidates {
		dir := filepath.Join(base, name)
		if !isLeftover(dir, nodePath(name), procs) {
			continue
		}
		if os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}

// isTempName tells whether name is one os.MkdirTemp gave a temporary node
// directory: the prefix and digits only.
func isTempName(name string) bool {
	digits := strings.TrimPrefix(name, tempPrefix)
	if digits == name || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ownerGone tells whether dir has an owner file that names a process
// that no longer runs.
func ownerGone(dir string) bool {
	owner, err := os.ReadFile(filepath.Join(dir, ownerFile))
	return err == nil && !ownerAlive(strings.TrimSpace(string(owner)))
}

// isNodeProcess tells whether p has the environment the harness gives the
// node of directory nodePath (HOME is the node's directory), which every
// process of the node inherits: the rabbitmq-server script, the Erlang VM,
// erl_child_setup and its ports, the epmd the VM started.
func isNodeProcess(p process, nodePath string) bool {
	return bytes.Contains(p.data, []byte("\x00HOME="+nodePath+"\x00")) && bytes.Contains(p.data, []byte("\x00RABBITMQ_NODENAME="))
}

// killNode sends SIGKILL to the processes of the node of directory
// nodePath, and reports whether there were any.
func killNode(nodePath string, procs []process) bool {
	found := false
	for _, p := range procs {
		if isNodeProcess(p, nodePath) {
			syscall.Kill(p.pid, syscall.SIGKILL)
			found = true
		}
	}
	return found
}

// waitNodesGone waits until no process of root is one of the nodes of
// nodePaths, or timeout passes, and returns root's processes then.
func waitNodesGone(root string, nodePaths []string, timeout time.Duration) []process {
	deadline := time.Now().Add(timeout)
	for {
		procs := processes(root)
		left := false
		for _, p := range procs {
			for _, np := range nodePaths {
				left = left || isNodeProcess(p, np)
			}
		}
		if !left || time.Now().After(deadline) {
			return procs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// isLeftover decides for one directory; nodePath is the directory as its
// node sees it.
func isLeftover(dir, nodePath string, procs []process) bool {
	owner, err := os.ReadFile(filepath.Join(dir, ownerFile))
	switch {
	case err == nil:
		if ownerAlive(strings.TrimSpace(string(owner))) {
			return false
		}
	default:
		if t, ok := lastWritten(dir); !ok || time.Since(t) < leftoverGrace {
			return false
		}
	}
	for _, p := range procs {
		if mentions(p.data, nodePath) {
			return false
		}
	}
	return true
}

// lastWritten is the latest modification time of dir and of the files of
// its log directory, which a running node writes to all the time: a
// directory without an owner file whose node stopped a moment ago (killed
// to be restarted) is not yet a leftover.
func lastWritten(dir string) (time.Time, bool) {
	fi, err := os.Stat(dir)
	if err != nil {
		return time.Time{}, false
	}
	last := fi.ModTime()
	entries, _ := os.ReadDir(filepath.Join(dir, "log"))
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.ModTime().After(last) {
			last = info.ModTime()
		}
	}
	return last, true
}

// writeOwner records this process as the owner of a temporary directory.
func writeOwner(dir string) error {
	pid := os.Getpid()
	return os.WriteFile(filepath.Join(dir, ownerFile), []byte(fmt.Sprintf("%d %s\n", pid, startTime(pid))), 0o644)
}

// ownerAlive tells whether the "pid starttime" of an owner file is a
// running process: the same pid with the same start time (a pid can be
// reused). An owner file it cannot read counts as alive.
func ownerAlive(owner string) bool {
	f := strings.Fields(owner)
	if len(f) != 2 {
		return true
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		return true
	}
	st := startTime(pid)
	return st != "" && st == f[1]
}

// startTime is a process's start time in clock ticks since boot (field 22
// of /proc/PID/stat), "" when there is no such process.
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// process is a running process's command line and environment.
type process struct {
	pid  int
	data []byte
}

// processes lists the running processes whose root is root (the host's
// "/" when root is ""), with their command lines and environments. A
// process whose root cannot be read is listed: when in doubt, keep.
func processes(root string) []process {
	want := "/"
	if root != "" {
		if r, err := filepath.EvalSymlinks(root); err == nil {
			want = r
		} else {
			want = root
		}
	}
	entries, _ := os.ReadDir("/proc")
	var out []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		if r, err := os.Readlink(filepath.Join(dir, "root")); err == nil && r != want {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		environ, _ := os.ReadFile(filepath.Join(dir, "environ"))
		out = append(out, process{pid: pid, data: append(append(cmdline, 0), environ...)})
	}
	return out
}

// mentions tells whether data names path itself or something inside it,
// not a longer name that begins with it (/tmp/warren-rabbitmq-12 in
// /tmp/warren-rabbitmq-123).
func mentions(data []byte, path string) bool {
	p := []byte(path)
	for i := 0; ; {
		j := bytes.Index(data[i:], p)
		if j < 0 {
			return false
		}
		end := i + j + len(p)
		if end == len(data) {
			return true
		}
		switch c := data[end]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.':
		default:
			return true
		}
		i = end
	}
}
