// Command benchfleet measures a fleet run: the same files
// diffed against N real nodes at once (warren diff --inventory) against
// one node's diff (warren diff --url, each node in turn), as whole
// processes: wall time, CPU time and peak memory (the process's max RSS),
// medians over -rounds rounds; and the fleet one broker at a time.
// Goals: the fleet in at most 1.5× one diff's time, and in at most N× its
// memory.
//
//	benchfleet [-nodes 4] [-rounds 3] [-scale 4] [-out F.json]
//
// The nodes run WARREN_RABBITMQ's series (3.10 unless set). make bench
// runs it after the speed table.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/warren-tool/warren/internal/benchproc"
	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

var (
	warren = flag.String("warren", "bin/warren", "the warren binary")
	nodes  = flag.Int("nodes", 4, "brokers in the fleet")
	rounds = flag.Int("rounds", 3, "pairs of one diff and a fleet diff, back to back")
	scale  = flag.Int("scale", 4, "the file is make bench's 41,200-object broker divided by this")
	out    = flag.String("out", "", "also write the results here (JSON)")
)

// Results are one run's measurements.
type Results struct {
	Version    string  `json:"version"`
	Nodes      int     `json:"nodes"`
	Objects    int     `json:"objects"`
	OneSeconds float64 `json:"one_seconds"`
	OneRSS     int64   `json:"one_rss_bytes"`
	OneCPU     float64 `json:"one_cpu_seconds"`
	FleetSecs  float64 `json:"fleet_seconds"`
	FleetRSS   int64   `json:"fleet_rss_bytes"`
	FleetCPU   float64 `json:"fleet_cpu_seconds"`
	// SerialSecs is the same fleet one broker at a time (--concurrency 1).
	SerialSecs  float64 `json:"serial_seconds"`
	TimeRatio   float64 `json:"time_ratio"`
	MemoryRatio float64 `json:"memory_ratio"`
}

func main() {
	benchproc.Main() // a copy that measures one command exits here
	flag.Parse()
	r, err := measure()
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchfleet: %v\n", err)
		os.Exit(1)
	}
	report(r)
	if *out != "" {
		data, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "benchfleet: %v\n", err)
			os.Exit(1)
		}
	}
}

func measure() (*Results, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "warren-benchfleet-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, k := defgen.BenchShape, max(1, *scale)
	shape := defgen.Shape{Vhosts: s.Vhosts / k, Users: s.Users / k, Queues: s.Queues / k, Exchanges: s.Exchanges / k, Bindings: s.Bindings / k, Policies: s.Policies / k}
	data := shape.Broker()
	if err := os.WriteFile(filepath.Join(dir, "defs.json"), data, 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "fleet: starting %d RabbitMQ %s nodes; the file has %d objects\n", *nodes, rabbitmqtest.Series(), shape.Objects())
	ns := make([]*rabbitmqtest.Node, *nodes)
	errs := make([]error, *nodes)
	var wg sync.WaitGroup
	for i := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ns[i], errs[i] = rabbitmqtest.Start(ctx, rabbitmqtest.Options{StartTimeout: 3 * time.Minute}); errs[i] == nil {
				errs[i] = ns[i].PostDefinitions(ctx, data) // the broker's own import: diff finds it in sync
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, n := range ns {
			if n != nil {
				n.Stop()
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var inv strings.Builder
	inv.WriteString("brokers:\n")
	env := []string{"WARREN_TIMEOUT=10m"}
	for i, n := range ns {
		fmt.Fprintf(&inv, "  - {name: node%d, urls: [%q], username: %q, password: {env: FLEET_PW_%d}, files: [defs.json]}\n", i, n.URL, n.Admin, i)
		env = append(env, fmt.Sprintf("FLEET_PW_%d=%s", i, n.AdminPassword))
	}
	if err := os.WriteFile(filepath.Join(dir, "inventory.yaml"), []byte(inv.String()), 0o644); err != nil {
		return nil, err
	}
	fleet := []string{"diff", "--inventory", filepath.Join(dir, "inventory.yaml"), "--concurrency", fmt.Sprint(*nodes)}
	var oneT, fleetT, oneCPU, fleetCPU, serialT []float64
	var oneRSS, fleetRSS []int64
	for r := range *rounds {
		fmt.Fprintf(os.Stderr, "fleet: round %d of %d\n", r+1, *rounds)
		// One node's diff, of each node in turn (a node's management
		// plugin caches a listing for a while: always the same node would
		// flatter it).
		for _, n := range ns {
			one := []string{"diff", "--url", n.URL, "--username", n.Admin, filepath.Join(dir, "defs.json")}
			t, cpu, rss, err := process(append(slices.Clone(env), "WARREN_PASSWORD="+n.AdminPassword), one...)
			if err != nil {
				return nil, fmt.Errorf("one diff: %w", err)
			}
			oneT, oneCPU, oneRSS = append(oneT, t), append(oneCPU, cpu), append(oneRSS, rss)
		}
		t, cpu, rss, err := process(env, fleet...)
		if err != nil {
			return nil, fmt.Errorf("fleet diff: %w", err)
		}
		fleetT, fleetCPU, fleetRSS = append(fleetT, t), append(fleetCPU, cpu), append(fleetRSS, rss)
		serial := append(slices.Clone(fleet[:len(fleet)-1]), "1")
		if t, _, _, err = process(env, serial...); err != nil {
			return nil, fmt.Errorf("fleet diff, one at a time: %w", err)
		}
		serialT = append(serialT, t)
	}
	res := &Results{Version: ns[0].Version, Nodes: *nodes, Objects: shape.Objects(),
		OneSeconds: median(oneT), OneRSS: medianInt(oneRSS), OneCPU: median(oneCPU),
		FleetSecs: median(fleetT), FleetRSS: medianInt(fleetRSS), FleetCPU: median(fleetCPU), SerialSecs: median(serialT)}
	res.TimeRatio = res.FleetSecs / res.OneSeconds
	res.MemoryRatio = float64(res.FleetRSS) / float64(res.OneRSS)
	return res, nil
}

// process runs warren and returns its wall time, its CPU time (user and
// system) and its peak memory, measured by a fresh copy of benchfleet
// (benchproc: os/exec would count this process's memory as warren's); exit
// 0 (in sync) or 2 (drift: guest, which the file does not define) is
// expected.
func process(env []string, args ...string) (secs, cpu float64, rss int64, err error) {
	r, err := benchproc.Run(env, []int{2}, *warren, args...)
	if err != nil {
		return 0, 0, 0, err
	}
	return r.Seconds, r.CPU, r.MaxRSS, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianInt(xs []int64) int64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func report(r *Results) {
	fmt.Printf("\nFleet: %d objects, diffed on RabbitMQ %s; median of %d rounds\n", r.Objects, r.Version, *rounds)
	fmt.Printf("  %-34s %9s %12s %14s\n", "", "time", "peak memory", "warren's CPU")
	fmt.Printf("  %-34s %8.2fs %9.0f MB %13.2fs\n", "one node's diff (--url)", r.OneSeconds, float64(r.OneRSS)/1e6, r.OneCPU)
	fmt.Printf("  %-34s %8.2fs %9.0f MB %13.2fs\n", fmt.Sprintf("%d nodes at once (--inventory)", r.Nodes), r.FleetSecs, float64(r.FleetRSS)/1e6, r.FleetCPU)
	fmt.Printf("  %-34s %8.2fs\n", fmt.Sprintf("%d nodes one at a time", r.Nodes), r.SerialSecs)
	fmt.Printf("  %-34s %8.2f× %11.2f×\n", "fleet / one", r.TimeRatio, r.MemoryRatio)
	fmt.Printf("  %-34s %9s %12s\n", "goal", "≤ 1.50×", fmt.Sprintf("≤ %d×", r.Nodes))
	fmt.Printf("  (the nodes run on the same %d cores as warren: a fleet diff's time is bounded by the brokers' own work)\n", runtime.NumCPU())
}
