package rabbitmqtest

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// A watchdog stops a node when the process that started it dies, however
// it dies: a test binary's -timeout panic, SIGKILL, a CI job cancelled,
// Ctrl-C of go test. It is a small shell that reads its standard input, a
// pipe whose only writer is this process. The kernel closes that pipe when
// this process ends, for any reason and without any of its code running,
// and the shell, reading end of file, stops the node: SIGTERM to the
// rabbitmq-server script (which stops the Erlang VM the way it does for
// Docker), SIGKILL to the node's process group if it is still there 30
// seconds later. It then stops the node's epmd (epmd -kill, which an epmd
// refuses while other nodes are registered with it: a cluster's shared
// epmd goes with its last node; a node that is just gone may still be
// registered for a moment, so a refusal is tried again for a few seconds)
// and removes a temporary directory (never a kept Options.Dir).
//
// PR_SET_PDEATHSIG on the launched process was not enough: it fires when
// the thread that forked the process ends, not the process, and it reaches
// only the rabbitmq-server script, which forks the Erlang VM (a fork clears
// the setting).
//
// Messages, one a line: "node PGID" when a node process group starts (a
// Restart starts another), "exited" when it has ended, "done" when Stop
// has stopped the node and the watchdog can go without doing anything.
//
// The watchdog runs in a process group of its own, so that the signals of
// a terminal (Ctrl-C, a hang-up) that end the test binary do not end it,
// and writes nowhere (a pipe to this process would break when this process
// dies, and a write to it would end the watchdog halfway).
const watchdogScript = `trap '' HUP INT
pg=
while read -r word arg; do
	case $word in
	node) pg=$arg ;;
	exited) pg= ;;
	done) exit 0 ;;
	esac
done
dir=$1
shift
if [ -n "$pg" ] && kill -s 0 -- "-$pg" 2>/dev/null; then
	kill -s TERM "$pg"
	i=0
	while [ $i -lt 300 ] && kill -s 0 -- "-$pg" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -s KILL -- "-$pg" 2>/dev/null
fi
i=0
while [ $# -gt 0 ] && [ $i -lt 5 ]; do
	case $("$@" 2>&1) in
	*"not allowed"*) sleep 1 ;;
	*) break ;;
	esac
	i=$((i + 1))
done
if [ -n "$dir" ]; then
	rm -rf -- "$dir"
fi
`

// watchdog is the Go end of a node's watchdog.
type watchdog struct {
	mu  sync.Mutex
	w   *os.File // nil once dismissed
	cmd *exec.Cmd
}

// watchdogs keeps every watchdog's pipe reachable until Stop dismisses it:
// the finalizer of an unreachable *os.File closes it, which the watchdog
// would take for this process's death.
var (
	watchdogsMu sync.Mutex
	watchdogs   = map[*watchdog]bool{}
)

// startWatchdog starts the watchdog of a node. dir is removed after the
// node stops ("" removes nothing: a kept directory); stopEpmd is the
// command that stops the node's epmd (nil for none).
func startWatchdog(dir string, stopEpmd *exec.Cmd) (*watchdog, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := []string{"-c", watchdogScript, "warren-watchdog", dir}
	if stopEpmd != nil {
		args = append(args, stopEpmd.Path)
		args = append(args, stopEpmd.Args[1:]...)
	}
	cmd := exec.Command("/bin/sh", args...)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("starting the watchdog of a node: %w", err)
	}
	go cmd.Wait()
	wd := &watchdog{w: w, cmd: cmd}
	watchdogsMu.Lock()
	watchdogs[wd] = true
	watchdogsMu.Unlock()
	return wd, nil
}

// tell sends the watchdog one message.
func (wd *watchdog) tell(format string, args ...any) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.w != nil {
		fmt.Fprintf(wd.w, format+"\n", args...)
	}
}

// dismiss lets the watchdog go without its doing anything: the node was
// stopped.
func (wd *watchdog) dismiss() {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if wd.w == nil {
		return
	}
	fmt.Fprintln(wd.w, "done")
	wd.w.Close()
	wd.w = nil
	watchdogsMu.Lock()
	delete(watchdogs, wd)
	watchdogsMu.Unlock()
}
