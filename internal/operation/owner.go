package operation

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

// withSettings adds to the planner what the files' settings (warren:
// owner, ignore, forget) and the options (an owner, a scope) ask for. For
// an owner it reads the owners' records, and refuses, before anything
// changes, objects the files name that another owner's record holds
// (unless the options take them over): each an error at its place.
func withSettings(ctx context.Context, ui UI, pl planner, d Desired) (planner, error) {
	s := d.Doc.Settings
	if s != nil {
		if len(s.Ignore) > 0 {
			pl.extra = append(pl.extra, plan.WithIgnore(s.Ignored))
		}
		if len(s.Forget) > 0 {
			pl.extra = append(pl.extra, plan.WithForget(s.Forgotten))
		}
	}
	if len(pl.opts.Vhosts) > 0 {
		pl.extra = append(pl.extra, plan.WithScope(pl.opts.Vhosts))
	}
	owner, err := ownerOf(pl.opts, s)
	if err != nil {
		return pl, err
	}
	if owner == "" {
		if s != nil && len(s.Forget) > 0 {
			return pl, fmt.Errorf("forget drops objects from an owner's record: the files name no owner (warren: owner)")
		}
		return pl, nil
	}
	pl.opts.Owner = owner
	own, err := ownership(ctx, pl.t, pl.opts)
	if err != nil {
		return pl, err
	}
	if !own.TakeOver {
		if diags := conflicts(d, own, pl.opts.Vhosts); len(diags) > 0 {
			ui.Diagnostics(diags)
			return pl, reported(ui, "%s owned by another owner; nothing was changed (--take-over takes them over)", Plural(len(diags), "object"))
		}
	}
	return pl, nil
}

// ownership reads the owners' records for a plan of opts.Owner. Every
// plan reads them afresh, as it reads the broker: under the apply's lock,
// what another owner's apply wrote since is seen (what it took over is
// not this owner's to prune any more).
func ownership(ctx context.Context, t seeders.Target, opts plan.Options) (*plan.Ownership, error) {
	records, err := readRecords(ctx, t)
	if err != nil {
		return nil, err
	}
	own := &plan.Ownership{Owner: opts.Owner, Mine: records[opts.Owner], Others: map[string]*plan.Record{}, TakeOver: opts.TakeOver}
	for name, rec := range records {
		if name != opts.Owner {
			own.Others[name] = rec
		}
	}
	return own, nil
}

// readRecords reads every owner's record from a target that keeps them.
func readRecords(ctx context.Context, t seeders.Target) (map[string]*plan.Record, error) {
	r, ok := t.(seeders.Recorder)
	if !ok {
		return nil, fmt.Errorf("--target %s keeps no owner's record: an owner (warren: owner, --owner) works on RabbitMQ brokers", t.Name())
	}
	records, err := r.Records(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the owners' records: %w", err)
	}
	return records, nil
}

// ownerOf is the owner the options name, else the files'; both, they
// must agree.
func ownerOf(opts plan.Options, s *definitions.Settings) (string, error) {
	files := ""
	if s != nil {
		files = s.Owner
	}
	switch {
	case opts.Owner == "":
		return files, nil
	case files != "" && files != opts.Owner:
		return "", fmt.Errorf("--owner %s, where the files name owner %q (%s): give one owner", opts.Owner, files, s.OwnerAt.Pointer)
	}
	return opts.Owner, nil
}

// conflicts are the files' objects that another owner's record holds,
// each an error at its place (objects out of scope, or ignored, aside).
func conflicts(d Desired, own *plan.Ownership, scope []string) schema.Diagnostics {
	var out schema.Diagnostics
	s := d.Doc.Settings
	for _, k := range definitions.Kinds {
		for o := range d.Doc.All(k) {
			if len(scope) > 0 && !definitions.InVhosts(o, scope) || s.Ignored(o) {
				continue
			}
			other := own.OwnerOf(o)
			if other == "" {
				continue
			}
			out = append(out, definitions.Diagnose(o, schema.Error, schema.EOwnedByOther,
				"%s is owned by %q (its record on the broker holds it): take it over with --take-over, or leave it out of these files", o.Addr(), other))
		}
	}
	return d.remap(out)
}

// writeRecords writes what the plan changes of the owners' records: those
// objects were taken over from, then the owner's own.
func writeRecords(ctx context.Context, ui UI, t seeders.Target, p *plan.Plan) error {
	if !p.RecordChanged() {
		return nil
	}
	r := t.(seeders.Recorder) // withSettings checked
	for _, name := range sortedKeys(p.Released) {
		if err := r.WriteRecord(ctx, p.Released[name]); err != nil {
			return fmt.Errorf("writing owner %s's record without what was taken over: %w", name, err)
		}
	}
	if err := r.WriteRecord(ctx, p.Record); err != nil {
		return fmt.Errorf("the broker took the changes, but writing owner %s's record failed: %w (the next apply writes it; until then a prune leaves the objects this apply made alone)", p.Record.Owner, err)
	}
	logf(ui, "Owner %s: %s recorded on the broker.", p.Record.Owner, Plural(p.Record.Len(), "object"))
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
