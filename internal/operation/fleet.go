package operation

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/operation/inventory"
	"github.com/warren-tool/warren/seeders"
)

// A fleet runs diff or apply on an inventory's brokers at once, each with
// its own entry's URLs, credentials, TLS settings, target and files, and
// the request's options. Each broker's output is buffered and shown
// whole, in inventory order; the report gives each broker's status.

// DefaultConcurrency is how many brokers a fleet works on at once when
// neither the request nor the inventory says.
const DefaultConcurrency = 4

// FleetRequest asks to diff or apply an inventory's brokers.
type FleetRequest struct {
	// Apply applies; otherwise the fleet diffs.
	Apply     bool
	Inventory *inventory.Inventory
	Brokers   []*inventory.Broker // those selected, in inventory order
	// Concurrency is how many brokers run at once (0: the inventory's,
	// else DefaultConcurrency). FailFast starts no other broker after one
	// fails: a diff under way is cancelled, an apply under way finishes.
	Concurrency int
	FailFast    bool
	// Connection is what every broker's connection starts from (timeouts,
	// waiting); each entry gives its URLs, user, password and TLS.
	Connection Connection
	// Options and Given are diff's and apply's; the entry gives Target.
	Options plan.Options
	Given   map[seeders.Option]bool
	// Yes, DryRun and BreakLock are apply's.
	Yes, DryRun, BreakLock bool
	MaxSize                int64
	Workers                int
	// NewUI makes the UI of one broker's run, writing to w.
	NewUI func(w io.Writer) UI
	// Output is where each broker's output goes, after a heading.
	Output io.Writer
}

// Fleet statuses, in the report.
const (
	StatusInSync  = "in sync"
	StatusDrift   = "drift"
	StatusApplied = "applied"
	StatusFailed  = "failed"
	StatusNotRun  = "not run"
)

// Statuses are the statuses in the order a report lists them.
var Statuses = []string{StatusInSync, StatusDrift, StatusApplied, StatusFailed, StatusNotRun}

// FleetResult is one broker's line of the report. It holds no secret:
// URLs are redacted and the error is the operation's, which shows none.
type FleetResult struct {
	Name     string            `json:"name"`
	Target   string            `json:"target"`
	URLs     []string          `json:"urls"`
	Labels   map[string]string `json:"labels"`
	Status   string            `json:"status"`
	Counts   FleetCounts       `json:"counts"`
	Duration int64             `json:"duration_ms"`
	Error    string            `json:"error,omitempty"`
	output   []byte
}

// FleetCounts are a broker's plan's changes by action.
type FleetCounts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Replace int `json:"replace"`
	Delete  int `json:"delete"`
}

// FleetReport is a fleet run's report (--format json). Its shape is
// versioned: fields are only ever added within a version.
type FleetReport struct {
	Version   int            `json:"version"`
	Command   string         `json:"command"`
	Inventory string         `json:"inventory"`
	Brokers   []*FleetResult `json:"brokers"`
	Summary   map[string]int `json:"summary"`
	// ExitCode is 0 when every broker is in sync (or applied), 2 when a
	// diff found drift, 1 when a broker failed or did not run.
	ExitCode int `json:"exit_code"`
}

// Fleet runs the request's brokers, at most Concurrency at once, and
// returns the report once every broker is done.
func Fleet(ctx context.Context, req FleetRequest) (*FleetReport, error) {
	command := "diff"
	if req.Apply {
		command = "apply"
	}
	if len(req.Inventory.Brokers) == 0 {
		return nil, fmt.Errorf("%s lists no brokers", req.Inventory.Path)
	}
	conc := req.Concurrency
	if conc == 0 {
		conc = req.Inventory.Concurrency
	}
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	brokers := req.Brokers
	results := make([]*FleetResult, len(brokers))
	done := make([]chan struct{}, len(brokers))
	for i, b := range brokers {
		results[i] = &FleetResult{Name: b.Name, Target: b.Target, URLs: redacted(b.URLs), Labels: b.Labels, Status: StatusNotRun}
		done[i] = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		stopped bool // FailFast: a broker failed
	)
	slots := make(chan struct{}, conc)
	go func() {
		for i, b := range brokers {
			slots <- struct{}{}
			mu.Lock()
			stop := stopped
			mu.Unlock()
			if stop {
				<-slots
				close(done[i])
				continue
			}
			go func() {
				defer func() { <-slots; close(done[i]) }()
				runCtx := ctx
				if req.Apply {
					runCtx = context.WithoutCancel(ctx) // an apply under way finishes
				}
				r := results[i]
				runBroker(runCtx, req, b, r)
				if r.Status == StatusFailed && req.FailFast {
					mu.Lock()
					stopped = true
					mu.Unlock()
					cancel()
				}
			}()
		}
	}()
	out := req.Output
	for i, b := range brokers {
		<-done[i]
		r := results[i]
		if r.Status == StatusNotRun {
			continue
		}
		fmt.Fprintf(out, "== %s (%s) ==\n", b.Name, strings.Join(r.URLs, ", "))
		out.Write(r.output)
		if len(r.output) > 0 && !bytes.HasSuffix(r.output, []byte("\n")) {
			fmt.Fprintln(out)
		}
		fmt.Fprintln(out)
	}
	rep := &FleetReport{Version: 1, Command: command, Inventory: req.Inventory.Path, Brokers: results, Summary: map[string]int{}}
	for _, r := range results {
		rep.Summary[r.Status]++
		switch r.Status {
		case StatusFailed, StatusNotRun:
			rep.ExitCode = 1
		case StatusDrift:
			if !req.Apply && rep.ExitCode == 0 {
				rep.ExitCode = 2
			}
		}
	}
	return rep, nil
}

// runBroker diffs or applies one broker, its output into r.
func runBroker(ctx context.Context, req FleetRequest, b *inventory.Broker, r *FleetResult) {
	start := time.Now()
	var buf bytes.Buffer
	defer func() {
		r.Duration = time.Since(start).Milliseconds()
		r.output = buf.Bytes()
	}()
	if ctx.Err() != nil {
		return // FailFast stopped the run before this broker's turn
	}
	ui := req.NewUI(&buf)
	p, err := fleetOne(ctx, ui, req, b)
	if p != nil {
		counts := p.Counts()
		r.Counts = FleetCounts{Create: counts[plan.Create], Update: counts[plan.Update], Replace: counts[plan.Replace], Delete: counts[plan.Delete]}
	}
	switch {
	case err != nil:
		if !IsReported(err) {
			fmt.Fprintf(&buf, "warren: %v\n", err)
		}
		r.Status, r.Error = StatusFailed, err.Error()
		if ctx.Err() != nil {
			r.Error = "cancelled (--fail-fast): " + r.Error
		}
	case p.Empty():
		r.Status = StatusInSync
	case req.Apply && !req.DryRun:
		r.Status = StatusApplied
	default:
		r.Status = StatusDrift
	}
}

// fleetOne is one broker's diff or apply: its plan, and an error when it
// failed.
func fleetOne(ctx context.Context, ui UI, req FleetRequest, b *inventory.Broker) (*plan.Plan, error) {
	name, conn, err := EntryConnection(req.Connection, b)
	if err != nil {
		return nil, err
	}
	opts := req.Options
	opts.Target = string(name)
	if opts.Owner == "" {
		opts.Owner = b.Owner
	}
	desired, err := LoadValid(ui, Files{Paths: b.Files, Overlays: b.Overlays, Layered: true, MaxSize: req.MaxSize}, name, true)
	if err != nil {
		return nil, err
	}
	opts.InstanceType, opts.DeploymentMode = b.InstanceType, b.DeploymentMode
	t, err := Open(ctx, ui, TargetRequest{Name: name, Connection: conn, Workers: req.Workers, AmazonMQ: EntryAmazonMQ(b)})
	if err != nil {
		return nil, err
	}
	if !req.Apply {
		res, err := Diff(ctx, ui, DiffRequest{Target: t, Desired: desired, Options: opts, Given: req.Given})
		if res == nil {
			return nil, err
		}
		return res.Plan, err
	}
	res, err := Apply(ctx, ui, ApplyRequest{Target: t, Desired: desired, Options: opts, Given: req.Given,
		Yes: req.Yes, DryRun: req.DryRun, BreakLock: req.BreakLock})
	if res == nil {
		return nil, err
	}
	return res.Plan, err
}

// EntryConnection is an inventory entry's target and connection: base
// (timeouts, waiting) with the entry's URLs, user, password and TLS. An
// entry logs in with its own password only, never WARREN_PASSWORD (meant
// for one broker), and is never prompted.
func EntryConnection(base Connection, b *inventory.Broker) (definitions.TargetName, Connection, error) {
	name, err := ParseTarget(b.Target)
	if err != nil {
		return "", Connection{}, err
	}
	conn := base
	conn.URLs = b.URLs
	conn.Login = Login{User: b.Username, PasswordFile: b.PasswordFile}
	if b.PasswordEnv != "" {
		if conn.Login.Known, err = b.Password(); err != nil {
			return "", Connection{}, err
		}
	}
	conn.TLS = TLS{CACert: b.TLS.CA, ClientCert: b.TLS.ClientCert, ClientKey: b.TLS.ClientKey, Insecure: b.TLS.Insecure}
	return name, conn, nil
}

// EntryAmazonMQ is an inventory entry's sizing of an Amazon MQ broker
// (instance_type, deployment_mode), as --instance-type and
// --deployment-mode give it.
func EntryAmazonMQ(b *inventory.Broker) AmazonMQ {
	return AmazonMQ{InstanceType: b.InstanceType, DeploymentMode: b.DeploymentMode}
}

// ParseTarget reads a target's name.
func ParseTarget(s string) (definitions.TargetName, error) {
	for _, t := range definitions.Targets {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown --target %q: use one of %s", s, TargetNames())
}

// TargetNames lists the targets' names.
func TargetNames() string {
	s := make([]string, len(definitions.Targets))
	for i, t := range definitions.Targets {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func redacted(urls []string) []string {
	out := make([]string, len(urls))
	for i, raw := range urls {
		if u, err := url.Parse(raw); err == nil {
			out[i] = u.Redacted()
		} else {
			out[i] = "(invalid URL)"
		}
	}
	return out
}
