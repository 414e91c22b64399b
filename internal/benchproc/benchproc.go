// Package benchproc runs a command for a benchmark and measures it as a
// whole process: wall time, CPU time and peak resident memory.
//
// A Go program cannot read a child's peak memory from its own wait: on
// Linux os/exec starts the child with clone(CLONE_VM|CLONE_VFORK), so the
// child runs in the parent's address space until it calls exec, and the
// kernel then counts the parent's high-water mark as the child's
// (ru_maxrss). A benchmark that holds a 150,000-object file measured
// itself, not warren. So Run starts a fresh copy of the calling program
// (which must call Main first thing), small, which starts the command and
// reports what the kernel says of it; the copy's own peak, a few
// megabytes, is the floor of what can be measured, and is reported.
package benchproc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// childEnv marks a copy started by Run; its value is the file descriptor
// to report on.
const childEnv = "WARREN_BENCHPROC_REPORT"

// Result is what Run measured of one process.
type Result struct {
	Seconds float64 // wall time, as the copy timed it around the command
	CPU     float64 // user and system time, seconds
	MaxRSS  int64   // peak resident memory, bytes
	// Floor is the copy's own peak, which the kernel counts from when the
	// copy started the command: a MaxRSS at or below it says only "at
	// most Floor".
	Floor    int64
	ExitCode int    // -1 when a signal ended the command
	Signal   string // the signal that ended it, if one did
}

// report is what a copy writes back.
type report struct {
	Result
	Err string
}

// Run runs name with args, with env added to this process's environment,
// its standard output discarded, and returns what it measured. Exit codes
// in ok (besides 0) count as success; any other is an error carrying the
// command's standard error.
func Run(env []string, ok []int, name string, args ...string) (Result, error) {
	if os.Getenv(childEnv) != "" {
		// A copy that did not stop in Main would run the whole program
		// again, and start another copy, and another.
		return Result{}, errors.New("benchproc: Main was not called first thing in main")
	}
	self, err := os.Executable()
	if err != nil {
		return Result{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return Result{}, err
	}
	defer r.Close()
	cmd := exec.Command(self, append([]string{"--", name}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), childEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		return Result{}, err
	}
	w.Close()
	var rep report
	derr := json.NewDecoder(r).Decode(&rep)
	if err := cmd.Wait(); err != nil {
		return Result{}, fmt.Errorf("measuring %s: %w\n%s", name, err, stderr.String())
	}
	if derr != nil {
		return Result{}, fmt.Errorf("measuring %s: no report: %w\n%s", name, derr, stderr.String())
	}
	if rep.Err != "" {
		return rep.Result, fmt.Errorf("%s: %s", name, rep.Err)
	}
	if rep.Signal != "" {
		return rep.Result, fmt.Errorf("%s %s: %s\n%s", name, strings.Join(args, " "), rep.Signal, stderr.String())
	}
	if rep.ExitCode != 0 && !containsInt(ok, rep.ExitCode) {
		return rep.Result, fmt.Errorf("%s %s: exit status %d\n%s", name, strings.Join(args, " "), rep.ExitCode, stderr.String())
	}
	return rep.Result, nil
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// Main, called first thing in main, makes a copy Run started run the
// command it was given, report on it and exit. Otherwise it returns at
// once.
func Main() {
	fd := os.Getenv(childEnv)
	if fd == "" {
		return
	}
	os.Unsetenv(childEnv)
	n, _ := strconv.Atoi(fd)
	syscall.CloseOnExec(n) // the measured command must not write the report
	out := os.NewFile(uintptr(n), "report")
	rep := measure(os.Args[2:]) // os.Args[1] is "--"
	json.NewEncoder(out).Encode(rep)
	out.Close()
	os.Exit(0)
}

func measure(argv []string) report {
	if len(argv) == 0 {
		return report{Err: "no command"}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr // the command's errors reach Run
	start := time.Now()
	err := cmd.Run()
	// Read afterwards: the peak only grows, and what counts is the peak
	// when the command was started, which Run's own work added to.
	rep := report{Result: Result{Seconds: time.Since(start).Seconds(), Floor: peakRSS()}}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		rep.ExitCode = exit.ExitCode()
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			rep.Signal = "killed by signal " + ws.Signal().String()
		}
	case err != nil:
		rep.Err = err.Error()
		return rep
	}
	rep.CPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rep.MaxRSS = ru.Maxrss * 1024
	}
	return rep
}

// peakRSS is this process's peak resident memory so far (VmHWM), 0 where
// /proc does not say.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(v)), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
