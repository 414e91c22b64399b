package operation

import (
	"context"
	"fmt"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// DiffRequest asks for the plan that would make a target match the files.
type DiffRequest struct {
	Target  seeders.Target
	Desired Desired
	Options plan.Options
	// Given are the options the user gave (refused when the target
	// cannot honour them).
	Given map[seeders.Option]bool
	// SaveTo, when set, saves the plan there for a later apply, with
	// Paths (the files named) by absolute path and digest.
	SaveTo string
	Paths  []string
}

// DiffResult is a diff's outcome.
type DiffResult struct {
	Plan     *plan.Plan
	Identity plan.BrokerID
}

// InSync says whether the target matches the files.
func (r *DiffResult) InSync() bool { return r.Plan.Empty() }

// Diff checks the files against the target, makes the plan, saves it when
// asked, and shows it with the target's notes.
func Diff(ctx context.Context, ui UI, req DiffRequest) (*DiffResult, error) {
	if req.SaveTo != "" {
		if _, ok := req.Target.(*ExportFile); ok {
			return nil, fmt.Errorf("-o saves a plan against a live broker; it cannot be used with --against")
		}
	}
	id, desired, pl, err := preflight(ctx, ui, req.Target, req.Target.Name(), req.Desired, req.Options, req.Given)
	if err != nil {
		return nil, err
	}
	pl.withAccess = true
	p, err := pl.plan(ctx, desired)
	if err != nil {
		return nil, SecretError(ui, desired, err)
	}
	res := &DiffResult{Plan: p, Identity: id}
	if req.SaveTo != "" {
		sp := NewSavedPlan(id, pl.opts, p)
		if err := addFiles(sp, req.Paths); err != nil {
			return res, err
		}
		if err := writeJSON(req.SaveTo, sp); err != nil {
			return res, err
		}
	}
	ui.Plan(p)
	showNotes(ui, req.Target, p, pl.opts)
	return res, nil
}
