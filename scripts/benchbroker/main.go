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
	"path/filepath"
	"strings"
	"time"

	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

func main() {
	users := flag.Int("users", 10000, "users (and as many permissions)")
	queues := flag.Int("queues", 10000, "queues")
	vhosts := flag.Int("vhosts", 100, "vhosts")
	warren := flag.String("warren", "bin/warren", "the warren binary")
	flag.Parse()
	if err := run(*warren, *users, *queues, *vhosts); err != nil {
		fmt.Fprintln(os.Stderr, "benchbroker:", err)
		os.Exit(1)
	}
}

type row struct {
	what string
	took time.Duration
}

func run(warren string, users, queues, vhosts int) error {
	ctx := context.Background()
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
	fmt.Fprintf(os.Stderr, "the file has %d objects (%.1f MB); starting two nodes\n", objects, float64(len(data))/1e6)
	a, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{StartTimeout: 3 * time.Minute})
	if err != nil {
		return err
	}
	defer a.Stop()
	b, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{StartTimeout: 3 * time.Minute})
	if err != nil {
		return err
	}
	defer b.Stop()

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
	type step struct {
		what string
		f    func() error
	}
	measure := func(steps []step) ([]row, error) {
		var rows []row
		for _, s := range steps {
			fmt.Fprintf(os.Stderr, "%s...\n", s.what)
			start := time.Now()
			if err := s.f(); err != nil {
				return nil, err
			}
			rows = append(rows, row{s.what, time.Since(start)})
		}
		return rows, nil
	}
	rows, err := measure([]step{
		{"A: POST /api/definitions, from scratch", func() error { return a.PostDefinitions(ctx, data) }},
		{"B: warren apply, from scratch (includes reading the broker again to verify)", warrenOn(b, "apply", "--yes", "--keep-guest", file)},
		{"B: warren diff, in sync", warrenOn(b, "diff", "--keep-guest", file)},
		{"A: POST /api/definitions, again (no changes)", func() error { return a.PostDefinitions(ctx, data) }},
		{"A: rabbitmqctl import_definitions, again (no changes)", func() error { _, err := a.Ctl(ctx, "import_definitions", file); return err }},
		{"B: warren apply, no changes", warrenOn(b, "apply", "--yes", "--keep-guest", file)},
		{"A: POST /api/definitions of the 1%-changed file", func() error { return a.PostDefinitions(ctx, []byte(mod)) }},
		{"B: warren apply, 1% of objects changed", warrenOn(b, "apply", "--yes", "--keep-guest", changed)},
	})
	if err != nil {
		return err
	}
	fmt.Printf("\nReal nodes (RabbitMQ, 2 cores), %d objects (%d users, %d permissions, %d queues, %d vhosts):\n\n", objects, users, users, queues, vhosts)
	fmt.Println("| step | seconds | ratio |")
	fmt.Println("|---|---:|---:|")
	ratio := map[int]int{1: 0, 2: 0, 5: 3, 7: 6} // compared with: apply from scratch vs first import, …
	for i, r := range rows {
		cmp := ""
		if j, ok := ratio[i]; ok {
			cmp = fmt.Sprintf("%.2fx of %q", r.took.Seconds()/rows[j].took.Seconds(), strings.SplitN(rows[j].what, ":", 2)[1])
		}
		fmt.Printf("| %s | %.2f | %s |\n", r.what, r.took.Seconds(), cmp)
	}
	return deletesConcurrency(ctx, b, warrenOn)
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
