package rabbitmq

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/warren-tool/warren/definitions"
)

// TestDoneAndFailKeepTheRest: done takes each change's first match off
// what remains, in order; fail reports what remains but the failed, also
// for an import of 100,000 objects booked at once. (Its speed, quadratic
// before, is measured by make bench, not timed here.)
func TestDoneAndFailKeepTheRest(t *testing.T) {
	ch := func(a definitions.Action, name string) definitions.Change {
		return definitions.Change{Action: a, Kind: definitions.KindUser, Addr: definitions.AddrOf(&definitions.User{Name: name})}
	}
	all := []definitions.Change{ch(definitions.Create, "a"), ch(definitions.Delete, "a"), ch(definitions.Create, "b"),
		ch(definitions.Create, "b"), ch(definitions.Update, "c"), ch(definitions.Create, "d")}
	a := &applier{remaining: slices.Clone(all), total: len(all)}
	a.done("import", ch(definitions.Create, "a"), ch(definitions.Create, "b"), ch(definitions.Create, "x"))
	want := []definitions.Change{all[1], all[3], all[4], all[5]}
	if d := cmp.Diff(want, a.remaining, cmpopts.EquateComparable(definitions.Addr{})); d != "" {
		t.Errorf("remaining after done (-want +got):\n%s", d)
	}
	err := a.fail(errors.New("boom"), ch(definitions.Update, "c"))
	var ae *definitions.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("%T", err)
	}
	if d := cmp.Diff([]definitions.Change{all[1], all[3], all[5]}, ae.Remaining, cmpopts.EquateComparable(definitions.Addr{})); d != "" {
		t.Errorf("Remaining of the failure (-want +got):\n%s", d)
	}
	if len(ae.Done) != 3 {
		t.Errorf("Done: %d changes, want 3", len(ae.Done))
	}

	const n = 100000
	big := make([]definitions.Change, n)
	for i := range big {
		big[i] = ch(definitions.Create, fmt.Sprint("u", i))
	}
	a = &applier{remaining: slices.Clone(big), total: n}
	a.done("import", big[:n-1]...)
	_ = a.fail(errors.New("boom"), big...)
	if len(a.remaining) != 1 || a.remaining[0].Addr != big[n-1].Addr {
		t.Errorf("remaining: %d changes", len(a.remaining))
	}
}
