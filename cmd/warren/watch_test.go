package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// watchFiles are the files the watch tests keep a broker to.
const watchFiles = `vhosts: [{name: watched}]
users:
  - {name: watcher, password: {env: WATCH_PW}, tags: []}
permissions:
  - {user: watcher, vhost: watched, configure: "^watcher\\.", write: ".*", read: ".*"}
policies:
  - {vhost: watched, name: wp, pattern: "^watcher\\.", apply-to: queues, definition: {max-length: 100}}
`

// watchProc is a warren watch process: its log lines and its metrics.
type watchProc struct {
	t       *testing.T
	cmd     *exec.Cmd
	metrics string // URL of /metrics
	mu      sync.Mutex
	log     []string
	done    chan error
}

// startWatch runs warren watch args as a process of its own, with
// --listen on a free port, and waits for its metrics endpoint.
func startWatch(t *testing.T, args ...string) *watchProc {
	t.Helper()
	args = append([]string{"watch", "--listen", "127.0.0.1:0", "--log-format", "json"}, args...)
	cmd := exec.Command(warrenBinary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watchProc{t: t, cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		re := regexp.MustCompile(`metrics on (http://\S+/metrics)`)
		for s.Scan() {
			line := s.Text()
			if m := re.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
			w.mu.Lock()
			w.log = append(w.log, line)
			w.mu.Unlock()
		}
		w.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-w.done
		}
	})
	select {
	case w.metrics = <-addr:
	case err := <-w.done:
		t.Fatalf("warren watch ended: %v\n%s", err, w.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("warren watch serves no metrics after 30s\n%s", w.logText())
	}
	return w
}

func (w *watchProc) logText() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.log, "\n")
}

// families reads /metrics with the Prometheus text parser.
func (w *watchProc) families() map[string]*dto.MetricFamily {
	w.t.Helper()
	resp, err := http.Get(w.metrics)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		w.t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value is the metric's value with those labels (others any), and
// whether it is there.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// waitMetric waits until cond holds of the metrics, or fails after limit.
func (w *watchProc) waitMetric(what string, limit time.Duration, cond func(map[string]*dto.MetricFamily) bool) {
	w.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if cond(w.families()) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("after %s: not %s\nlog:\n%s", limit, what, w.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func inSync(broker string, want float64) func(map[string]*dto.MetricFamily) bool {
	return func(f map[string]*dto.MetricFamily) bool {
		v, ok := value(f, "warren_watch_in_sync", map[string]string{"broker": broker})
		return ok && v == want
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (w *watchProc) stop() {
	w.t.Helper()
	sent := time.Now()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		if err != nil {
			w.t.Errorf("warren watch exited with %v on SIGTERM\n%s", err, w.logText())
		}
		if took := time.Since(sent); took > 2*time.Second {
			w.t.Errorf("warren watch took %s to end after SIGTERM", took)
		}
	case <-time.After(10 * time.Second):
		w.t.Fatalf("warren watch still runs 10s after SIGTERM\n%s", w.logText())
	}
}

// TestWatch: a watch reports out-of-band changes (a permission edited, a
// policy deleted, a vhost deleted) in its metrics and its log within an
// interval, and in sync again once they are undone; on a broker that tags
// its definitions (RabbitMQ 4.3.5 and later) the checks in between are
// conditional requests, and a change makes the next check a full one.
// SIGTERM ends it at once.
func TestWatch(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	t.Setenv("WATCH_PW", "watch-pw-1")
	t.Logf("RabbitMQ %s", n.Version)
	ctx := context.Background()
	t.Cleanup(func() {
		n.Do(ctx, "DELETE", "/api/vhosts/watched", nil, nil)
		n.Do(ctx, "DELETE", "/api/users/watcher", nil, nil)
	})
	files := writeTemp(t, "watched.yaml", watchFiles)
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", files); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	w := startWatch(t, "--interval", "300ms", "--keep-guest", "--name", "b1", files)
	w.waitMetric("in sync", 20*time.Second, inSync("b1", 1))

	tags := definitions.CompareVersions(n.Version, definitions.DefinitionsTagSince) >= 0
	// The version table's fact, on this node: a tag on the definitions or none.
	req, _ := http.NewRequest(http.MethodHead, n.URL+"/api/definitions", nil)
	req.SetBasicAuth(n.Admin, n.AdminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag := resp.Header.Get("ETag"); (etag != "") != tags {
		t.Errorf("RabbitMQ %s: GET /api/definitions's ETag is %q; warren takes it to carry one from %s", n.Version, etag, definitions.DefinitionsTagSince)
	}
	conditional := func(f map[string]*dto.MetricFamily) float64 {
		v, _ := value(f, "warren_watch_checks_total", map[string]string{"broker": "b1", "mode": "conditional"})
		return v
	}
	if tags {
		w.waitMetric("checked with conditional requests", 10*time.Second, func(f map[string]*dto.MetricFamily) bool { return conditional(f) >= 2 })
	} else {
		time.Sleep(time.Second)
		if c := conditional(w.families()); c != 0 {
			t.Errorf("RabbitMQ %s tags no definitions, yet %v checks were conditional", n.Version, c)
		}
	}
	drift := func(kind, action string, want float64) func(map[string]*dto.MetricFamily) bool {
		return func(f map[string]*dto.MetricFamily) bool {
			v, ok := value(f, "warren_watch_drift_objects", map[string]string{"broker": "b1", "kind": kind, "action": action})
			s, _ := value(f, "warren_watch_in_sync", map[string]string{"broker": "b1"})
			return ok && v == want && s == 0
		}
	}
	// A permission edited by hand, then put back.
	perm := map[string]any{"configure": ".*", "write": ".*", "read": ".*"}
	if err := n.Do(ctx, "PUT", "/api/permissions/watched/watcher", perm, nil); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("drift of a permission", 5*time.Second, drift("permissions", "update", 1))
	perm["configure"] = `^watcher\.`
	if err := n.Do(ctx, "PUT", "/api/permissions/watched/watcher", perm, nil); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("in sync after the permission is put back", 5*time.Second, inSync("b1", 1))
	// A policy deleted, then made again.
	if err := n.Do(ctx, "DELETE", "/api/policies/watched/wp", nil, nil); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("drift of a policy", 5*time.Second, drift("policies", "create", 1))
	pol := map[string]any{"pattern": `^watcher\.`, "apply-to": "queues", "definition": map[string]any{"max-length": 100}, "priority": 0}
	if err := n.Do(ctx, "PUT", "/api/policies/watched/wp", pol, nil); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("in sync after the policy is made again", 5*time.Second, inSync("b1", 1))
	// The vhost deleted (with its permission and policy).
	if err := n.Do(ctx, "DELETE", "/api/vhosts/watched", nil, nil); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("drift of a vhost", 5*time.Second, drift("vhosts", "create", 1))
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", files); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	w.waitMetric("in sync after the apply", 5*time.Second, inSync("b1", 1))
	if tags {
		before := conditional(w.families())
		w.waitMetric("conditional checks again", 10*time.Second, func(f map[string]*dto.MetricFamily) bool { return conditional(f) > before })
	}
	w.stop()
	log := w.logText()
	for _, want := range []string{`"changes":{"update":1},"previous":"in sync","state":"drift"`, `"previous":"drift","state":"in sync"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "watch-pw-1") || strings.Contains(log, n.AdminPassword) {
		t.Errorf("the log shows a password:\n%s", log)
	}
}

// TestWatchApply: with --apply a watch repairs drift, never while the
// files are invalid, and then once they are valid again.
func TestWatchApply(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	t.Setenv("WATCH_PW", "watch-pw-1")
	ctx := context.Background()
	t.Cleanup(func() {
		n.Do(ctx, "DELETE", "/api/vhosts/watched", nil, nil)
		n.Do(ctx, "DELETE", "/api/users/watcher", nil, nil)
	})
	files := writeTemp(t, "watched.yaml", watchFiles)
	w := startWatch(t, "--interval", "300ms", "--keep-guest", "--apply", "--name", "b2", files)
	w.waitMetric("in sync after the first repair", 30*time.Second, inSync("b2", 1))
	var got map[string]any
	if err := n.Do(ctx, "GET", "/api/permissions/watched/watcher", nil, &got); err != nil {
		t.Fatalf("the watch did not make the permission: %v", err)
	}
	// Drift while the files are invalid: nothing is repaired.
	if err := os.WriteFile(files, []byte(watchFiles+"queues: [{name: q, vhost: watched, durable: maybe}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("a files error", 5*time.Second, func(f map[string]*dto.MetricFamily) bool {
		v, _ := value(f, "warren_watch_check_errors_total", map[string]string{"broker": "b2", "reason": "files"})
		return v >= 1
	})
	if err := n.Do(ctx, "DELETE", "/api/permissions/watched/watcher", nil, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := n.Do(ctx, "GET", "/api/permissions/watched/watcher", nil, nil); err == nil {
		t.Fatal("the watch applied while its files were invalid")
	}
	// Valid again: repaired.
	if err := os.WriteFile(files, []byte(watchFiles), 0o644); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("repaired", 10*time.Second, func(f map[string]*dto.MetricFamily) bool {
		a, _ := value(f, "warren_watch_applies_total", map[string]string{"broker": "b2", "result": "applied"})
		s, _ := value(f, "warren_watch_in_sync", map[string]string{"broker": "b2"})
		return a >= 2 && s == 1
	})
	if err := n.Do(ctx, "GET", "/api/permissions/watched/watcher", nil, nil); err != nil {
		t.Errorf("the permission was not made again: %v", err)
	}
	w.stop()
}

// TestWatchBrokerRestart: a broker that stops answering is reported
// (unreachable, errors counted), tried again after a growing wait rather
// than every interval, and in sync again once it is back.
func TestWatchBrokerRestart(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	ctx := context.Background()
	n, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	useNode(t, n)
	t.Setenv("WATCH_PW", "watch-pw-1")
	files := writeTemp(t, "watched.yaml", watchFiles)
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", files); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	w := startWatch(t, "--interval", "200ms", "--max-backoff", "1600ms", "--keep-guest", "--timeout", "2s", "--name", "b3", files)
	w.waitMetric("in sync", 20*time.Second, inSync("b3", 1))
	if _, err := n.Ctl(ctx, "stop_app"); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	w.waitMetric("unreachable", 10*time.Second, func(f map[string]*dto.MetricFamily) bool {
		v, _ := value(f, "warren_watch_check_errors_total", map[string]string{"broker": "b3", "reason": "unreachable"})
		return v >= 1
	})
	time.Sleep(5*time.Second - time.Since(down))
	errs, _ := value(w.families(), "warren_watch_check_errors_total", map[string]string{"broker": "b3", "reason": "unreachable"})
	// Every 200ms, 5 s down would be some 25 failed checks; waiting 400ms,
	// 800ms, then 1.6s, it is at most 6.
	if errs > 8 {
		t.Errorf("%v failed checks in 5s of a broker down: no backoff", errs)
	}
	if s, _ := value(w.families(), "warren_watch_in_sync", map[string]string{"broker": "b3"}); s != 0 {
		t.Errorf("in sync is %v while the broker is down", s)
	}
	if _, err := n.Ctl(ctx, "start_app"); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("in sync after the broker is back", 60*time.Second, inSync("b3", 1))
	w.stop()
	if log := w.logText(); !strings.Contains(log, `"state":"unreachable"`) || !strings.Contains(log, `"previous":"unreachable","state":"in sync"`) {
		t.Errorf("the log does not tell the broker went and came back:\n%s", log)
	}
}

// TestWatchLeftAlone: with --apply, a broker that refuses the repair
// (here a vhost limit set by hand forbids the files' queue) is tried
// --max-failures times and then left alone, not hammered; SIGHUP lifts
// that, and once the broker accepts, the watch repairs it.
func TestWatchLeftAlone(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	t.Cleanup(func() { n.Do(ctx, "DELETE", "/api/vhosts/lone", nil, nil) })
	if err := n.Do(ctx, "PUT", "/api/vhosts/lone", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/vhost-limits/lone/max-queues", map[string]any{"value": 0}, nil); err != nil {
		t.Fatal(err)
	}
	files := writeTemp(t, "lone.yaml", "vhosts: [{name: lone}]\nqueues:\n  - {name: q1, vhost: lone, durable: true}\n")
	w := startWatch(t, "--interval", "200ms", "--apply", "--max-failures", "2", "--name", "b4", files)
	applies := func(result string) func(map[string]*dto.MetricFamily) float64 {
		return func(f map[string]*dto.MetricFamily) float64 {
			v, _ := value(f, "warren_watch_applies_total", map[string]string{"broker": "b4", "result": result})
			return v
		}
	}
	failed := applies("failed")
	w.waitMetric("left alone", 20*time.Second, func(f map[string]*dto.MetricFamily) bool {
		v, _ := value(f, "warren_watch_left_alone", map[string]string{"broker": "b4"})
		return v == 1
	})
	time.Sleep(2 * time.Second)
	if got := failed(w.families()); got != 2 {
		t.Errorf("%v failed applies; want 2, then none while left alone", got)
	}
	if err := n.Do(ctx, "DELETE", "/api/vhost-limits/lone/max-queues", nil, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if got := applies("applied")(w.families()); got != 0 {
		t.Errorf("the watch applied while left alone")
	}
	w.cmd.Process.Signal(syscall.SIGHUP)
	w.waitMetric("repaired after SIGHUP", 20*time.Second, func(f map[string]*dto.MetricFamily) bool {
		s, _ := value(f, "warren_watch_in_sync", map[string]string{"broker": "b4"})
		l, _ := value(f, "warren_watch_left_alone", map[string]string{"broker": "b4"})
		return applies("applied")(f) >= 1 && s == 1 && l == 0
	})
	if err := n.Do(ctx, "GET", "/api/queues/lone/q1", nil, nil); err != nil {
		t.Errorf("the queue was not made: %v", err)
	}
	w.stop()
	log := w.logText()
	if !strings.Contains(log, `"state":"left alone"`) || strings.Contains(log, `"previous":"left alone","state":"drift"`) {
		t.Errorf("the log does not say the broker is left alone, once:\n%s", log)
	}
}

// TestWatchSecretFile: a password read from a file is read again when the
// file changes, even while the broker itself is unchanged (and, on 4.3.5+,
// answered by conditional requests): the new password shows as drift.
func TestWatchSecretFile(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	t.Cleanup(func() { n.Do(ctx, "DELETE", "/api/users/watch-secret", nil, nil) })
	pw := writeTemp(t, "pw", "secret-1\n")
	files := writeTemp(t, "secret.yaml", fmt.Sprintf("users:\n  - {name: watch-secret, password: {file: %s}, tags: []}\n", pw))
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", files); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	w := startWatch(t, "--interval", "200ms", "--keep-guest", "--name", "b5", files)
	w.waitMetric("in sync", 20*time.Second, inSync("b5", 1))
	time.Sleep(time.Second) // conditional checks, where the broker tags
	if err := os.WriteFile(pw, []byte("secret-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.waitMetric("drift of the user", 5*time.Second, func(f map[string]*dto.MetricFamily) bool {
		v, _ := value(f, "warren_watch_drift_objects", map[string]string{"broker": "b5", "kind": "users", "action": "update"})
		return v == 1
	})
	w.stop()
	if log := w.logText(); strings.Contains(log, "secret-1") || strings.Contains(log, "secret-2") {
		t.Errorf("the log shows the password:\n%s", log)
	}
}

// TestWatchInventory: a watch of an inventory checks each selected broker
// with its own entry's connection and files, and names it by its entry; a
// broker that does not answer is reported without holding up the others.
func TestWatchInventory(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	t.Cleanup(func() {
		n.Do(ctx, "DELETE", "/api/vhosts/inv-a", nil, nil)
		n.Do(ctx, "DELETE", "/api/vhosts/inv-b", nil, nil)
	})
	dir := t.TempDir()
	for _, v := range []string{"a", "b"} {
		if err := os.WriteFile(dir+"/"+v+".yaml", []byte("vhosts: [{name: inv-"+v+"}]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("INV_PASSWORD", n.AdminPassword)
	inv := fmt.Sprintf(`brokers:
  - name: one
    urls: [%[1]s]
    username: %[2]s
    password: {env: INV_PASSWORD}
    files: [a.yaml]
    labels: {env: test}
  - name: two
    urls: [%[1]s]
    username: %[2]s
    password: {env: INV_PASSWORD}
    files: [b.yaml]
    labels: {env: test}
  - name: gone
    urls: [%[3]s]
    username: %[2]s
    password: {env: INV_PASSWORD}
    files: [a.yaml]
    labels: {env: test}
  - name: other
    urls: [%[1]s]
    username: %[2]s
    password: {env: INV_PASSWORD}
    files: [a.yaml]
    labels: {env: prod}
`, n.URL, n.Admin, deadURL(t))
	if err := os.WriteFile(dir+"/inventory.yaml", []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/vhosts/inv-a", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, "--interval", "300ms", "--inventory", dir+"/inventory.yaml", "--select", "env=test")
	w.waitMetric("one in sync, two drifted, gone unreachable", 20*time.Second, func(f map[string]*dto.MetricFamily) bool {
		one, _ := value(f, "warren_watch_in_sync", map[string]string{"broker": "one"})
		two, _ := value(f, "warren_watch_drift_objects", map[string]string{"broker": "two", "kind": "vhosts", "action": "create"})
		gone, _ := value(f, "warren_watch_check_errors_total", map[string]string{"broker": "gone", "reason": "unreachable"})
		return one == 1 && two == 1 && gone >= 1
	})
	if _, ok := value(w.families(), "warren_watch_in_sync", map[string]string{"broker": "other"}); ok {
		t.Error("a broker --select leaves out is watched")
	}
	w.stop()
}
