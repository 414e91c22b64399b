package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
)

// DiffOption tunes Diff.
type DiffOption func(*diffConfig)

type diffConfig struct {
	compare    func(d, l definitions.Object) (Fields, bool)
	wholeUsers bool
	prune      bool
	acting     string
	keepGuest  bool
	resolve    func(*definitions.Secret) (string, error)
	owned      func(definitions.Object) string
	// undeletable: see WithUndeletable.
	undeletable func(definitions.Object) string
	contents    func(vhost string) (*VhostContents, error)
	// version is the broker's RabbitMQ version ("" when unknown: every
	// protection is taken as honoured).
	version string
	// unshown: a live user without a hash or a literal password has one
	// the source does not show.
	unshown bool
	// ownership, ignore, forget and scope: see WithOwnership, WithIgnore,
	// WithForget and WithScope (owner.go).
	ownership *Ownership
	ignore    func(definitions.Object) bool
	forget    func(definitions.Object) bool
	scope     []string
	// nodeQueueType is the node's default queue type (WithNodeQueueType).
	nodeQueueType string
}

// WithPrune makes Diff delete live objects of the kinds the files manage
// that the files do not name (never the acting user, built-in objects or
// the last administrator).
func WithPrune(on bool) DiffOption { return func(c *diffConfig) { c.prune = on } }

// WithActingUser names the user warren is logged in as; it is never
// deleted.
func WithActingUser(name string) DiffOption { return func(c *diffConfig) { c.acting = name } }

// WithKeepGuest keeps the default user guest. Without it, when the files
// define users but not guest, and the broker still has guest with its
// default password, the plan removes guest, last of all (and, when warren is
// logged in as guest, only if the files define another administrator).
func WithKeepGuest(on bool) DiffOption { return func(c *diffConfig) { c.keepGuest = on } }

// WithCompare sets a target's own comparison: compare returns the fields
// that differ between a desired and a live object of the same identity
// (both normalized) and true, or false to leave the object to Diff's
// rules. Cloud APIs that hold less than RabbitMQ (Amazon MQ for
// ActiveMQ, Huawei Cloud DMS) give theirs.
func WithCompare(compare func(d, l definitions.Object) (Fields, bool)) DiffOption {
	return func(c *diffConfig) { c.compare = compare }
}

// WithPasswordsUnshown says the live definitions leave passwords out (an
// export without hashes, diff --against): a live user with neither a hash
// nor a literal password has one that cannot be known, and is not compared.
func WithPasswordsUnshown() DiffOption { return func(c *diffConfig) { c.unshown = true } }

// WithUsersWrittenWhole says the target writes a user whole, with its
// secret and all its permissions (Huawei Cloud DMS): every change of a
// user or of its permissions is a StepWriteUser carrying the user.
func WithUsersWrittenWhole() DiffOption { return func(c *diffConfig) { c.wholeUsers = true } }

// WithResolver sets how passwords given as {env} or {file} are read; the
// default is ResolveSecret.
func WithResolver(f func(*definitions.Secret) (string, error)) DiffOption {
	return func(c *diffConfig) { c.resolve = f }
}

// WithOwned marks live objects that belong to the platform (Amazon MQ's
// AWS-DEFAULT policies, say): owned returns why, or "". They are neither
// drift nor pruned.
func WithOwned(owned func(definitions.Object) string) DiffOption {
	return func(c *diffConfig) { c.owned = owned }
}

// WithUndeletable marks live objects the target refuses to delete
// (Huawei Cloud DMS's first vhost, made with the instance): undeletable
// returns why, or "". A prune leaves them alone and says why in
// Plan.Skipped, as it does for a vhost protected from deletion; the files
// may still name them.
func WithUndeletable(undeletable func(definitions.Object) string) DiffOption {
	return func(c *diffConfig) { c.undeletable = undeletable }
}

// WithRabbitMQVersion names the broker's RabbitMQ version: vhost deletion
// protection is compared only where the broker honours it (4.0.6+), and a
// user tagged protected is left alone only where RabbitMQ protects it
// (4.2+). Without it both are taken as honoured.
func WithRabbitMQVersion(v string) DiffOption { return func(c *diffConfig) { c.version = v } }

// vhostProtection reports whether the broker honours a vhost's
// protected_from_deletion.
func (c diffConfig) vhostProtection() bool {
	return !definitions.Rule(definitions.RuleVhostProtected).AppliesTo(c.version)
}

// protectedTag reports whether the broker protects users tagged protected.
func (c diffConfig) protectedTag() bool {
	return !definitions.Rule(definitions.RuleProtectedTag).AppliesTo(c.version)
}

// WithNodeQueueType names the node's default queue type (GET
// /api/overview's default_queue_type; rabbitmq.conf's default_queue_type,
// quorum on Amazon MQ's 4.x brokers): a vhost the files give no default
// queue type has the node's, as the broker reads it back, and so do the
// queues the files give no type in it. "" and "classic" change nothing.
func WithNodeQueueType(t string) DiffOption { return func(c *diffConfig) { c.nodeQueueType = t } }

// withNodeQueueType is d with the node's default queue type given to the
// vhosts that say none (d itself is not changed), and fallback (the live
// vhosts' types) with it for the vhosts whose type is unset.
func (c diffConfig) withNodeQueueType(d *definitions.Document, fallback map[string]string) *definitions.Document {
	if c.nodeQueueType == "" || c.nodeQueueType == "classic" {
		return d
	}
	for v, t := range fallback {
		if t == "" {
			fallback[v] = c.nodeQueueType
		}
	}
	out := *d
	out.Vhosts = slices.Clone(d.Vhosts)
	for i, v := range out.Vhosts {
		if _, ok := v.Metadata["default_queue_type"]; ok || v.DefaultQueueType != "" {
			continue
		}
		cp := *v
		cp.DefaultQueueType = c.nodeQueueType
		out.Vhosts[i] = &cp
	}
	return &out
}

// WithVhostContents tells Diff how to learn what lives in a vhost it
// deletes (read from the broker only then): each deletion carries what it
// takes with it.
func WithVhostContents(read func(vhost string) (*VhostContents, error)) DiffOption {
	return func(c *diffConfig) { c.contents = read }
}

// Diff compares the desired definitions with a live broker's and returns
// the Plan that makes the broker match. It is pure: it decides everything
// apply will do, and apply decides nothing.
//
// Only the kinds present in desired are managed (a file without queues says
// nothing about queues). Fields desired leaves out compare as the broker's
// defaults (see Normalize); a queue without a type is of its vhost's
// default type, so live should hold the vhosts of the queues desired names.
// Passwords are compared by hashing the desired password with the live
// hash's salt.
func Diff(desired, live *definitions.Document, opts ...DiffOption) (*Plan, error) {
	cfg := diffConfig{resolve: definitions.ResolveSecret}
	for _, o := range opts {
		o(&cfg)
	}
	// A queue the files give no type takes its vhost's default: the files'
	// vhost, else the broker's. Limits written inside the files' vhosts are
	// compared as the vhost-limits parameters they stand for (the kind is
	// not managed for that: nothing else is pruned).
	// Both sides share what they can with desired and live
	// (NormalizeShared): what goes into the plan is Filled.
	nl := definitions.NormalizeShared(live, nil)
	fallback := definitions.VhostQueueTypes(live)
	nd := definitions.NormalizeShared(cfg.withNodeQueueType(desired, fallback), fallback)
	nd.Parameters = append(nd.Parameters, definitions.VhostLimitParameters(desired)...)
	if desired.PerVhost() && desired.OriginalVhostName != "" {
		nd.FillVhost(desired.OriginalVhostName)
	}
	// warren's own apply lock and owners' records are neither drift nor
	// pruned, nor part of the digest (they change with every apply).
	isLock := func(g *definitions.GlobalParameter) bool { return g.Name == LockParameter || IsRecord(g) }
	nd.GlobalParameters = slices.DeleteFunc(slices.Clone(nd.GlobalParameters), isLock)
	nl.GlobalParameters = slices.DeleteFunc(slices.Clone(nl.GlobalParameters), isLock)
	digest := make(chan string, 1)
	go func() { digest <- definitions.DigestNormalized(nl) }() // on another core meanwhile
	plan := &Plan{Unmanaged: map[definitions.Kind]int{}, Pruning: cfg.prune}
	// What the files ignore is left out on both sides; so is what lies
	// outside the scope, counted for the plan. Both sides keep the kinds
	// they name, even emptied.
	if cfg.ignore != nil {
		keep := func(o definitions.Object) bool { return !cfg.ignore(o) }
		nd, nl = nd.Kept(keep), nl.Kept(keep)
	}
	if cfg.scope != nil {
		in := func(o definitions.Object) bool { return definitions.InVhosts(o, cfg.scope) }
		plan.OutOfScope = map[definitions.Kind]int{}
		for _, k := range definitions.Kinds {
			for o := range nd.All(k) {
				if !in(o) {
					plan.OutOfScope[k]++
				}
			}
		}
		nd, nl = nd.Kept(in), nl.Kept(in)
	}
	own := cfg.ownership
	var record *recordBuilder
	if own != nil {
		record = own.startRecord()
		plan.OwnedElsewhere, plan.NotOwned = map[string]int{}, map[definitions.Kind]int{}
	}
	// A per-vhost file manages its own vhost and nothing outside it.
	scope := ""
	if desired.PerVhost() && desired.OriginalVhostName != "" {
		scope = desired.OriginalVhostName
	}
	var refs map[refKey]definitions.Object
	var closed map[string]string
	if cfg.prune {
		refs = references(nd)
		closed = unprunableVhosts(nd, nl, cfg)
	}
	var deletes [][]Change
	var leftovers []Change
	var buf []byte
	// The index of the live objects of one kind, and what goes with it,
	// serve the next kind again (emptied): a new map of 100,000 keys a kind
	// was garbage made on top of both documents.
	var (
		have     map[string]int
		haveSize int
		liveKeys []string
		wanted   []bool
	)
	for _, k := range definitions.Kinds {
		managed := desired.Has(k)
		// Each object's key is made once: a key is a new string. A live
		// key the files name is wanted (at the index have gives it).
		liveObjs := nl.ObjectsOf(k)
		if have == nil || len(liveObjs) > haveSize {
			have, haveSize = make(map[string]int, len(liveObjs)), len(liveObjs)
		} else {
			clear(have)
		}
		clear(liveKeys[:cap(liveKeys)]) // the last kind's keys are not held
		liveKeys = slices.Grow(liveKeys[:0], len(liveObjs))[:len(liveObjs)]
		for i, l := range liveObjs {
			liveKeys[i] = l.Key()
			have[liveKeys[i]] = i
		}
		wanted = slices.Grow(wanted[:0], len(liveObjs))[:len(liveObjs)]
		clear(wanted)
		if own != nil && managed {
			record.dropGone(k, have, cfg.scope)
		}
		// The files' objects are gone through in their order, and what
		// they give (changes, skips) sorted by key afterwards: in sync,
		// nothing is, and no list of 40,000 keyed objects is made and
		// sorted to find that out.
		var changes []keyed[Change]
		var skips []keyed[Skip]
		var failed *keyed[error] // the first by key, as if gone through sorted
		for d := range nd.All(k) {
			// The key is made a string only where it is kept.
			buf = definitions.AppendKey(buf[:0], d)
			rank := limitsRank(d)
			if why := brokerSkips(nd, d); why != "" {
				skips = append(skips, keyed[Skip]{rank, string(buf), Skip{Addr: AddrOf(d), Reason: why}})
				continue
			}
			var l definitions.Object
			i, ok := have[string(buf)]
			if ok {
				l, wanted[i] = liveObjs[i], true
			}
			if ok && cfg.owned != nil && cfg.owned(l) != "" {
				skips = append(skips, keyed[Skip]{rank, string(buf), Skip{Addr: AddrOf(d), Reason: cfg.owned(l)}})
				continue
			}
			if !ok && cfg.owned != nil && cfg.owned(d) != "" {
				// The platform's own object, missing: the files do not make it.
				skips = append(skips, keyed[Skip]{rank, string(buf), Skip{Addr: AddrOf(d), Reason: cfg.owned(d)}})
				continue
			}
			if own != nil {
				if other := own.OwnerOf(d); other != "" {
					if !own.TakeOver {
						return nil, fmt.Errorf("%s is owned by %q: take it over with --take-over, or leave it out of the files", d.Addr(), other)
					}
					plan.TakeOvers = append(plan.TakeOvers, TakeOver{Addr: AddrOf(d), From: other})
				}
				record.add(k, string(buf))
			}
			if !ok {
				changes = append(changes, keyed[Change]{rank, string(buf), Change{Action: Create, Kind: k, Addr: AddrOf(d), After: nd.Filled(d)}})
				continue
			}
			if failed != nil && byRankAndKey(keyed[error]{rank, string(buf), nil}, *failed) > 0 {
				continue // sorted, it would not have been reached: its secrets are not read
			}
			fields, replace, err := compare(d, l, nd, nl, cfg)
			if err != nil {
				failed = &keyed[error]{rank, string(buf), err}
				continue
			}
			switch {
			case replace != "":
				changes = append(changes, keyed[Change]{rank, string(buf), Change{Action: Replace, Kind: k, Addr: AddrOf(d), Before: nl.Filled(l), After: nd.Filled(d), Fields: fields, Reason: replace}})
			case len(fields) > 0:
				changes = append(changes, keyed[Change]{rank, string(buf), Change{Action: Update, Kind: k, Addr: AddrOf(d), Before: nl.Filled(l), After: nd.Filled(d), Fields: fields}})
			}
		}
		if failed != nil {
			return nil, failed.v
		}
		plan.Skipped = appendSorted(plan.Skipped, skips)
		plan.Changes = appendSorted(plan.Changes, changes)
		var dels []Change
		var gone []keyed[definitions.Object]
		for i, l := range liveObjs {
			if !wanted[have[liveKeys[i]]] { // by key, should two share one
				gone = append(gone, keyed[definitions.Object]{limitsRank(l), liveKeys[i], l})
			}
		}
		for _, kl := range sortKeyed(gone) {
			l := kl.v
			if p, ok := l.(*definitions.Permission); ok && IsTemporaryGrant(p) {
				leftovers = append(leftovers, Change{Action: Delete, Kind: k, Addr: AddrOf(l), Before: l, Step: StepRemoveLeftoverGrant, Reason: LeftoverGrantReason})
				continue
			}
			if !managed || scope != "" && l.VhostName() != scope {
				continue
			}
			if cfg.owned != nil && cfg.owned(l) != "" {
				continue
			}
			if own != nil {
				switch other := own.OwnerOf(l); {
				case other != "":
					// Another owner's (taken over, when this owner's record
					// still holds it): it leaves this owner's record.
					plan.OwnedElsewhere[other]++
					record.remove(l)
					continue
				case !own.Mine.Has(l):
					plan.NotOwned[k]++ // made by hand, by applications, or before the owner
					continue
				case cfg.forget != nil && cfg.forget(l):
					plan.Forgotten = append(plan.Forgotten, AddrOf(l))
					record.remove(l)
					continue
				}
			}
			if !cfg.prune {
				plan.Unmanaged[k]++
				continue
			}
			if why := protected(l, cfg); why != "" {
				plan.Skipped = append(plan.Skipped, Skip{Addr: AddrOf(l), Reason: why})
				continue
			}
			if r, ok := refs[refKey{k, kl.key}]; ok {
				plan.Skipped = append(plan.Skipped, Skip{Addr: AddrOf(l), Reason: referredReason(r)})
				continue
			}
			if why, ok := closed[l.VhostName()]; ok && k != definitions.KindVhost {
				plan.Skipped = append(plan.Skipped, Skip{Addr: AddrOf(l), Reason: why})
				continue
			}
			ch := Change{Action: Delete, Kind: k, Addr: AddrOf(l), Before: nl.Filled(l)}
			if v, ok := l.(*definitions.Vhost); ok && cfg.contents != nil {
				takes, err := cfg.contents(v.Name)
				if err != nil {
					return nil, fmt.Errorf("reading what lives in vhost %q, which the plan deletes: %w", v.Name, err)
				}
				ch.Takes = takes
			}
			dels = append(dels, ch)
		}
		deletes = append(deletes, dels)
	}
	plan.Changes = append(plan.Changes, rebindAfterReplace(plan.Changes, nd, nl)...)
	for i := len(deletes) - 1; i >= 0; i-- {
		plan.Changes = append(plan.Changes, deletes[i]...)
	}
	plan.Changes = regrantAfterReplace(plan.Changes, nd, nl, cfg.version)
	plan.Changes = append(plan.Changes, leftovers...)
	plan.Changes = ungrant(plan.Changes, nd, cfg.acting)
	borrowAccess(plan, nl, cfg.acting)
	actingLast(plan, cfg.acting)
	removeGuest(plan, nd, nl, cfg)
	leaveProtectedUsers(plan, nl, cfg)
	plan.LiveDigest = <-digest
	setSteps(plan, cfg, nd)
	if own != nil {
		own.finishRecord(plan, record)
	}
	if err := keepAnAdministrator(plan, nl); err != nil {
		return nil, err
	}
	return plan, nil
}

// setSteps gives every change without a special step its plain one (or,
// for a vhost whose default queue type changes, StepVhostQueueType), and,
// when users are written whole (WithUsersWrittenWhole), marks every change of a
// user or its permissions StepWriteUser with the user as the files have it.
func setSteps(plan *Plan, cfg diffConfig, desired *definitions.Document) {
	for i := range plan.Changes {
		ch := &plan.Changes[i]
		if ch.Step != "" {
			continue
		}
		ch.Step = stepOf(ch.Action)
		if ch.Kind == definitions.KindVhost && ch.Action == Update &&
			slices.ContainsFunc(ch.Fields, func(f FieldChange) bool { return f.Field == "default_queue_type" }) {
			ch.Step = StepVhostQueueType
		}
		if !cfg.wholeUsers || ch.Action == Delete && ch.Kind == definitions.KindUser {
			continue
		}
		var user string
		switch o := cmp.Or[definitions.Object](ch.After, ch.Before).(type) {
		case *definitions.User:
			user = o.Name
		case *definitions.Permission:
			user = o.User
		default:
			continue
		}
		if slices.ContainsFunc(plan.Changes, func(c Change) bool {
			return c.Kind == definitions.KindUser && c.Action == Delete && c.Before.(*definitions.User).Name == user
		}) {
			continue // deleting the user takes its permissions with it
		}
		ch.Step, ch.User = StepWriteUser, wholeUser(desired, user)
	}
}

// wholeUser is a user of desired with all its permissions.
func wholeUser(desired *definitions.Document, name string) *WholeUser {
	w := &WholeUser{name: name}
	for _, u := range desired.Users {
		if u.Name == name {
			w.User = desired.Filled(u).(*definitions.User)
		}
	}
	for _, p := range desired.Permissions {
		if p.User == name {
			w.Permissions = append(w.Permissions, p)
		}
	}
	return w
}

// rebindAfterReplace re-creates the desired bindings of a replaced queue or
// exchange that the broker has now: deleting the queue or exchange deletes
// its bindings with it.
func rebindAfterReplace(changes []Change, desired, liveDoc *definitions.Document) []Change {
	type ref struct{ kind, vhost, name string }
	replaced := map[ref]bool{}
	for _, c := range changes {
		if c.Action != Replace {
			continue
		}
		switch o := c.After.(type) {
		case *definitions.Queue:
			replaced[ref{"queue", o.Vhost, o.Name}] = true
		case *definitions.Exchange:
			replaced[ref{"exchange", o.Vhost, o.Name}] = true
		}
	}
	if len(replaced) == 0 {
		return nil
	}
	live := index(liveDoc.ObjectsOf(definitions.KindBinding))
	var out []Change
	for _, o := range sortedObjects(desired.ObjectsOf(definitions.KindBinding)) {
		b := o.(*definitions.Binding)
		if _, exists := live[b.Key()]; !exists {
			continue // the plan creates it anyway
		}
		if replaced[ref{"exchange", b.Vhost, b.Source}] || replaced[ref{b.DestinationType, b.Vhost, b.Destination}] {
			out = append(out, Change{Action: Create, Kind: definitions.KindBinding, Addr: AddrOf(b), After: b,
				Step: StepRebind, Reason: "re-created: replacing its queue or exchange deletes it"})
		}
	}
	return out
}

// regrantReason is why a topic permission is written after its exchange
// is replaced.
const regrantReason = "re-created: RabbitMQ 4.3 deletes the topic permissions on an exchange with the exchange"

// regrantAfterReplace writes the topic permissions on a replaced exchange
// after the replacement: RabbitMQ 4.3 deletes them with the exchange
// (4.0.5 and 3.10.8 keep them), and a user whose topic permission is gone
// may publish with every routing key. The plan's own creations and updates
// of them run after the replacement instead of before it, and those it
// leaves as they are, the files' or (not in the files, not pruned) the
// broker's, are written again. Not on a broker known to be 4.0 or older.
func regrantAfterReplace(changes []Change, desired, liveDoc *definitions.Document, version string) []Change {
	if version != "" && definitions.CompareVersions(version, "4.1.0") < 0 {
		return changes
	}
	type ref struct{ vhost, name string }
	replaced := map[ref]bool{}
	for _, c := range changes {
		if x, ok := c.After.(*definitions.Exchange); ok && c.Action == Replace {
			replaced[ref{x.Vhost, x.Name}] = true
		}
	}
	if len(replaced) == 0 {
		return changes
	}
	on := func(o definitions.Object) bool {
		tp, ok := o.(*definitions.TopicPermission)
		return ok && replaced[ref{tp.Vhost, tp.Exchange}]
	}
	changed := map[string]bool{}
	for i := range changes {
		c := &changes[i]
		if !on(c.After) && !on(c.Before) {
			continue
		}
		changed[c.Addr.Key] = true
		if c.Action == Create || c.Action == Update {
			c.Step, c.Reason = StepRebind, "written after its exchange is replaced: RabbitMQ 4.3 deletes the topic permissions on an exchange with the exchange"
		}
	}
	wanted := index(desired.ObjectsOf(definitions.KindTopicPermission))
	for _, o := range sortedObjects(liveDoc.ObjectsOf(definitions.KindTopicPermission)) {
		if !on(o) || changed[o.Key()] {
			continue
		}
		after := o
		if d, ok := wanted[o.Key()]; ok {
			after = d
		}
		changes = append(changes, Change{Action: Create, Kind: definitions.KindTopicPermission, Addr: AddrOf(after), After: after,
			Step: StepRebind, Reason: regrantReason})
	}
	return changes
}

// ungrant removes what RabbitMQ grants on its own: the user that creates a
// vhost gets full permissions on it, which the files may not ask for.
// Nothing tells that grant from one given on purpose, so the import that
// creates the vhost also overwrites it with a marked one (TemporaryPattern;
// the broker imports permissions after vhosts, in the same request): an
// apply cut off before the take-back leaves a grant that the next plan
// finds (IsTemporaryGrant) and removes. The marks go with the other
// creations, the take-backs last.
func ungrant(changes []Change, desired *definitions.Document, acting string) []Change {
	if acting == "" {
		return changes
	}
	asked := map[string]bool{}
	for _, p := range desired.Permissions {
		asked[p.Vhost] = asked[p.Vhost] || p.User == acting
	}
	var marks, takeBacks []Change
	for _, c := range changes {
		if c.Kind != definitions.KindVhost || c.Action != Create {
			continue
		}
		v := c.After.(*definitions.Vhost).Name
		if asked[v] {
			continue
		}
		p := &definitions.Permission{User: acting, Vhost: v, Configure: TemporaryPattern, Write: TemporaryPattern, Read: TemporaryPattern}
		marks = append(marks, Change{Action: Create, Kind: definitions.KindPermission, Addr: AddrOf(p), After: p,
			Step: StepBorrowAccess, Reason: "for the apply only: marks the full permissions RabbitMQ grants the user that creates a vhost, so that a run cut off before taking them back leaves a grant the next plan finds"})
		takeBacks = append(takeBacks, Change{Action: Delete, Kind: definitions.KindPermission, Addr: AddrOf(p), Before: p,
			Step: StepUngrant, Reason: "RabbitMQ grants the user that creates a vhost full permissions on it; the files do not ask for them"})
	}
	if len(marks) == 0 {
		return changes
	}
	first := slices.IndexFunc(changes, func(c Change) bool { return c.Action == Delete || c.Action == Replace })
	if first < 0 {
		first = len(changes)
	}
	out := slices.Insert(slices.Clone(changes), first, marks...)
	return append(out, takeBacks...)
}

// vhostScoped reports whether deleting an object goes through an endpoint
// that needs access to its vhost (an administrator without permissions on
// the vhost is refused).
func vhostScoped(o definitions.Object) (string, bool) {
	if o == nil {
		return "", false
	}
	if row, _ := definitions.InfoOf(o.Kind()); !row.NeedsVhostAccess {
		return "", false
	}
	return o.VhostName(), true
}

// TemporaryPattern is the pattern of the permissions apply grants for
// itself only (see borrowAccess): full access, with a PCRE comment that
// marks it, so that a later plan finds a grant an apply killed before it
// could take it back.
const TemporaryPattern = "(?#warren-temporary-grant).*"

// LeftoverGrantReason is why a plan deletes a marked temporary grant.
const LeftoverGrantReason = "a temporary grant an interrupted apply left behind"

// IsTemporaryGrant reports whether a permission is one apply granted for
// itself only.
func IsTemporaryGrant(p *definitions.Permission) bool {
	return p.Configure == TemporaryPattern || p.Write == TemporaryPattern || p.Read == TemporaryPattern
}

// borrowAccess gives the acting user permissions, for the apply only, on
// vhosts where the plan deletes or replaces queues, exchanges, bindings,
// policies or parameters and the user has none: the API refuses those to
// an administrator without access to the vhost. Both steps are in the plan.
func borrowAccess(plan *Plan, live *definitions.Document, acting string) {
	if acting == "" {
		return
	}
	has := map[string]bool{}
	for _, p := range live.Permissions {
		if p.User == acting {
			has[p.Vhost] = true
		}
	}
	for _, c := range plan.Changes {
		if c.Kind == definitions.KindVhost && c.Action == Create {
			has[c.After.(*definitions.Vhost).Name] = true // RabbitMQ grants it while the vhost is created
		}
		if c.Kind == definitions.KindPermission && c.Action != Delete && c.After.(*definitions.Permission).User == acting {
			has[c.After.(*definitions.Permission).Vhost] = true
		}
	}
	var need []string
	for _, c := range plan.Changes {
		if c.Action != Delete && c.Action != Replace {
			continue
		}
		v, ok := vhostScoped(c.Before)
		if vh, isVhost := c.Before.(*definitions.Vhost); isVhost && c.Takes != nil && len(c.Takes.Queues) > 0 {
			v, ok = vh.Name, true // apply deletes its queues first, each only when empty
		}
		if ok && !has[v] && !slices.Contains(need, v) {
			need = append(need, v)
		}
	}
	slices.Sort(need)
	var grants, revokes []Change
	for _, v := range need {
		p := &definitions.Permission{User: acting, Vhost: v, Configure: TemporaryPattern, Write: TemporaryPattern, Read: TemporaryPattern}
		grants = append(grants, Change{Action: Create, Kind: definitions.KindPermission, Addr: AddrOf(p), After: p,
			Step: StepBorrowAccess, Reason: "for the apply only: the API lets only users with access to a vhost delete what is in it"})
		revokes = append(revokes, Change{Action: Delete, Kind: definitions.KindPermission, Addr: AddrOf(p), Before: p,
			Step: StepTakeBack, Reason: "taken back: it was given for the apply only"})
	}
	// Grants go before the first deletion or replacement, revokes last.
	first := slices.IndexFunc(plan.Changes, func(c Change) bool { return c.Action == Delete || c.Action == Replace })
	if first < 0 || len(grants) == 0 {
		return
	}
	changes := slices.Insert(slices.Clone(plan.Changes), first, grants...)
	plan.Changes = append(changes, revokes...)
}

// LockParameter is the global parameter that holds the lock warren's apply
// takes on a broker; plans leave it alone.
const LockParameter = "warren-lock"

// ActingPasswordReason is why a change to the acting user's password comes
// last.
const ActingPasswordReason = "warren is logged in as this user: its password changes last, then warren carries on with the new one"

// actingLast moves a change of the acting user's password to the end of
// the plan: every request after it must log in with the new password.
func actingLast(plan *Plan, acting string) {
	if acting == "" {
		return
	}
	i := slices.IndexFunc(plan.Changes, func(c Change) bool {
		return c.Kind == definitions.KindUser && c.Action == Update && c.After.(*definitions.User).Name == acting &&
			slices.ContainsFunc(c.Fields, func(f FieldChange) bool { return f.Field == "password" || f.Field == "password_hash" })
	})
	if i < 0 {
		return
	}
	ch := plan.Changes[i]
	ch.Step, ch.Reason = StepActingPassword, ActingPasswordReason
	plan.Changes = append(slices.Delete(plan.Changes, i, i+1), ch)
}

// defaultGuestPassword is the password RabbitMQ gives guest.
const defaultGuestPassword = "guest"

// removeGuest appends the removal of the default user guest, when it is
// due (see WithKeepGuest).
func removeGuest(plan *Plan, desired, live *definitions.Document, cfg diffConfig) {
	if cfg.keepGuest || desired.Users == nil {
		return
	}
	if slices.ContainsFunc(desired.Users, func(u *definitions.User) bool { return u.Name == "guest" }) {
		return
	}
	if slices.ContainsFunc(desired.Permissions, func(p *definitions.Permission) bool { return p.User == "guest" }) ||
		slices.ContainsFunc(desired.TopicPermissions, func(p *definitions.TopicPermission) bool { return p.User == "guest" }) {
		return // the files give guest permissions: they want it
	}
	i := slices.IndexFunc(live.Users, func(u *definitions.User) bool { return u.Name == "guest" })
	if i < 0 {
		return
	}
	guest := live.Users[i]
	if guest.PasswordHash == nil || !definitions.PasswordMatches(*guest.PasswordHash, guest.HashingAlgorithm, defaultGuestPassword) {
		return // someone set a password: not the default user any more
	}
	if slices.ContainsFunc(plan.Changes, func(c Change) bool {
		return c.Kind == definitions.KindUser && c.Action == Delete && c.Addr == AddrOf(guest)
	}) {
		return
	}
	if cfg.acting == "guest" && !slices.ContainsFunc(desired.Users, isAdmin) {
		plan.Skipped = append(plan.Skipped, Skip{Addr: AddrOf(guest), Reason: "warren is logged in as guest and the files define no other administrator"})
		return
	}
	plan.Skipped = slices.DeleteFunc(plan.Skipped, func(s Skip) bool { return s.Addr == AddrOf(guest) })
	if !cfg.prune && plan.Unmanaged[definitions.KindUser] > 0 {
		plan.Unmanaged[definitions.KindUser]-- // counted there as not in the files
	}
	plan.Changes = append(plan.Changes, Change{Action: Delete, Kind: definitions.KindUser, Addr: AddrOf(guest), Before: live.Filled(guest),
		Step: StepRemoveGuest, Reason: "the default user with its default password, and the files define users but not guest; --keep-guest keeps it"})
}

func index(objs []definitions.Object) map[string]definitions.Object {
	out := make(map[string]definitions.Object, len(objs))
	for _, o := range objs {
		out[o.Key()] = o
	}
	return out
}

// sortedObjects orders objects by key, vhost limits before other
// parameters (a vhost's limits should be in place before what fills it).
func sortedObjects(objs []definitions.Object) []definitions.Object {
	ks := make([]keyed[definitions.Object], len(objs))
	for i, o := range objs {
		ks[i] = keyed[definitions.Object]{limitsRank(o), o.Key(), o}
	}
	return appendSorted(nil, ks)
}

// keyed is something of an object (the object itself, a change to it)
// with the object's key (made once) and its rank in sortedObjects' order.
type keyed[T any] struct {
	rank int
	key  string
	v    T
}

// byRankAndKey is sortedObjects' order.
func byRankAndKey[T any](a, b keyed[T]) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.key, b.key))
}

// sortKeyed sorts in sortedObjects' order, in place (stably: two of one
// key stay in the order given).
func sortKeyed[T any](ks []keyed[T]) []keyed[T] {
	slices.SortStableFunc(ks, byRankAndKey[T])
	return ks
}

// appendSorted appends ks' values to out in sortedObjects' order.
func appendSorted[T any](out []T, ks []keyed[T]) []T {
	for _, k := range sortKeyed(ks) {
		out = append(out, k.v)
	}
	return out
}

func limitsRank(o definitions.Object) int {
	if p, ok := o.(*definitions.Parameter); ok && p.Component == definitions.ComponentVhostLimits {
		return 0
	}
	return 1
}

// brokerSkips says why the broker would not keep a desired object, or "".
func brokerSkips(d *definitions.Document, o definitions.Object) string {
	switch o := o.(type) {
	case *definitions.Queue:
		if strings.HasPrefix(o.Name, "amq.") {
			return "RabbitMQ reserves amq.* queue names and skips them on import"
		}
	case *definitions.Exchange:
		if strings.HasPrefix(o.Name, "amq.") {
			return "RabbitMQ reserves amq.* exchange names and skips them on import"
		}
	case *definitions.Binding:
		if o.Vhost == "" {
			return "the binding has no vhost"
		}
	}
	return ""
}

// protected says why a live object must not be deleted, or "".
func protected(o definitions.Object, cfg diffConfig) string {
	if cfg.undeletable != nil {
		if why := cfg.undeletable(o); why != "" {
			return why
		}
	}
	switch o := o.(type) {
	case *definitions.User:
		if cfg.acting != "" && o.Name == cfg.acting {
			return "warren is logged in as this user"
		}
	case *definitions.Exchange:
		if o.Name == "" || strings.HasPrefix(o.Name, "amq.") {
			return "built-in exchange"
		}
	case *definitions.Queue:
		if strings.HasPrefix(o.Name, "amq.") {
			return "server-named queue"
		}
	case *definitions.Vhost:
		if cfg.vhostProtection() && o.Protected != nil && *o.Protected {
			return protectedVhostReason(o.Name)
		}
	case *definitions.GlobalParameter:
		switch o.Name {
		case "internal_cluster_id", "imported_definition_hash_value", "cluster_tags":
			// cluster_tags is node configuration (RabbitMQ 4 writes it,
			// warren export trims it), as the cluster's id is.
			return "the broker's own global parameter"
		case "cluster_name":
			// warren export trims it by default: an export applied with
			// --prune must not rename the cluster. Files that name it set it.
			return "the cluster's name is changed only by files that name it"
		}
	}
	return ""
}

const adminTag = "administrator"

// keepAnAdministrator makes sure the broker keeps an administrator: it
// drops the deletion of the last one (and says so), and refuses a plan
// whose updates would take the tag from every one.
func keepAnAdministrator(plan *Plan, live *definitions.Document) error {
	if !slices.ContainsFunc(live.Users, isAdmin) {
		return nil // nothing to keep
	}
	admins := map[string]bool{}
	for _, u := range live.Users {
		if isAdmin(u) {
			admins[u.Name] = true
		}
	}
	for _, c := range plan.Changes {
		if c.Kind != definitions.KindUser {
			continue
		}
		switch c.Action {
		case Create, Update, Replace:
			u := c.After.(*definitions.User)
			admins[u.Name] = isAdmin(u)
		}
	}
	remaining := 0
	for _, a := range admins {
		if a {
			remaining++
		}
	}
	var kept []Change
	for _, c := range plan.Changes {
		if c.Kind == definitions.KindUser && c.Action == Delete && isAdmin(c.Before.(*definitions.User)) {
			if remaining <= 1 {
				plan.Skipped = append(plan.Skipped, Skip{Addr: c.Addr, Reason: "the broker's last administrator"})
				continue
			}
			remaining--
		}
		kept = append(kept, c)
	}
	plan.Changes = kept
	if remaining == 0 {
		return fmt.Errorf("the files take the %s tag from every administrator; the broker would be left without one", adminTag)
	}
	return nil
}

func isAdmin(u *definitions.User) bool { return slices.Contains(u.Tags, adminTag) }

// compare returns the fields that differ between a desired and a live
// object of the same identity (both normalized), and, when the broker
// cannot change them in place, why the object must be replaced.
func compare(d, l definitions.Object, nd, nl *definitions.Document, cfg diffConfig) ([]FieldChange, string, error) {
	if cfg.compare != nil {
		if f, ok := cfg.compare(nd.Filled(d), nl.Filled(l)); ok {
			return f, "", nil
		}
	}
	var f Fields
	switch d := d.(type) {
	case *definitions.User:
		l := l.(*definitions.User)
		f.sets("tags", d.Tags, l.Tags)
		f.value("limits", definitions.UserLimits(d), definitions.UserLimits(l))
		if err := comparePassword(&f, d, l, cfg); err != nil {
			return nil, "", err
		}
	case *definitions.Vhost:
		l := l.(*definitions.Vhost)
		f.text("description", deref(d.Description), deref(l.Description))
		f.sets("tags", orEmpty(d.Tags), orEmpty(l.Tags))
		f.text("default_queue_type", d.DefaultQueueType, l.DefaultQueueType)
		f.value("tracing", d.Tracing != nil && *d.Tracing, l.Tracing != nil && *l.Tracing)
		if d.Protected != nil && cfg.vhostProtection() {
			f.value("protected_from_deletion", *d.Protected, l.Protected != nil && *l.Protected)
		}
	case *definitions.Permission:
		l := l.(*definitions.Permission)
		f.text("configure", d.Configure, l.Configure)
		f.text("write", d.Write, l.Write)
		f.text("read", d.Read, l.Read)
	case *definitions.TopicPermission:
		l := l.(*definitions.TopicPermission)
		f.text("write", d.Write, l.Write)
		f.text("read", d.Read, l.Read)
	case *definitions.Parameter:
		if err := f.compareValue("value", d.Value, l.(*definitions.Parameter).Value, cfg); err != nil {
			return nil, "", &definitions.SecretError{Object: d, Field: "value", Err: err}
		}
	case *definitions.GlobalParameter:
		if err := f.compareValue("value", d.Value, l.(*definitions.GlobalParameter).Value, cfg); err != nil {
			return nil, "", &definitions.SecretError{Object: d, Field: "value", Err: err}
		}
	case *definitions.Policy:
		l := l.(*definitions.Policy)
		f.text("pattern", d.Pattern, l.Pattern)
		f.text("apply-to", d.ApplyTo, l.ApplyTo)
		f.value("priority", *d.Priority, *l.Priority)
		f.value("definition", d.Definition, l.Definition)
	case *definitions.Queue:
		l := l.(*definitions.Queue)
		f.value("durable", *d.Durable, *l.Durable)
		f.value("auto_delete", *d.AutoDelete, *l.AutoDelete)
		f.table("arguments", nd.QueueArguments(d), nl.QueueArguments(l))
		if len(f) > 0 {
			return f, "a queue's durability, auto-delete and arguments cannot change in place", nil
		}
	case *definitions.Exchange:
		l := l.(*definitions.Exchange)
		f.text("type", d.Type, l.Type)
		f.value("durable", *d.Durable, *l.Durable)
		f.value("auto_delete", *d.AutoDelete, *l.AutoDelete)
		f.value("internal", *d.Internal, *l.Internal)
		f.table("arguments", d.Arguments, l.Arguments)
		if len(f) > 0 {
			return f, "an exchange's type, durability, auto-delete, internal flag and arguments cannot change in place", nil
		}
	case *definitions.Binding:
		// A binding is all identity: equal keys, equal bindings.
	}
	return f, "", nil
}

func comparePassword(f *Fields, d, l *definitions.User, cfg diffConfig) error {
	if cfg.unshown && PasswordUnshown(l) {
		return nil
	}
	switch {
	case d.Password != nil:
		pw, err := cfg.resolve(d.Password)
		if err != nil {
			return &definitions.SecretError{Object: d, Field: "password", Err: err}
		}
		var same bool
		switch {
		case l.PasswordHash != nil:
			same = definitions.PasswordMatches(*l.PasswordHash, l.HashingAlgorithm, pw)
		case l.Password != nil && l.Password.Literal != nil:
			// A live document's {env} or {file} is never resolved: an
			// export (--against) must not read local files or variables.
			same = *l.Password.Literal == pw
		}
		if !same {
			*f = append(*f, FieldChange{Field: "password", Sensitive: true})
		}
	case d.PasswordHash != nil:
		if l.PasswordHash == nil || *d.PasswordHash != *l.PasswordHash || d.HashingAlgorithm != l.HashingAlgorithm {
			*f = append(*f, FieldChange{Field: "password_hash", Sensitive: true})
		}
	}
	return nil
}

// PasswordUnshown says a live user shows neither its hash nor its
// password (as a literal): an export trimmed of hashes.
func PasswordUnshown(l *definitions.User) bool {
	return l.PasswordHash == nil && (l.Password == nil || l.Password.Literal == nil)
}

// Fields collects the fields that differ between two objects.
type Fields []FieldChange

// value records a field when the two values differ (numbers compare by
// value, maps whatever their order).
// Value records a field when the two values differ (numbers compare by
// value, maps whatever their order).
func (f *Fields) Value(name string, d, l any) { f.value(name, d, l) }

// Set records a field when two lists differ as sets.
func (f *Fields) Set(name string, d, l []string) { f.sets(name, d, l) }

func (f *Fields) value(name string, d, l any) {
	if equal(d, l) {
		return
	}
	if definitions.CanonicalJSON(d) != definitions.CanonicalJSON(l) {
		*f = append(*f, FieldChange{Field: name, Before: l, After: d})
	}
}

// text is value for two strings, made values only when they differ (a
// diff in sync compares 100,000s).
func (f *Fields) text(name, d, l string) {
	if d != l {
		f.value(name, d, l)
	}
}

// table is value for two Tables, made values only when they may differ.
func (f *Fields) table(name string, d, l definitions.Table) {
	if !sameTable(d, l) {
		f.value(name, d, l)
	}
}

// sameTable reports whether two Tables are surely the same (value would
// find no change): the same names, each with the same value.
func sameTable(a, b definitions.Table) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// equal is a fast path: true only for values that are surely the same
// (CanonicalJSON would write them alike), compared without writing them.
// false means "not sure", and the caller compares the values' canonical
// JSON.
func equal(a, b any) bool { return definitions.SameValue(a, b) }

// sets records a field when two lists differ as sets.
func (f *Fields) sets(name string, d, l []string) {
	a, b := slices.Clone(d), slices.Clone(l)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
		*f = append(*f, FieldChange{Field: name, Before: l, After: d})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// compareValue records a parameter's value when it differs: the desired
// value's references are resolved to compare (the live value's never
// are), and both sides are shown with their credentials masked; when only
// a credential differs, the field is sensitive.
func (f *Fields) compareValue(name string, d, l any, cfg diffConfig) error {
	resolved, err := definitions.ResolveValue(d, cfg.resolve)
	if err != nil {
		return err
	}
	if equal(resolved, l) || definitions.CanonicalJSON(resolved) == definitions.CanonicalJSON(l) {
		return nil
	}
	if definitions.CanonicalJSON(definitions.MaskCredentials(resolved)) == definitions.CanonicalJSON(definitions.MaskCredentials(l)) {
		*f = append(*f, FieldChange{Field: name, Sensitive: true})
		return nil
	}
	*f = append(*f, FieldChange{Field: name, Before: definitions.MaskCredentials(l), After: definitions.MaskCredentials(d)})
	if !slices.Equal(definitions.URIPasswords(resolved), definitions.URIPasswords(l)) {
		*f = append(*f, FieldChange{Field: name + " credentials", Sensitive: true})
	}
	return nil
}
