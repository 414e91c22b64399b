package benchproc

import (
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	Main()
	os.Exit(m.Run())
}

// TestRunMeasuresTheChild: a parent that holds 200 MB runs a command that
// holds almost nothing; os/exec's own ru_maxrss would say 200 MB.
func TestRunMeasuresTheChild(t *testing.T) {
	big := make([]byte, 200<<20)
	for i := 0; i < len(big); i += 4096 {
		big[i] = 1
	}
	r, err := Run(nil, nil, "true")
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRSS <= 0 || r.MaxRSS > 50<<20 || r.Floor > 50<<20 {
		t.Errorf("true measured at %d MB (floor %d MB) while its parent holds 200 MB", r.MaxRSS>>20, r.Floor>>20)
	}
	if big[0] != 1 {
		t.Fatal("unreachable")
	}
}

// TestRunExitCodes: the exit codes given count as success, others are
// errors with the command's standard error.
func TestRunExitCodes(t *testing.T) {
	if r, err := Run(nil, []int{2}, "sh", "-c", "exit 2"); err != nil || r.ExitCode != 2 {
		t.Errorf("exit 2 allowed: %+v, %v", r, err)
	}
	_, err := Run([]string{"MSG=broken"}, []int{2}, "sh", "-c", `echo "$MSG" >&2; exit 1`)
	if err == nil || !strings.Contains(err.Error(), "broken") || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("exit 1: %v", err)
	}
	if _, err := Run(nil, nil, "/nonexistent/command"); err == nil {
		t.Error("a command that cannot start is no error")
	}
}

// TestReportIsTheCopys: the measured command cannot reach the report's
// pipe (it would be taken for the report), nor see the variable that
// makes a copy.
func TestReportIsTheCopys(t *testing.T) {
	r, err := Run(nil, nil, "sh", "-c", `echo '{"MaxRSS":1,"ExitCode":0}' >&3 2>/dev/null; test -z "$`+childEnv+`"`)
	if err != nil || r.MaxRSS == 1 {
		t.Errorf("the command wrote the report or saw the marker: %+v, %v", r, err)
	}
}

// TestFloorCoversTheCopy: a command that holds less than the copy is
// measured at or below the copy's floor, never above it (the copy's own
// work before it starts the command counts).
func TestFloorCoversTheCopy(t *testing.T) {
	for range 20 {
		r, err := Run(nil, nil, "true")
		if err != nil {
			t.Fatal(err)
		}
		if r.MaxRSS > r.Floor {
			t.Fatalf("true: %d kB, above the copy's floor of %d kB", r.MaxRSS>>10, r.Floor>>10)
		}
	}
}

// TestRunKilled: a command a signal ends is an error that names it.
func TestRunKilled(t *testing.T) {
	_, err := Run(nil, []int{2}, "sh", "-c", "kill -KILL $$")
	if err == nil || !strings.Contains(err.Error(), "killed by signal killed") {
		t.Errorf("a killed command: %v", err)
	}
}

// TestRunInACopy: a copy that did not stop in Main refuses to start
// another.
func TestRunInACopy(t *testing.T) {
	t.Setenv(childEnv, "3")
	if _, err := Run(nil, nil, "true"); err == nil || !strings.Contains(err.Error(), "Main was not called") {
		t.Errorf("Run in a copy: %v", err)
	}
}
