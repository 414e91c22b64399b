package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile of the whole process to
// $WARREN_CPUPROFILE and a heap profile (allocations included) at exit to
// $WARREN_MEMPROFILE, for `go tool pprof` (make bench -profile). The
// returned function ends them; it does nothing when neither is set.
func startProfiles() (stop func()) {
	cpu, mem := os.Getenv("WARREN_CPUPROFILE"), os.Getenv("WARREN_MEMPROFILE")
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "warren: WARREN_CPUPROFILE:", err)
		} else {
			cpuFile = f
		}
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err == nil {
				runtime.GC()
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "warren: WARREN_MEMPROFILE:", err)
			}
		}
	}
}
