package operation

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

// countingTarget is an export file that counts how often it is read.
type countingTarget struct {
	ExportFile
	reads int
}

func (t *countingTarget) Read(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	t.reads++
	return t.ExportFile.Read(ctx, kinds)
}

// After a failed apply, the broker is read again and what it made moves to
// Done; after a second Ctrl-C (the apply's context cancelled), it is not
// read at all.
func TestRecheckFailed(t *testing.T) {
	vhost := &definitions.Vhost{Name: "orders"}
	desired := &definitions.Document{Vhosts: []*definitions.Vhost{vhost}}
	change := plan.Change{Action: plan.Create, Step: plan.StepCreate, Kind: definitions.KindVhost, Addr: plan.AddrOf(vhost), After: vhost}
	p := &plan.Plan{Changes: []plan.Change{change}}
	var stderr bytes.Buffer
	ui := &bufferUI{log: &stderr}

	// The broker holds the vhost: the failed creation was made after all.
	made := &countingTarget{ExportFile: ExportFile{name: definitions.TargetRabbitMQ, doc: &definitions.Document{Vhosts: []*definitions.Vhost{{Name: "orders"}}}}}
	ae := &plan.ApplyError{Failed: []plan.Change{change}, Err: errors.New("import failed")}
	recheckFailed(context.Background(), ui, planner{t: made}, desired, p, ae)
	if made.reads != 1 || len(ae.Done) != 1 || len(ae.Failed) != 0 {
		t.Errorf("the broker made it: %d reads, done %v, failed %v", made.reads, ae.Done, ae.Failed)
	}

	// The broker lacks it: it stays failed.
	lacking := &countingTarget{ExportFile: ExportFile{name: definitions.TargetRabbitMQ, doc: &definitions.Document{Vhosts: []*definitions.Vhost{}}}}
	ae = &plan.ApplyError{Failed: []plan.Change{change}, Err: errors.New("import failed")}
	recheckFailed(context.Background(), ui, planner{t: lacking}, desired, p, ae)
	if lacking.reads != 1 || len(ae.Done) != 0 || len(ae.Failed) != 1 {
		t.Errorf("the broker lacks it: %d reads, done %v, failed %v", lacking.reads, ae.Done, ae.Failed)
	}

	// Stopped at once: no request, and the report says it may be untrue.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ae = &plan.ApplyError{Failed: []plan.Change{change}, Err: errors.New("import failed")}
	recheckFailed(cancelled, ui, planner{t: made}, desired, p, ae)
	if made.reads != 1 || len(ae.Failed) != 1 || !strings.Contains(stderr.String(), "may have been made") {
		t.Errorf("after a second Ctrl-C: %d reads (want none more), failed %v\n%s", made.reads, ae.Failed, stderr.String())
	}
}

// bufferUI is a UI that writes everything to buffers and confirms nothing.
type bufferUI struct{ out, log *bytes.Buffer }

func (u *bufferUI) Out() io.Writer {
	if u.out == nil {
		u.out = new(bytes.Buffer)
	}
	return u.out
}
func (u *bufferUI) Log() io.Writer                 { return u.log }
func (u *bufferUI) Diagnostics(schema.Diagnostics) {}
func (u *bufferUI) Plan(*plan.Plan)                {}
func (u *bufferUI) Notes([]string)                 {}
func (u *bufferUI) Confirm() error                 { return errors.New("no") }
func (u *bufferUI) Progress(seeders.Progress)      {}
func (u *bufferUI) ProgressDone()                  {}
func (u *bufferUI) Password(string) (string, error) {
	return "", errors.New("no terminal")
}
