package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestProfiles: WARREN_CPUPROFILE and WARREN_MEMPROFILE give pprof files
// (gzip), which make bench -profile reads with go tool pprof.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	t.Setenv("WARREN_CPUPROFILE", cpu)
	t.Setenv("WARREN_MEMPROFILE", mem)
	stop := startProfiles()
	var out, errw bytes.Buffer
	if code := run([]string{"warren", "schema"}, nil, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	stop()
	for _, p := range []string{cpu, mem} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
			t.Errorf("%s is not a gzip'd pprof profile (%d bytes)", filepath.Base(p), len(data))
		}
	}
}
