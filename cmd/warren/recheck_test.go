package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// countingTarget is an export file that counts how often it is read.
type countingTarget struct {
	exportTarget
	reads int
}

func (t *countingTarget) Read(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	t.reads++
	return t.exportTarget.Read(ctx, kinds)
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
	app := &cli.App{ErrWriter: &stderr}
	c := cli.NewContext(app, flag.NewFlagSet("apply", flag.ContinueOnError), nil)
	c.Context = context.Background()

	// The broker holds the vhost: the failed creation was made after all.
	made := &countingTarget{exportTarget: exportTarget{name: definitions.TargetRabbitMQ, doc: &definitions.Document{Vhosts: []*definitions.Vhost{{Name: "orders"}}}}}
	ae := &plan.ApplyError{Failed: []plan.Change{change}, Err: errors.New("import failed")}
	recheckFailed(c, context.Background(), made, desired, plan.Options{}, p, ae)
	if made.reads != 1 || len(ae.Done) != 1 || len(ae.Failed) != 0 {
		t.Errorf("the broker made it: %d reads, done %v, failed %v", made.reads, ae.Done, ae.Failed)
	}

	// The broker lacks it: it stays failed.
	lacking := &countingTarget{exportTarget: exportTarget{name: definitions.TargetRabbitMQ, doc: &definitions.Document{Vhosts: []*definitions.Vhost{}}}}
	ae = &plan.ApplyError{Failed: []plan.Change{change}, Err: errors.New("import failed")}
	recheckFailed(c, context.Background(), lacking, desired, plan.Options{}, p, ae)
	if lacking.reads != 1 || len(ae.Done) != 0 || len(ae.Failed) != 1 {
		t.Errorf("the broker lacks it: %d reads, done %v, failed %v", lacking.reads, ae.Done, ae.Failed)
	}

	// Stopped at once: no request, and the report says it may be untrue.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ae = &plan.ApplyError{Failed: []plan.Change{change}, Err: errors.New("import failed")}
	recheckFailed(c, cancelled, made, desired, plan.Options{}, p, ae)
	if made.reads != 1 || len(ae.Failed) != 1 || !strings.Contains(stderr.String(), "may have been made") {
		t.Errorf("after a second Ctrl-C: %d reads (want none more), failed %v\n%s", made.reads, ae.Failed, stderr.String())
	}
}
