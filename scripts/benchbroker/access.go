package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/warren-tool/warren/internal/defgen"
)

// measureAccess times warren access against warren validate of the same
// file, the 41,200 objects of the broker rows (defgen.BenchShape, no
// broker): --user and --resource of one user and one queue, and --audit,
// with each command's peak memory.
func measureAccess() (*Results, error) {
	dir, err := os.MkdirTemp("", "warren-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "defs.json")
	data := defgen.BenchShape.Broker()
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "access: %.1f MB, %d runs\n", float64(len(data))/1e6, *repeats)
	commands := []struct {
		name string
		args []string
	}{
		{"access.validate", []string{"validate", file}},
		{"access.user", []string{"access", "--user", "user-5", file}},
		{"access.resource", []string{"access", "--resource", "queue:vhost-5/queue-5", file}},
		{"access.audit", []string{"access", "--audit", file}},
	}
	times := map[string][]float64{}
	values := map[string]float64{}
	for i := range *repeats {
		for _, c := range commands {
			var env []string
			if i == 0 {
				env = profileEnv(c.name)
			}
			t, rss, err := process(env, *warren, c.args...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			times[c.name] = append(times[c.name], t)
			values[c.name+".rss"] = max(values[c.name+".rss"], float64(rss))
		}
	}
	for name, ts := range times {
		values[name] = median(ts)
	}
	return &Results{Values: values}, nil
}
