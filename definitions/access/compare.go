package access

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/warren-tool/warren/definitions"
)

// Change is a change in what a user may do, between two models (the
// broker's definitions before a plan and after it).
type Change struct {
	User  string
	Vhost string
	// Connect: the change is whether the user can connect to Vhost at
	// all; Operation and Resource are unset, and the user's operations
	// there change with it.
	Connect bool
	// Operation and Resource: the operation on the resource whose verdict
	// changes from Before to After.
	Operation     Operation
	Resource      Resource
	Before, After Result
	// Keys, when set, are the routing-key patterns of the user's topic
	// permission on Resource before and after: the verdict depends on the
	// routing key in both, and which keys it allows changes.
	Keys *[2]string
}

// String says the change as a reviewer reads it: user "app" can now
// publish to exchange "orders" on vhost "v".
func (c Change) String() string {
	if c.Connect {
		if c.After == Allowed {
			return fmt.Sprintf("user %s can now connect to vhost %s", Quote(c.User), Quote(c.Vhost))
		}
		return fmt.Sprintf("user %s can no longer connect to vhost %s", Quote(c.User), Quote(c.Vhost))
	}
	what := fmt.Sprintf(phrase[c.Operation], c.Resource)
	if c.Keys != nil {
		return fmt.Sprintf("user %s can %s with the routing keys of %s, no longer %s", Quote(c.User), what, quotePattern(c.Keys[1]), quotePattern(c.Keys[0]))
	}
	switch {
	case c.Before == Denied && c.After == Allowed:
		return fmt.Sprintf("user %s can now %s", Quote(c.User), what)
	case c.Before == Allowed && c.After == Denied:
		return fmt.Sprintf("user %s can no longer %s", Quote(c.User), what)
	}
	return fmt.Sprintf("user %s: %s: %s → %s", Quote(c.User), what, c.Before, c.After)
}

// phrase says an operation on a resource (%s).
var phrase = map[Operation]string{
	Declare: "declare %s", Delete: "delete %s", BindSource: "bind from %s", BindDestination: "bind to %s",
	Publish: "publish to %s", Consume: "consume from %s", Get: "get from %s", Purge: "purge %s",
}

// Gained says whether the change gives the user more than it had: a
// reviewer's first question.
func (c Change) Gained() bool { return rank[c.After] < rank[c.Before] }

// Compare lists what changes in users' access from before to after: who
// can connect to which vhost, and, for the users whose permission or topic
// permissions in a vhost change (or whose topic permissions' exchange
// changes type), every operation on every queue and exchange either
// defines there whose verdict changes. Creating or deleting a queue or an
// exchange changes no permission, and is not listed. Routing keys are not
// given: a topic permission's verdict is Depends. Sorted by user, vhost,
// resource, operation.
func Compare(before, after *Model) []Change { return compare(before, after, true) }

// compare is Compare; with skip, an operation on a resource is not asked
// of either model when every input of its verdict is the same in both
// (TestCompareSkipsOnlyTheSame compares with and without).
func compare(before, after *Model, skip bool) []Change {
	skip = skip && before.opts == after.opts
	type uv struct{ user, vhost string }
	changed := map[uv]bool{}
	before.indexAll()
	after.indexAll()
	for _, pair := range [][2]*Model{{before, after}, {after, before}} {
		a, b := pair[0], pair[1]
		for k, p := range a.perms {
			q := b.perms[k]
			if q == nil || p.Configure != q.Configure || p.Write != q.Write || p.Read != q.Read {
				changed[uv{k[1], k[0]}] = true
			}
		}
		for k, p := range a.topics {
			q := b.topics[k]
			if q == nil || p.Write != q.Write || p.Read != q.Read ||
				a.ExchangeType(k[0], k[2]) != b.ExchangeType(k[0], k[2]) {
				changed[uv{k[1], k[0]}] = true
			}
		}
		// An exchange that becomes internal, or stops being so.
		for v, x := range a.vhosts {
			for name, e := range x.exchanges {
				if f := b.exchange(v, name); f == nil || internal(e) == internal(f) {
					continue
				}
				for pk := range a.perms {
					if pk[0] == v {
						changed[uv{pk[1], pk[0]}] = true
					}
				}
			}
		}
	}
	var out []Change
	inVhost := map[string][]Resource{} // both models' resources, by vhost
	for k := range changed {
		pb, pa := before.Permission(k.user, k.vhost), after.Permission(k.user, k.vhost)
		if pb == nil && pa == nil {
			// No entry before or after (only a topic permission changed):
			// the user cannot connect, and so can do nothing, in both.
			continue
		}
		if (pb == nil) != (pa == nil) {
			c := Change{User: k.user, Vhost: k.vhost, Connect: true, Before: Denied, After: Denied}
			if pa != nil {
				c.After = Allowed
			} else {
				c.Before = Allowed
			}
			out = append(out, c)
			continue
		}
		resources, ok := inVhost[k.vhost]
		if !ok {
			resources = append(slices.Clone(before.Resources(k.vhost)), after.Resources(k.vhost)...)
			slices.SortFunc(resources, compareResources)
			resources = slices.Compact(resources)
			inVhost[k.vhost] = resources
		}
		// Most changes change one pattern: the operations that match
		// another keep their verdicts (412 changed permissions on 110
		// queues and exchanges each asked both models of 8 operations).
		samePattern := map[Permission]bool{Configure: pb.Configure == pa.Configure, Write: pb.Write == pa.Write, Read: pb.Read == pa.Read}
		for _, r := range resources {
			same := skip && sameResource(before, after, k.user, r)
			for _, op := range Operations {
				if !op.AppliesTo(r.Kind) || same && samePattern[patternOf[op]] {
					continue
				}
				vb, va := before.Result(k.user, op, r, nil), after.Result(k.user, op, r, nil)
				if vb != va {
					out = append(out, Change{User: k.user, Vhost: k.vhost, Operation: op, Resource: r, Before: vb, After: va})
				} else if keys := topicKeys(before, after, k.user, op, r); vb == Depends && keys != nil {
					out = append(out, Change{User: k.user, Vhost: k.vhost, Operation: op, Resource: r, Before: vb, After: va, Keys: keys})
				}
			}
		}
	}
	opIndex := func(o Operation) int { return slices.Index(Operations, o) }
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Vhost, b.Vhost), compareResources(a.Resource, b.Resource),
			cmp.Compare(opIndex(a.Operation), opIndex(b.Operation)))
	})
	return out
}

// topicKeys are the routing-key patterns op on exchange r reads of the
// user's topic permission in each model (write to publish, read to bind
// from), when both have one and the pattern differs; else nil.
func topicKeys(before, after *Model, user string, op Operation, r Resource) *[2]string {
	if r.Kind != Exchange || op != Publish && op != BindSource {
		return nil
	}
	tb, ta := before.topicPermission(r.Vhost, user, r.Name), after.topicPermission(r.Vhost, user, r.Name)
	if tb == nil || ta == nil {
		return nil
	}
	keys := [2]string{tb.Write, ta.Write}
	if op == BindSource {
		keys = [2]string{tb.Read, ta.Read}
	}
	if keys[0] == keys[1] {
		return nil
	}
	return &keys
}

func internal(e *definitions.Exchange) bool { return e.Internal != nil && *e.Internal }

// patternOf is the permission an operation's verdict matches the
// resource's name against (Model.can).
var patternOf = map[Operation]Permission{
	Declare: Configure, Delete: Configure, BindDestination: Write, Publish: Write,
	BindSource: Read, Consume: Read, Get: Read, Purge: Read,
}

// sameResource says whether everything a verdict on r reads besides the
// user's permission is the same in both models: whether r is defined and,
// for an exchange, its type, whether it is internal, and the user's topic
// permission on it (Model.can, reserved, topic).
func sameResource(before, after *Model, user string, r Resource) bool {
	if before.defined(r) != after.defined(r) {
		return false
	}
	if r.Kind != Exchange {
		return true
	}
	if before.ExchangeType(r.Vhost, r.Name) != after.ExchangeType(r.Vhost, r.Name) {
		return false
	}
	eb, ea := before.exchange(r.Vhost, r.Name), after.exchange(r.Vhost, r.Name)
	if (eb == nil) != (ea == nil) || eb != nil && internal(eb) != internal(ea) {
		return false
	}
	tb, ta := before.topicPermission(r.Vhost, user, r.Name), after.topicPermission(r.Vhost, user, r.Name)
	return (tb == nil) == (ta == nil) && (tb == nil || tb.Write == ta.Write && tb.Read == ta.Read)
}

// compareResources orders exchanges before queues, then by name.
func compareResources(a, b Resource) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Vhost, b.Vhost), cmp.Compare(a.Name, b.Name))
}
