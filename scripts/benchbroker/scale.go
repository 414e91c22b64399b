package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// measureScale measures warren diff against a broker holding scale times
// the 41,200 objects of the broker rows, against one GET /api/definitions,
// with diff's peak memory. Loading so many objects takes the broker long
// (the import of 412,000 objects: tens of minutes on two cores), so the
// node keeps its data in a directory of its own, by the cache of the
// RabbitMQ chroots (or in .tmp/bench-scale for the host's RabbitMQ), and a later
// run starts it again with its data and loads nothing when it already
// holds the objects.
func measureScale(scale int) (*Results, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	b := defgen.BenchShape
	shape := defgen.Shape{Vhosts: b.Vhosts * scale, Users: b.Users * scale, Queues: b.Queues * scale,
		Exchanges: b.Exchanges * scale, Bindings: b.Bindings * scale, Policies: b.Policies * scale}
	data := shape.Broker()
	tmp, err := os.MkdirTemp("", "warren-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "defs.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return nil, err
	}
	series := rabbitmqtest.Series()
	dir, err := filepath.Abs(filepath.Join(".tmp", "bench-scale", fmt.Sprintf("node-%s-x%d", series, scale)))
	if err != nil {
		return nil, err
	}
	if series != "3.10" {
		dir = filepath.Join(rabbitmqtest.ChrootDir(series), "tmp", fmt.Sprintf("warren-bench-x%d", scale))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "RabbitMQ %s, %d objects (%.0f MB): starting a node on %s\n", series, shape.Objects(), float64(len(data))/1e6, dir)
	// The file is larger than the 20 MB a management request's body may
	// be by default (management.http.max_body_size), and its import
	// outlasts the listener's idle timeout, which closes the connection
	// (and the test harness then stops the node, import and all).
	n, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{Name: fmt.Sprintf("warren-bench-x%d", scale), Dir: dir, StartTimeout: 10 * time.Minute,
		Config: []string{fmt.Sprintf("management.http.max_body_size = %d", 2*len(data)),
			"management.tcp.idle_timeout = 7200000", "management.tcp.inactivity_timeout = 7200000", "management.tcp.request_timeout = 7200000"}})
	if err != nil {
		return nil, err
	}
	defer n.Stop()
	res := &Results{Version: n.Version, Values: map[string]float64{"scale": float64(scale)}}
	env := []string{"WARREN_TIMEOUT=30m", "WARREN_IMPORT_TIMEOUT=2h", "WARREN_URL=" + n.URL, "WARREN_USERNAME=" + n.Admin, "WARREN_PASSWORD=" + n.AdminPassword}
	get := func() (float64, int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", n.URL+"/api/definitions", nil)
		req.SetBasicAuth(n.Admin, n.AdminPassword)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		size, err := io.Copy(io.Discard, resp.Body)
		return time.Since(start).Seconds(), int(size), err
	}
	// Loaded already: a node kept from an earlier run.
	var overview struct {
		ObjectTotals struct{ Queues int } `json:"object_totals"`
	}
	if err := n.Do(ctx, "GET", "/api/overview", nil, &overview); err != nil {
		return nil, err
	}
	if overview.ObjectTotals.Queues < shape.Queues {
		fmt.Fprintf(os.Stderr, "RabbitMQ %s: loading %d objects (the broker's import; it is kept for the next run)...\n", n.Version, shape.Objects())
		start := time.Now()
		if err := n.PostDefinitions(ctx, data); err != nil {
			return nil, err
		}
		res.Values["load"] = time.Since(start).Seconds()
		fmt.Fprintf(os.Stderr, "  loaded in %s\n", time.Since(start).Round(time.Second))
	}
	var gets, diffs, rsss []float64
	size := 0
	for r := range *repeats {
		fmt.Fprintf(os.Stderr, "RabbitMQ %s, %s: diff of %d objects and GET /api/definitions, run %d of %d\n", n.Version, time.Since(began).Round(time.Second), shape.Objects(), r+1, *repeats)
		g, sz, err := get()
		if err != nil {
			return nil, err
		}
		gets, size = append(gets, g), sz
		name := ""
		if r == 0 {
			name = fmt.Sprintf("diff-x%d", scale)
		}
		t, rss, err := process(append(slices.Clone(env), profileEnv(name)...), *warren, "diff", "--keep-guest", file)
		if err != nil {
			return nil, err
		}
		diffs, rsss = append(diffs, t), append(rsss, float64(rss))
	}
	res.Values["scale.get"], res.Values["scale.get.bytes"] = median(gets), float64(size)
	res.Values["scale.diff"], res.Values["scale.diff.rss"] = median(diffs), slices.Max(rsss)
	res.Values["scale.elapsed"] = time.Since(began).Seconds()
	return res, nil
}
