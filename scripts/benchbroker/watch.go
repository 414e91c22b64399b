package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// watchChecks is how many checks the watch row's memory is measured over.
var watchChecks = 1000

// measureWatch runs warren watch against the loaded node n (in sync with
// file) and records:
//   - watch.check: the mean time of a check of an unchanged broker, from
//     the watch's own histogram (conditional requests where the broker tags
//     its definitions, full diffs elsewhere);
//   - watch.cpu and get.cpu: the broker's CPU time per such check and per
//     GET /api/definitions (utime+stime of its beam.smp, over many);
//   - watch.rss.first and watch.rss.last: the watch's resident memory after
//     a tenth of watchChecks checks and after all of them (conditional
//     brokers only: a thousand full diffs of 41,200 objects take too long).
func measureWatch(ctx context.Context, n *rabbitmqtest.Node, env []string, file string, get func() (float64, int, error), res *Results) error {
	tags := definitions.CompareVersions(n.Version, definitions.DefinitionsTagSince) >= 0
	interval := "20ms"
	checks := watchChecks
	if !tags {
		interval, checks = "100ms", 5
	}
	cmd := exec.CommandContext(ctx, *warren, "watch", "--interval", interval, "--keep-guest", "--listen", "127.0.0.1:0", file)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	urls := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`metrics on (http://\S+/metrics)`)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	var metricsURL string
	select {
	case metricsURL = <-urls:
	case <-time.After(time.Minute):
		return fmt.Errorf("warren watch serves no metrics")
	}
	read := func() (map[string]*dto.MetricFamily, error) {
		resp, err := http.Get(metricsURL)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		return p.TextToMetricFamilies(resp.Body)
	}
	mode := "full"
	if tags {
		mode = "conditional"
	}
	// count and sum of the checks of mode so far, and the watch's memory
	stats := func() (count, sum, rss float64, err error) {
		fams, err := read()
		if err != nil {
			return 0, 0, 0, err
		}
		if f := fams["warren_watch_check_duration_seconds"]; f != nil {
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if l.GetName() == "mode" && l.GetValue() == mode {
						count, sum = float64(m.Histogram.GetSampleCount()), m.Histogram.GetSampleSum()
					}
				}
			}
		}
		if f := fams["process_resident_memory_bytes"]; f != nil && len(f.Metric) > 0 {
			rss = f.Metric[0].Gauge.GetValue()
		}
		return count, sum, rss, nil
	}
	wait := func(atLeast float64) (count, sum, rss float64, err error) {
		deadline := time.Now().Add(30 * time.Minute)
		for {
			if count, sum, rss, err = stats(); err != nil || count >= atLeast {
				return
			}
			if time.Now().After(deadline) {
				return 0, 0, 0, fmt.Errorf("warren watch made %v %s checks of %v", count, mode, atLeast)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The first tenth warms up (the first check is always full).
	c0, s0, rss0, err := wait(float64(max(1, checks/10)))
	if err != nil {
		return err
	}
	cpu0, err := brokerCPU(n)
	if err != nil {
		return err
	}
	c1, s1, rss1, err := wait(float64(checks))
	if err != nil {
		return err
	}
	cpu1, err := brokerCPU(n)
	if err != nil {
		return err
	}
	res.Values["watch.check"] = (s1 - s0) / (c1 - c0)
	res.Values["watch.cpu"] = (cpu1 - cpu0) / (c1 - c0)
	if tags {
		res.Values["watch.rss.first"], res.Values["watch.rss.last"] = rss0, rss1
	}
	// The broker's CPU for one GET /api/definitions, over a few.
	const gets = 10
	g0, err := brokerCPU(n)
	if err != nil {
		return err
	}
	for range gets {
		if _, _, err := get(); err != nil {
			return err
		}
	}
	g1, err := brokerCPU(n)
	if err != nil {
		return err
	}
	res.Values["get.cpu"] = (g1 - g0) / gets
	fmt.Fprintf(os.Stderr, "  watch: %.0f %s checks, %.4f s each, broker CPU %.4f s each (one GET: %.4f s); memory %.1f MB after %.0f checks, %.1f MB after %.0f\n",
		c1-c0, mode, res.Values["watch.check"], res.Values["watch.cpu"], res.Values["get.cpu"], rss0/1e6, c0, rss1/1e6, c1)
	return nil
}

// brokerCPU is the node's CPU time so far, in seconds: utime and stime of
// the process in its pid file.
func brokerCPU(n *rabbitmqtest.Node) (float64, error) {
	raw, err := os.ReadFile(filepath.Join(n.Dir, "pid"))
	if err != nil {
		return 0, fmt.Errorf("the node's pid: %w", err)
	}
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(raw)) + "/stat")
	if err != nil {
		return 0, err
	}
	// After the command's name, in parentheses: state is field 3, utime
	// and stime fields 14 and 15.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/PID/stat: %d fields", len(fields))
	}
	u, err1 := strconv.ParseFloat(fields[11], 64)
	k, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/PID/stat: %q %q", fields[11], fields[12])
	}
	return (u + k) / 100, nil // clock ticks: USER_HZ is 100 on Linux
}
