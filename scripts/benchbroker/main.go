// Command benchbroker measures warren against a real RabbitMQ node loaded
// with about 30,000 objects (10,000 users, 10,000 permissions, 10,000
// queues in 100 vhosts), side by side with the broker's own import, and
// prints a Markdown table. make bench runs it: go run ./scripts/benchbroker.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

func main() {
	users := flag.Int("users", 10000, "users (and as many permissions)")
	queues := flag.Int("queues", 10000, "queues")
	vhosts := flag.Int("vhosts", 100, "vhosts")
	warren := flag.String("warren", "bin/warren", "the warren binary")
	flag.IntVar(&rounds, "rounds", 3, "rounds of import-from-scratch against apply-from-scratch (medians are reported)")
	flag.Parse()
	if err := run(*warren, *users, *queues, *vhosts); err != nil {
		fmt.Fprintln(os.Stderr, "benchbroker:", err)
		os.Exit(1)
	}
}

var rounds int

func run(warren string, users, queues, vhosts int) error {
	// Ctrl-C must still stop the node (the deferred Stop below).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "warren-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	data := defgen.Broker(users, queues, vhosts)
	file := filepath.Join(dir, "defs.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	// The same file with 1% of its objects changed: permissions' patterns.
	changed := filepath.Join(dir, "changed.json")
	onePercent := (2*users + queues + vhosts) / 100
	mod := string(data)
	for i := range onePercent {
		mod = strings.Replace(mod, fmt.Sprintf(`"configure":"^user-%d\\."`, i), fmt.Sprintf(`"configure":"^changed-%d\\."`, i), 1)
	}
	if err := os.WriteFile(changed, []byte(mod), 0o644); err != nil {
		return err
	}
	objects := 2*users + queues + vhosts
	fmt.Fprintf(os.Stderr, "the file has %d objects (%.1f MB); starting a node\n", objects, float64(len(data))/1e6)
	n, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{StartTimeout: 3 * time.Minute})
	if err != nil {
		return err
	}
	defer n.Stop()

	warrenOn := func(n *rabbitmqtest.Node, args ...string) func() error {
		return func() error {
			cmd := exec.Command(warren, args...)
			cmd.Env = append(os.Environ(), "WARREN_URL="+n.URL, "WARREN_USERNAME="+n.Admin, "WARREN_PASSWORD="+n.AdminPassword)
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 0 && code != 2 {
				return fmt.Errorf("warren %v: %v\n%s", args, err, out)
			}
			return nil
		}
	}
	// A reset deletes 10,000 queues, which the broker finishes in the
	// background; let it settle before the next measurement.
	reset := func() error {
		if err := n.Reset(ctx); err != nil {
			return err
		}
		time.Sleep(15 * time.Second)
		return nil
	}
	post := func(body []byte) func() error { return func() error { return n.PostDefinitions(ctx, body) } }
	type step struct {
		what   string
		f      func() error
		timed  bool
		versus int // index of the timed step it is compared with, or -1
	}
	// One node for everything, so that no two nodes' speeds are compared,
	// and both imports from scratch come after a reset.
	steps := []step{
		{"warm-up import", post(data), false, -1},
		{"reset", reset, false, -1},
		{"warren apply, from scratch (reads, imports, reads again to verify)", warrenOn(n, "apply", "--yes", "--keep-guest", file), true, 4},
		{"reset", reset, false, -1},
		{"POST /api/definitions, from scratch", post(data), true, -1},
		{"warren diff, in sync", warrenOn(n, "diff", "--keep-guest", file), true, 4},
		{"POST /api/definitions, again (no changes)", post(data), true, -1},
		{"rabbitmqctl import_definitions, again (no changes)", func() error { _, err := n.Ctl(ctx, "import_definitions", file); return err }, true, -1},
		{"warren apply, no changes", warrenOn(n, "apply", "--yes", "--keep-guest", file), true, 6},
		{"POST /api/definitions of the file with 1% changed", post([]byte(mod)), true, -1},
		{"restore", post(data), false, -1},
		{"warren apply, 1% of objects changed", warrenOn(n, "apply", "--yes", "--keep-guest", changed), true, 9},
	}
	took := make([]time.Duration, len(steps))
	for i, s := range steps {
		fmt.Fprintf(os.Stderr, "%s...\n", s.what)
		start := time.Now()
		if err := s.f(); err != nil {
			return err
		}
		took[i] = time.Since(start)
	}
	fmt.Printf("\nOne real node (RabbitMQ, 2 cores), %d objects (%d users, %d permissions, %d queues, %d vhosts):\n\n", objects, users, users, queues, vhosts)
	fmt.Println("| step | seconds | compared with | ratio |")
	fmt.Println("|---|---:|---|---:|")
	for i, s := range steps {
		if !s.timed {
			continue
		}
		versus, ratio := "", ""
		if s.versus >= 0 {
			versus = steps[s.versus].what
			ratio = fmt.Sprintf("%.2fx", took[i].Seconds()/took[s.versus].Seconds())
		}
		fmt.Printf("| %s | %.2f | %s | %s |\n", s.what, took[i].Seconds(), versus, ratio)
	}
	if err := fromScratch(n, reset, post(data), warrenOn(n, "apply", "--yes", "--keep-guest", file)); err != nil {
		return err
	}
	return deletesConcurrency(ctx, n, warrenOn)
}

// deletesConcurrency times the pruning of 1,000 users one request at a
// time and four at a time.
func deletesConcurrency(ctx context.Context, n *rabbitmqtest.Node, warrenOn func(*rabbitmqtest.Node, ...string) func() error) error {
	const count = 1000
	fmt.Printf("\nDeleting %d users (warren apply --prune), by requests at once:\n\n| requests at once | seconds |\n|---:|---:|\n", count)
	for _, workers := range []int{1, 4, 8} {
		users := defgen.Broker(count, 0, 1)
		if err := n.PostDefinitions(ctx, users); err != nil {
			return err
		}
		dir, _ := os.MkdirTemp("", "warren-bench-")
		defer os.RemoveAll(dir)
		keep := filepath.Join(dir, "keep.json")
		os.WriteFile(keep, []byte(`{"users": [{"name": "`+n.Admin+`", "tags": ["administrator"]}]}`), 0o644)
		os.Setenv("WARREN_APPLY_WORKERS", fmt.Sprint(workers))
		start := time.Now()
		if err := warrenOn(n, "apply", "--yes", "--keep-guest", "--prune", keep)(); err != nil {
			return err
		}
		fmt.Printf("| %d | %.2f |\n", workers, time.Since(start).Seconds())
	}
	os.Unsetenv("WARREN_APPLY_WORKERS")
	return nil
}

// fromScratch times the broker's import and warren apply from a blank
// node, in rounds that alternate which goes first, and reports medians:
// one import's time varies by several seconds from run to run.
func fromScratch(n *rabbitmqtest.Node, reset, post, apply func() error) error {
	var imports, applies []float64
	timed := func(f func() error) (float64, error) {
		if err := reset(); err != nil {
			return 0, err
		}
		start := time.Now()
		err := f()
		return time.Since(start).Seconds(), err
	}
	fmt.Printf("\nFrom scratch, %d rounds on the same node (each after a reset):\n\n| round | POST /api/definitions s | warren apply s | ratio |\n|---:|---:|---:|---:|\n", rounds)
	for r := range rounds {
		fmt.Fprintf(os.Stderr, "from scratch, round %d...\n", r+1)
		var imp, app float64
		var err error
		if r%2 == 0 {
			if app, err = timed(apply); err == nil {
				imp, err = timed(post)
			}
		} else {
			if imp, err = timed(post); err == nil {
				app, err = timed(apply)
			}
		}
		if err != nil {
			return err
		}
		imports, applies = append(imports, imp), append(applies, app)
		fmt.Printf("| %d | %.2f | %.2f | %.2fx |\n", r+1, imp, app, app/imp)
	}
	mi, ma := median(imports), median(applies)
	fmt.Printf("| median | %.2f | %.2f | %.2fx |\n", mi, ma, ma/mi)
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
