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
	file := filepath.Join(dir, "defs.json")
	data := defgen.Broker(users, queues, vhosts)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "starting a node; the file has %d objects (%.1f MB)\n", 2*users+queues+vhosts, float64(len(data))/1e6)
	n, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{StartTimeout: 3 * time.Minute})
	if err != nil {
		return err
	}
	defer n.Stop()

	timed := func(what string, f func() error) (row, error) {
		fmt.Fprintf(os.Stderr, "%s...\n", what)
		start := time.Now()
		err := f()
		return row{what, time.Since(start)}, err
	}
	warrenCmd := func(args ...string) func() error {
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
	var rows []row
	steps := []struct {
		what string
		f    func() error
	}{
		{"POST /api/definitions, from scratch", func() error { return n.PostDefinitions(ctx, data) }},
		{"warren diff, in sync", warrenCmd("diff", file)},
		{"POST /api/definitions, again (no changes)", func() error { return n.PostDefinitions(ctx, data) }},
		{"rabbitmqctl import_definitions, again (no changes)", func() error { _, err := n.Ctl(ctx, "import_definitions", file); return err }},
	}
	for _, s := range steps {
		r, err := timed(s.what, s.f)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	fmt.Printf("\nReal node (RabbitMQ, 2 cores), %d objects:\n\n| step | seconds | vs first import |\n|---|---:|---:|\n", 2*users+queues+vhosts)
	for _, r := range rows {
		fmt.Printf("| %s | %.2f | %.2fx |\n", r.what, r.took.Seconds(), r.took.Seconds()/rows[0].took.Seconds())
	}
	return nil
}
