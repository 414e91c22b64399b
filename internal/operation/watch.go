package operation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// A watch compares brokers with their files every interval, as diff does,
// until it is stopped: it logs each change of a broker's state, keeps
// metrics an alert can use, and, when asked, applies what differs with
// every protection apply has.

// Watch states, in the log and the metrics.
const (
	WatchInSync      = "in sync"
	WatchDrift       = "drift"
	WatchUnreachable = "unreachable"
	WatchBadFiles    = "invalid files"
	WatchLeftAlone   = "left alone"
	// WatchFailed: the broker answered, and the check still failed (the
	// files ask what the broker's version refuses, say).
	WatchFailed = "failed"
)

// WatchBroker is one broker a watch checks.
type WatchBroker struct {
	// Name names the broker in the log and the metrics (never a URL with
	// its credentials).
	Name   string
	Files  Files
	Target definitions.TargetName
	// Edition is a Huawei Cloud DMS instance's edition, whose rules the
	// files are checked against.
	Edition string
	Options plan.Options
	Given   map[seeders.Option]bool
	// Open connects to the broker; it is called again after a failure.
	Open func(ctx context.Context, ui UI) (seeders.Target, error)
}

// WatchRequest asks to watch brokers until ctx ends.
type WatchRequest struct {
	Brokers  []WatchBroker
	Interval time.Duration
	// Apply applies what differs (apply --yes, with the options given).
	// After MaxFailures applies in a row fail, the broker is left alone
	// until its files change or Reload.
	Apply       bool
	MaxFailures int
	// MaxBackoff bounds the wait before checking a broker that failed
	// again (it doubles from Interval).
	MaxBackoff time.Duration
	// Log receives a line on each change of a broker's state, as text or
	// (JSONLog) one JSON object a line.
	Log     io.Writer
	JSONLog bool
	Metrics *WatchMetrics
	// Reload, when it receives, makes every broker's files read again and
	// lifts "left alone" (SIGHUP).
	Reload <-chan struct{}
	// NewUI makes the UI an operation writes to; what it writes is kept
	// only for the log line of a failure.
	NewUI func(w io.Writer) UI
}

// watchResult is one check of one broker.
type watchResult struct {
	Broker string
	State  string
	// Conditional: the broker said its definitions had not changed since
	// the last check found it in sync (one conditional request).
	Conditional bool
	// Applied: the check applied what differed.
	Applied bool
	Counts  map[plan.Action]int
	Err     error
}

// WatchMetrics are a watch's Prometheus metrics.
type WatchMetrics struct {
	inSync      *prometheus.GaugeVec
	drift       *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	errors      *prometheus.CounterVec
	checks      *prometheus.CounterVec
	applies     *prometheus.CounterVec
	leftAlone   *prometheus.GaugeVec
}

// NewWatchMetrics registers a watch's metrics with reg.
func NewWatchMetrics(reg prometheus.Registerer) *WatchMetrics {
	m := &WatchMetrics{
		inSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warren_watch_in_sync",
			Help: "1 when the broker matched its files at the last check, 0 when it did not or could not be checked."}, []string{"broker"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warren_watch_drift_objects",
			Help: "Changes the last plan held, by kind and action (0 when in sync)."}, []string{"broker", "kind", "action"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warren_watch_last_success_timestamp_seconds",
			Help: "When the broker was last checked successfully (in sync or not), as a Unix time."}, []string{"broker"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "warren_watch_check_duration_seconds",
			Help: "How long each check took.", Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12)}, []string{"broker", "mode"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warren_watch_check_errors_total",
			Help: "Checks that failed, by reason: unreachable, files, check (the broker refused what the files ask), apply."}, []string{"broker", "reason"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warren_watch_checks_total",
			Help: "Checks made, by mode: full (a diff) or conditional (the broker said nothing changed)."}, []string{"broker", "mode"}),
		applies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "warren_watch_applies_total",
			Help: "Applies made with --apply, by result: applied or failed."}, []string{"broker", "result"}),
		leftAlone: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "warren_watch_left_alone",
			Help: "1 when the broker is left alone after repeated failed applies, until its files change or SIGHUP."}, []string{"broker"}),
	}
	reg.MustRegister(m.inSync, m.drift, m.lastSuccess, m.duration, m.errors, m.checks, m.applies, m.leftAlone)
	return m
}

// Watch checks every broker each Interval until ctx ends. It returns nil
// then: a stopped watch is a watch that did its job.
func Watch(ctx context.Context, req WatchRequest) error {
	if req.Interval <= 0 {
		return errors.New("watch: the interval must be positive")
	}
	if req.MaxFailures <= 0 {
		req.MaxFailures = 3
	}
	if req.MaxBackoff <= 0 {
		req.MaxBackoff = max(10*req.Interval, 5*time.Minute)
	}
	if req.Metrics == nil {
		req.Metrics = NewWatchMetrics(prometheus.NewRegistry())
	}
	logger := &watchLog{w: req.Log, json: req.JSONLog}
	// One reload signal reaches every broker.
	reloads := make([]chan struct{}, len(req.Brokers))
	for i := range reloads {
		reloads[i] = make(chan struct{}, 1)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-req.Reload:
				for _, r := range reloads {
					select {
					case r <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for i, b := range req.Brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &watcher{req: req, b: b, log: logger, reload: reloads[i]}
			w.run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// watcher is one broker's loop and what it remembers between checks.
type watcher struct {
	req    WatchRequest
	b      WatchBroker
	log    *watchLog
	reload chan struct{}

	target   seeders.Target
	desired  *Desired
	files    string // the files' fingerprint when desired was loaded
	tag      string // the broker's definitions tag at the last in-sync check
	state    string
	lastErr  string // the last error logged, so that a repeated one is not
	filesErr error  // why the files, unchanged since, are invalid
	failures int    // failed checks in a row (backoff)
	applyErr int    // failed applies in a row
}

func (w *watcher) run(ctx context.Context) {
	for {
		w.check(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := w.req.Interval
		if w.failures > 0 {
			wait = min(w.req.MaxBackoff, w.req.Interval<<min(w.failures, 10))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.reload:
			t.Stop()
			w.files, w.applyErr = "", 0 // read the files again; try applying again
		case <-t.C:
		}
	}
}

// check is one check of the broker.
func (w *watcher) check(ctx context.Context) (res watchResult) {
	m, name := w.req.Metrics, w.b.Name
	res.Broker = name
	start := time.Now()
	defer func() {
		if ctx.Err() != nil {
			return // stopped: the check did not end, and says nothing
		}
		mode := "full"
		if res.Conditional {
			mode = "conditional"
		}
		m.checks.WithLabelValues(name, mode).Inc()
		m.duration.WithLabelValues(name, mode).Observe(time.Since(start).Seconds())
		w.transition(res)
	}()
	var out bytes.Buffer
	ui := w.req.NewUI(&out)
	failed := func(state, reason string, err error) watchResult {
		res.State, res.Err = state, watchError(err, &out)
		m.errors.WithLabelValues(name, reason).Inc()
		m.inSync.WithLabelValues(name).Set(0)
		if state != WatchBadFiles {
			w.failures++ // the broker is asked less often; files cost nothing to look at
		}
		return res
	}

	// The files, read again when they (or the secret files they name)
	// changed: nothing is compared, let alone applied, while they are
	// invalid.
	if fp := w.fingerprint(); fp != w.files {
		desired, err := LoadValidWith(ui, w.b.Files, definitions.CheckOptions{Target: w.b.Target, Edition: w.b.Edition}, true)
		if err != nil {
			w.desired, w.files, w.tag, w.filesErr = nil, fp, "", watchError(err, &out)
			return failed(WatchBadFiles, "files", err)
		}
		w.desired, w.files, w.tag, w.applyErr, w.filesErr = &desired, w.fingerprint(), "", 0, nil
		m.leftAlone.WithLabelValues(name).Set(0)
		w.log.filesRead(name, out.String()) // with their warnings
		out.Reset()
	} else if w.filesErr != nil {
		return failed(WatchBadFiles, "files", w.filesErr)
	}
	if w.target == nil {
		t, err := w.b.Open(ctx, ui)
		if err != nil {
			return failed(WatchUnreachable, "unreachable", err)
		}
		w.target = t
	}
	// Unchanged since the last check found it in sync: one conditional
	// request.
	tagger, _ := w.target.(seeders.ChangeTagger)
	if w.tag != "" && tagger != nil {
		same, err := tagger.DefinitionsUnchanged(ctx, w.tag)
		if err == nil && same {
			res.State, res.Conditional = WatchInSync, true
			w.succeeded(nil)
			return res
		}
		w.tag = ""
	}
	tag := ""
	if tagger != nil {
		tag, _ = tagger.DefinitionsTag(ctx) // taken before the read: never newer than it
	}
	diff, err := Diff(ctx, ui, DiffRequest{Target: w.target, Desired: *w.desired, Options: w.b.Options, Given: w.b.Given})
	if err != nil {
		if IsReported(err) {
			// Reported: the broker answered, and said no (diagnostics).
			return failed(WatchFailed, "check", err)
		}
		w.target = nil // connect again next time
		return failed(WatchUnreachable, "unreachable", err)
	}
	p := diff.Plan
	res.Counts = p.Counts()
	if p.Empty() {
		res.State, w.tag = WatchInSync, tag
		w.succeeded(p)
		return res
	}
	res.State = WatchDrift
	w.succeeded(p)
	if !w.req.Apply {
		return res
	}
	if w.applyErr >= w.req.MaxFailures {
		res.State = WatchLeftAlone // until the files change, or SIGHUP
		return res
	}
	// Repair, as apply --yes does: the lock, the plan read again under
	// it, nothing pruned or destroyed unless asked.
	out.Reset()
	if _, err := Apply(ctx, ui, ApplyRequest{Target: w.target, Desired: *w.desired, Options: w.b.Options, Given: w.b.Given, Yes: true}); err != nil {
		if ctx.Err() != nil {
			return res
		}
		m.applies.WithLabelValues(name, "failed").Inc()
		m.errors.WithLabelValues(name, "apply").Inc()
		res.Err = watchError(err, &out)
		w.applyErr++
		w.target = nil
		if w.applyErr >= w.req.MaxFailures {
			res.State = WatchLeftAlone
			m.leftAlone.WithLabelValues(name).Set(1)
		}
		return res
	}
	m.applies.WithLabelValues(name, "applied").Inc()
	res.Applied, res.State, w.applyErr = true, WatchInSync, 0
	for _, k := range definitions.Kinds {
		for _, a := range []plan.Action{plan.Create, plan.Update, plan.Replace, plan.Delete} {
			m.drift.WithLabelValues(name, string(k), a.Verb()).Set(0)
		}
	}
	m.inSync.WithLabelValues(name).Set(1)
	return res
}

// succeeded records a check that reached the broker; p is its plan (nil
// for a conditional check: nothing changed).
func (w *watcher) succeeded(p *plan.Plan) {
	m, name := w.req.Metrics, w.b.Name
	w.failures = 0
	m.lastSuccess.WithLabelValues(name).SetToCurrentTime()
	if p == nil {
		m.inSync.WithLabelValues(name).Set(1)
		return
	}
	counts := map[[2]string]int{}
	for _, ch := range p.Changes {
		counts[[2]string{string(ch.Kind), ch.Action.Verb()}]++
	}
	for _, k := range definitions.Kinds {
		for _, a := range []plan.Action{plan.Create, plan.Update, plan.Replace, plan.Delete} {
			m.drift.WithLabelValues(name, string(k), a.Verb()).Set(float64(counts[[2]string{string(k), a.Verb()}]))
		}
	}
	if p.Empty() {
		m.inSync.WithLabelValues(name).Set(1)
	} else {
		m.inSync.WithLabelValues(name).Set(0)
	}
}

// transition logs a change of state, and every apply and failure.
func (w *watcher) transition(res watchResult) {
	errText := ""
	if res.Err != nil {
		errText = res.Err.Error()
	}
	if res.State == w.state && errText == w.lastErr && !res.Applied {
		return // nothing new: a failure repeated is not logged again
	}
	prev := w.state
	w.state, w.lastErr = res.State, errText
	w.log.line(res, prev)
}

// fingerprint says what the files are now: each file's (and each secret
// file's) name, size and modification time.
func (w *watcher) fingerprint() string {
	var b strings.Builder
	paths, _ := definitions.Expand(append(slices.Clone(w.b.Files.Paths), w.b.Files.Overlays...))
	if w.desired != nil {
		paths = append(paths, secretFiles(w.desired.Doc)...)
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%s\x00%d\x00%d\x00", p, st.Size(), st.ModTime().UnixNano())
		} else {
			fmt.Fprintf(&b, "%s\x00missing\x00", p)
		}
	}
	return b.String()
}

// secretFiles are the files the document's {file: …} secrets name.
func secretFiles(d *definitions.Document) []string {
	var out []string
	for _, u := range d.Users {
		if u.Password != nil && u.Password.File != "" {
			out = append(out, u.Password.File)
		}
	}
	refs := func(v any) {
		for _, r := range definitions.SecretRefs(v) {
			if r.Secret.File != "" {
				out = append(out, r.Secret.File)
			}
		}
	}
	for _, p := range d.Parameters {
		refs(p.Value)
	}
	for _, g := range d.GlobalParameters {
		refs(g.Value)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// watchError is err with, when the operation reported it already (its
// lines went to out), those lines.
func watchError(err error, out *bytes.Buffer) error {
	if IsReported(err) && out.Len() > 0 {
		return errors.New(strings.TrimSpace(out.String()))
	}
	return err
}

// watchLog writes a watch's log lines.
type watchLog struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

// filesRead says a broker's files were read (again), with the warnings
// found in them.
func (l *watchLog) filesRead(broker, warnings string) {
	if l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339)
	var lines []string
	for _, s := range strings.Split(strings.TrimSpace(warnings), "\n") {
		if s != "" {
			lines = append(lines, s)
		}
	}
	if l.json {
		rec := map[string]any{"time": now, "broker": broker, "files": "read"}
		if len(lines) > 0 {
			rec["warnings"] = lines
		}
		data, _ := json.Marshal(rec)
		fmt.Fprintf(l.w, "%s\n", data)
		return
	}
	fmt.Fprintf(l.w, "%s broker %q: files read (%s)\n", now, broker, Plural(len(lines), "warning"))
	for _, s := range lines {
		fmt.Fprintf(l.w, "  %s\n", s)
	}
}

func (l *watchLog) line(res watchResult, prev string) {
	if l.w == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UTC().Format(time.RFC3339)
	changes := map[string]int{}
	for a, n := range res.Counts {
		if n > 0 {
			changes[a.Verb()] = n
		}
	}
	if l.json {
		rec := map[string]any{"time": now, "broker": res.Broker, "state": res.State}
		if prev != "" && prev != res.State {
			rec["previous"] = prev
		}
		if len(changes) > 0 {
			rec["changes"] = changes
		}
		if res.Applied {
			rec["applied"] = true
		}
		if res.Err != nil {
			rec["error"] = res.Err.Error()
		}
		data, _ := json.Marshal(rec)
		fmt.Fprintf(l.w, "%s\n", data)
		return
	}
	msg := fmt.Sprintf("%s broker %q: %s", now, res.Broker, res.State)
	if prev != "" && prev != res.State {
		msg += fmt.Sprintf(" (was %s)", prev)
	}
	if len(changes) > 0 {
		var parts []string
		for _, a := range []plan.Action{plan.Create, plan.Update, plan.Replace, plan.Delete} {
			if n := changes[a.Verb()]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d to %s", n, a.Verb()))
			}
		}
		msg += ": " + strings.Join(parts, ", ")
	}
	if res.Applied {
		msg += "; applied"
	}
	if res.Err != nil {
		msg += ": " + strings.ReplaceAll(res.Err.Error(), "\n", "; ")
	}
	fmt.Fprintln(l.w, msg)
}
