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
