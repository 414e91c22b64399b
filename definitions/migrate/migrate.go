package migrate

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/dlclark/regexp2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// UpstreamName is the name of the federation upstream Transform adds to
// every vhost with queues to drain; the federation policies are named
// PolicyPrefix, or PolicyPrefix + "." + the policy they stand in for.
const (
	UpstreamName = "warren-migrate"
	PolicyPrefix = "warren-migrate"
)

// Options tune Transform.
type Options struct {
	// Version is the new cluster's RabbitMQ version, a series ("4.0") or a
	// release ("4.0.5"): its rules decide what is dropped or refused.
	Version string
	// Upstream is how the new cluster reaches the old one.
	Upstream URITemplate
	// ActingUser is the user warren logs in to the new cluster as: when
	// the old cluster has a user of that name, it is not moved (its
	// password hash would lock warren out half-way), and the new
	// cluster's stays as it is.
	ActingUser string
	// NotMoved, when set, says why an object of the old cluster stays
	// there ("" moves it): a platform's own (Amazon MQ's system user and
	// policies). A policy not moved still decides which queues were
	// mirrored; the federation does not shadow it.
	NotMoved func(definitions.Object) string
	// MinPriority is the least priority of the federation's policies:
	// above the new cluster's own policies (Amazon MQ's are at 0 or 1).
	MinPriority int64
	// LivePolicies are the policies the new cluster holds now. Those the
	// migration does not overwrite (its own, a platform's) stay, and one
	// that matches a drained queue at the federation policy's priority or
	// above would take the queue from the federation: the federation's
	// policies go above the highest of them.
	LivePolicies []*definitions.Policy
}

// Change is one thing Transform changed, on the object it names.
type Change struct {
	Addr   string // the object, as users write it (its name on the old cluster)
	What   string
	Reason string
	// Code is set (W160–W169) when the change alters what the object
	// does, beyond the move itself.
	Code schema.Code
}

func (c Change) String() string {
	s := fmt.Sprintf("%s: %s (%s)", c.Addr, c.What, c.Reason)
	if c.Code != "" {
		s += " [" + string(c.Code) + "]"
	}
	return s
}

// Queue is a queue the federation drains from the old cluster.
type Queue struct {
	Vhost, Name string
	// OldType and NewType are its type on each cluster.
	OldType, NewType string
}

// Result is what Transform produces.
type Result struct {
	// Definitions are the new cluster's, without the federation: what it
	// holds once the migration is finished.
	Definitions *definitions.Document
	// Federation holds the upstreams and the policies that drain the old
	// queues; migrate finish removes them.
	Federation *definitions.Document
	Changes    []Change
	// Problems are what cannot be transformed (errors, E100–E109), and
	// what the new version refuses of the result.
	Problems schema.Diagnostics
	Queues   []Queue
}

// Desired is Definitions and Federation in one document: what migrate
// apply makes the new cluster hold.
func (r *Result) Desired() *definitions.Document {
	d := *r.Definitions
	d.Policies = append(slices.Clone(d.Policies), r.Federation.Policies...)
	d.Parameters = append(slices.Clone(d.Parameters), r.Federation.Parameters...)
	if d.Parameters == nil {
		d.Parameters = []*definitions.Parameter{}
	}
	return &d
}

// policy is a user or operator policy as matching needs it.
type policy struct {
	obj        definitions.Object // *Policy or the operator_policy *Parameter
	vhost      string
	name       string
	applyTo    string
	priority   int64
	pattern    *regexp2.Regexp
	definition map[string]any
}

// Transform turns the old cluster's definitions into the new cluster's
// (see the package comment). old is not modified.
func Transform(old *definitions.Document, opts Options) *Result {
	t := &transformer{opts: opts, res: &Result{}}
	t.run(old)
	old.Resolve(t.res.Problems)
	slices.SortFunc(t.res.Queues, func(a, b Queue) int {
		return cmp.Or(strings.Compare(a.Vhost, b.Vhost), strings.Compare(a.Name, b.Name))
	})
	slices.SortStableFunc(t.res.Changes, func(a, b Change) int { return strings.Compare(a.Addr, b.Addr) })
	t.res.Problems.Sort()
	return t.res
}

type transformer struct {
	opts Options
	res  *Result
}

func (t *transformer) change(o definitions.Object, code schema.Code, what, why string, args ...any) {
	t.res.Changes = append(t.res.Changes, Change{Addr: o.Addr(), What: what, Reason: fmt.Sprintf(why, args...), Code: code})
}

func (t *transformer) problem(o definitions.Object, field string, code schema.Code, format string, args ...any) {
	loc := definitions.Location(o)
	if field != "" && loc.Pointer != "" {
		loc.Pointer += "/" + field
	}
	msg := fmt.Sprintf(format, args...)
	if loc.File == "" {
		msg = o.Addr() + ": " + msg
	}
	t.res.Problems = append(t.res.Problems, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer,
		Severity: schema.Error, Code: code, Message: msg})
}

// stays reports whether o is not moved (Options.NotMoved), and says so.
func (t *transformer) stays(o definitions.Object) bool {
	if t.opts.NotMoved == nil {
		return false
	}
	why := t.opts.NotMoved(o)
	if why != "" {
		t.change(o, "", "not moved", "%s", why)
	}
	return why != ""
}

func (t *transformer) run(old *definitions.Document) {
	nd := &definitions.Document{
		Users: copyAll(old.Users, func(u definitions.User) *definitions.User {
			u.Meta, u.Tags = fresh(u.Meta), slices.Clone(u.Tags)
			u.Limits = maps.Clone(u.Limits)
			return &u
		}),
		Vhosts: copyAll(old.Vhosts, func(v definitions.Vhost) *definitions.Vhost {
			v.Meta, v.Metadata = fresh(v.Meta), maps.Clone(v.Metadata)
			return &v
		}),
		Permissions:      copyAll(old.Permissions, func(p definitions.Permission) *definitions.Permission { p.Meta = fresh(p.Meta); return &p }),
		TopicPermissions: copyAll(old.TopicPermissions, func(p definitions.TopicPermission) *definitions.TopicPermission { p.Meta = fresh(p.Meta); return &p }),
		GlobalParameters: copyAll(old.GlobalParameters, func(p definitions.GlobalParameter) *definitions.GlobalParameter { p.Meta = fresh(p.Meta); return &p }),
		Exchanges: copyAll(old.Exchanges, func(e definitions.Exchange) *definitions.Exchange {
			e.Meta = fresh(e.Meta) // Tables are never changed in place: sharing them is a copy
			return &e
		}),
		Bindings: copyAll(old.Bindings, func(b definitions.Binding) *definitions.Binding {
			b.Meta = fresh(b.Meta)
			return &b
		}),
	}
	t.res.Definitions = nd
	nd.Users = slices.DeleteFunc(nd.Users, func(u *definitions.User) bool {
		if u.Name != t.opts.ActingUser {
			return false
		}
		t.change(u, "", "not moved", "warren logs in to the new cluster as this user: the new cluster's keeps its password (its permissions are moved)")
		return true
	})
	notMoved := map[string]bool{}
	nd.Users = slices.DeleteFunc(nd.Users, func(u *definitions.User) bool {
		if defaultGuest(u) {
			t.change(u, schema.WMigrateDefaultGuest, "not moved, nor its permissions", "its password is RabbitMQ's default, guest: a well-known password is not brought to the new cluster")
			notMoved[u.Name] = true
			return true
		}
		if slices.Contains(u.Tags, "administrator") {
			t.change(u, schema.WMigrateAdministrator, "moved as an administrator", "it keeps its tag and password hash: whoever knows its password can change everything on the new cluster")
		}
		return false
	})
	nd.Permissions = slices.DeleteFunc(nd.Permissions, func(p *definitions.Permission) bool { return notMoved[p.User] })
	nd.TopicPermissions = slices.DeleteFunc(nd.TopicPermissions, func(p *definitions.TopicPermission) bool { return notMoved[p.User] })
	nd.Users = slices.DeleteFunc(nd.Users, func(u *definitions.User) bool { return t.stays(u) })
	nd.Permissions = slices.DeleteFunc(nd.Permissions, func(p *definitions.Permission) bool { return t.stays(p) })
	nd.TopicPermissions = slices.DeleteFunc(nd.TopicPermissions, func(p *definitions.TopicPermission) bool { return t.stays(p) })
	t.res.Federation = &definitions.Document{Parameters: []*definitions.Parameter{}, Policies: []*definitions.Policy{}}

	userPolicies, operatorPolicies := t.policies(old)
	vhostTypes := definitions.VhostQueueTypes(old)

	// Queues: mirrored classic queues become quorum queues.
	converted := map[string]int{}         // vhost → queues converted
	plainClassic := map[string][]string{} // vhost → durable classic queues left classic
	var oldQueues []*definitions.Queue
	if old.Queues != nil {
		nd.Queues = []*definitions.Queue{}
	}
	for _, q := range old.Queues {
		oldQueues = append(oldQueues, q)
		nq := *q
		nq.Meta = fresh(q.Meta)
		oldType := definitions.QueueTypeIn(q, vhostTypes[q.Vhost])
		nq.Type = oldType
		durable := q.Durable == nil || *q.Durable
		autoDelete := q.AutoDelete != nil && *q.AutoDelete
		up := effective(userPolicies, q.Vhost, q.Name, oldType)
		op := effective(operatorPolicies, q.Vhost, q.Name, oldType)
		if other := tiedMirroring(userPolicies, up, q.Vhost, q.Name, oldType); other != nil && oldType == "classic" {
			what := "taken as mirrored, as policy %q says"
			if up.definition["ha-mode"] == nil {
				what = "taken as not mirrored, as policy %q says"
			}
			t.change(q, schema.WMigratePolicyTie, fmt.Sprintf(what, up.name),
				"policies %q and %q match it at priority %d and only one mirrors: RabbitMQ applies either (which is undefined); warren took the first by name. Give them different priorities on the old cluster and plan again", up.name, other.name, up.priority)
		}
		var mirror *policy
		for _, p := range []*policy{up, op} {
			if p != nil && p.definition["ha-mode"] != nil {
				mirror = p
				break
			}
		}
		switch {
		case oldType == "classic" && mirror != nil:
			kind := "policy"
			if _, isParam := mirror.obj.(*definitions.Parameter); isParam {
				kind = "operator policy"
			}
			if !durable {
				t.problem(q, "durable", schema.EMigrateTransient, "is mirrored by %s %q, and a mirrored queue becomes a quorum queue, which must be durable: make it durable on the old cluster (declare it again), or keep it out of the mirroring policy's pattern", kind, mirror.name)
				continue
			}
			if autoDelete {
				t.problem(q, "auto_delete", schema.EMigrateAutoDelete, "is mirrored by %s %q, and a mirrored queue becomes a quorum queue, which cannot be auto-delete: declare it without auto-delete (x-expires removes an unused queue), or keep it out of the mirroring policy's pattern", kind, mirror.name)
				continue
			}
			nq.Type = "quorum"
			nq.Durable = ptr(true)
			t.change(q, "", "classic → quorum", "mirrored by %s %q (ha-mode %v); RabbitMQ 4 has no classic queue mirroring, quorum queues replicate", kind, mirror.name, mirror.definition["ha-mode"])
			converted[q.Vhost]++
		case oldType == "classic" && durable && !autoDelete:
			plainClassic[q.Vhost] = append(plainClassic[q.Vhost], q.Name)
		}
		from := q.Arguments
		if nq.Type == "quorum" {
			// A queue that is or becomes a quorum queue gets its arguments
			// as export's prepare_for_quorum_queue_migration gives them.
			var changes []definitions.ArgumentChange
			from, changes = definitions.QuorumArguments(q.Arguments)
			t.argumentChanges(q, changes)
		}
		args := from.Map()
		t.queueArguments(q, from, nq.Type, args)
		nq.Arguments = definitions.TableOf(args)
		nd.Queues = append(nd.Queues, &nq)
		if nq.Type == "stream" {
			t.change(q, schema.WMigrateNotDrained, "not federated", "queue federation does not move a stream's messages: consumers read the old stream until it is no longer needed")
			continue
		}
		t.res.Queues = append(t.res.Queues, Queue{Vhost: q.Vhost, Name: q.Name, OldType: oldType, NewType: nq.Type})
	}

	// Policies: the keys the new version refuses go.
	if old.Policies != nil {
		nd.Policies = []*definitions.Policy{}
	}
	for _, p := range old.Policies {
		if t.stays(p) {
			continue
		}
		np := *p
		np.Meta = fresh(p.Meta)
		var dropped []string
		np.Definition, dropped = t.policyDefinition(p, p.Definition, false)
		if t.dropped(p, np.Definition, dropped) {
			continue
		}
		nd.Policies = append(nd.Policies, &np)
	}
	if old.Parameters != nil {
		nd.Parameters = []*definitions.Parameter{}
	}
	for _, p := range old.Parameters {
		if t.stays(p) {
			continue
		}
		np := *p
		np.Meta = fresh(p.Meta)
		if v, ok := p.Value.(map[string]any); ok && p.Component == definitions.ComponentOperatorPolicy {
			v = maps.Clone(v)
			def, _ := v["definition"].(map[string]any)
			def, dropped := t.policyDefinition(p, def, true)
			if t.dropped(p, def, dropped) {
				continue
			}
			v["definition"] = def
			np.Value = v
		}
		nd.Parameters = append(nd.Parameters, &np)
	}
	newPolicies, _ := t.policies(&definitions.Document{Policies: nd.Policies})

	// A queue whose policy changes: the one that applies now is reported.
	for _, q := range oldQueues {
		nq := find(nd.Queues, q.Key())
		if nq == nil {
			continue
		}
		before := effective(userPolicies, q.Vhost, q.Name, definitions.QueueTypeIn(q, vhostTypes[q.Vhost]))
		after := effective(newPolicies, q.Vhost, q.Name, nq.Type)
		if name(before) != name(after) && definitions.CanonicalJSON(withoutHA(before)) != definitions.CanonicalJSON(withoutHA(after)) {
			t.change(q, schema.WMigratePolicyChanged, fmt.Sprintf("policy %s → %s", orNone(name(before)), orNone(name(after))),
				"on a %s queue, with the keys RabbitMQ %s refuses gone, another policy applies; check that its keys suit the queue", nq.Type, t.opts.Version)
		}
	}

	// Vhosts whose durable queues were all mirrored default to quorum.
	for _, v := range nd.Vhosts {
		if converted[v.Name] == 0 {
			continue
		}
		if left := plainClassic[v.Name]; len(left) > 0 {
			t.change(v, "", "default queue type left as it is", "classic queues that were not mirrored remain: %s", strings.Join(left, ", "))
			continue
		}
		if vhostTypes[v.Name] == "quorum" && v.DefaultQueueType != "" {
			continue
		}
		v.DefaultQueueType = "quorum"
		if v.Metadata == nil {
			v.Metadata = map[string]any{}
		}
		v.Metadata["default_queue_type"] = "quorum"
		t.change(v, "", "default queue type → quorum", "every durable classic queue here was mirrored: a client that declares a queue without a type gets a replicated one, as before")
	}

	t.federation(nd, newPolicies)
	t.validate()
}

// argumentChanges reports what QuorumArguments changed in a queue's
// arguments.
func (t *transformer) argumentChanges(q *definitions.Queue, changes []definitions.ArgumentChange) {
	for _, c := range changes {
		var code schema.Code
		if c.Behaviour {
			code = schema.WMigrateBehaviour
		}
		what := fmt.Sprintf("argument %s %v dropped", c.Name, c.Value)
		switch {
		case c.NewName == c.Name:
			what = fmt.Sprintf("argument %s %v → %v", c.Name, c.Value, c.NewValue)
		case c.NewName != "":
			what = fmt.Sprintf("argument %s %v → %s %v", c.Name, c.Value, c.NewName, c.NewValue)
		}
		t.change(q, code, what, "%s", c.Reason)
	}
}

// queueArguments drops or translates, in args (the new queue's arguments,
// from the Table from), the arguments the queue's new type (newType) or the
// new version refuses. A quorum queue's arguments have been through
// definitions.QuorumArguments already. Changes and problems are reported
// on q, the old queue.
func (t *transformer) queueArguments(q *definitions.Queue, from definitions.Table, newType string, args map[string]any) {
	if _, ok := args["x-queue-type"]; ok {
		args["x-queue-type"] = newType
	}
	for name, v := range from.All() {
		switch {
		case name == "x-queue-type":
		case name == "x-queue-master-locator":
			if _, refused := definitions.QueueArgumentRefusedBy(name, t.opts.Version); !refused {
				continue
			}
			delete(args, name)
			loc := definitions.LeaderLocator(v)
			args["x-queue-leader-locator"] = loc
			t.change(q, "", fmt.Sprintf("argument x-queue-master-locator %v → x-queue-leader-locator %s", v, loc), "the leader locator is its successor")
		default:
			if types, known := definitions.QueueArgumentTypes(name); known && types != nil && !slices.Contains(types, newType) {
				delete(args, name)
				t.change(q, schema.WMigrateBehaviour, fmt.Sprintf("argument %s %v dropped", name, v), "%s queues refuse it", newType)
				continue
			}
			if r, refused := definitions.QueueArgumentRefusedBy(name, t.opts.Version); refused {
				if name == "x-queue-mode" {
					delete(args, name)
					t.change(q, "", fmt.Sprintf("argument %s %v dropped", name, v), "RabbitMQ %s refuses it and classic queues v2 page messages out by themselves [%s]", t.opts.Version, r.ID)
					continue
				}
				t.problem(q, "arguments/"+schema.EscapePointerToken(name), schema.EMigrateNoEquivalent, "argument %s: RabbitMQ %s refuses it and warren knows no equivalent: %s [%s]", name, t.opts.Version, r.Fix, r.ID)
			}
			if n, ok := v.(json.Number); ok && name == "x-queue-version" && n == "1" && definitions.Rule(definitions.RuleQueueVersion1).AppliesTo(t.opts.Version) {
				delete(args, name)
				t.change(q, "", "argument x-queue-version 1 dropped", "RabbitMQ %s has only version 2", t.opts.Version)
			}
		}
	}
}

// policyDefinition is a policy's definition without the keys the new
// version refuses: ha-* go (mirrored queues become quorum queues),
// queue-master-locator becomes queue-leader-locator, anything else
// refused is a problem.
func (t *transformer) policyDefinition(o definitions.Object, def map[string]any, operator bool) (_ map[string]any, dropped []string) {
	out := map[string]any{}
	field := "definition/"
	if operator {
		field = "value/definition/"
	}
	for _, k := range slices.Sorted(maps.Keys(def)) {
		v := def[k]
		r, refused := definitions.PolicyKeyRefusedBy(k, t.opts.Version, operator)
		switch {
		case !refused:
			out[k] = v
		case definitions.MirroringKey(k):
			dropped = append(dropped, k)
		case k == "queue-master-locator" && !operator:
			loc := definitions.LeaderLocator(v)
			out["queue-leader-locator"] = loc
			t.change(o, "", fmt.Sprintf("key queue-master-locator %v → queue-leader-locator %s", v, loc), "RabbitMQ %s refuses the former [%s]", t.opts.Version, r.ID)
		default:
			t.problem(o, field+schema.EscapePointerToken(k), schema.EMigrateNoEquivalent, "key %s: RabbitMQ %s refuses it and warren knows no equivalent: %s [%s]", k, t.opts.Version, r.Fix, r.ID)
		}
	}
	return out, dropped
}

// dropped reports the mirroring keys a policy lost, and whether the whole
// policy goes (nothing left: RabbitMQ refuses an empty definition).
func (t *transformer) dropped(o definitions.Object, def map[string]any, keys []string) bool {
	if len(def) == 0 {
		t.change(o, "", "dropped", "it held only %s, and RabbitMQ %s has no classic queue mirroring; the queues it matched fall to the next policy", strings.Join(keys, ", "), t.opts.Version)
		return true
	}
	if len(keys) > 0 {
		t.change(o, "", "keys "+strings.Join(keys, ", ")+" dropped", "RabbitMQ %s has no classic queue mirroring; the queues they mirrored become quorum queues", t.opts.Version)
	}
	return false
}

// withoutHA is a policy's definition without the mirroring keys: what it
// does besides mirroring.
func withoutHA(p *policy) map[string]any {
	out := map[string]any{}
	if p != nil {
		for k, v := range p.definition {
			if !definitions.MirroringKey(k) {
				out[k] = v
			}
		}
	}
	return out
}

// federation adds, per vhost with queues to drain, the upstream and the
// policies that federate them. Only one policy applies to a queue, the
// highest priority's: a federation policy names its queues exactly, has a
// priority above every policy of the vhost, and carries the queue keys of
// the policy it shadows, so nothing else about the queues changes while
// they drain; when it goes (migrate finish), that policy applies again.
func (t *transformer) federation(nd *definitions.Document, policies []*policy) {
	byVhost := map[string][]Queue{}
	for _, q := range t.res.Queues {
		byVhost[q.Vhost] = append(byVhost[q.Vhost], q)
	}
	vhosts := slices.Sorted(maps.Keys(byVhost))
	if len(vhosts) > 1 && !t.opts.Upstream.PerVhost() {
		t.res.Problems = append(t.res.Problems, schema.Diagnostic{Severity: schema.Error, Code: schema.EMigrateUpstream,
			Message: fmt.Sprintf("queues in %d vhosts (%s) are to be drained and each vhost's upstream needs its own URI (the path names the old vhost): put {vhost} in the upstream's env:NAME or file:PATH", len(vhosts), strings.Join(vhosts, ", "))})
	}
	// {vhost} stands for a slug: two vhosts with one slug would read the
	// same URI, and one of them would drain the other's old vhost.
	bySlug := map[string]string{}
	for _, vhost := range vhosts {
		if t.opts.Upstream.Literal != "" || !t.opts.Upstream.PerVhost() {
			break
		}
		ref := "file:" + fmt.Sprint(t.opts.Upstream.For(vhost).(map[string]any)["file"])
		if t.opts.Upstream.Env != "" {
			ref = "env:" + fmt.Sprint(t.opts.Upstream.For(vhost).(map[string]any)["env"])
		}
		if other, dup := bySlug[ref]; dup {
			t.res.Problems = append(t.res.Problems, schema.Diagnostic{Severity: schema.Error, Code: schema.EMigrateUpstream,
				Message: fmt.Sprintf("vhosts %q and %q would read their upstream's URI from the same place (%s): {vhost} is a slug and cannot tell them apart; give amqp[s]://[user@]host[:port] without a password instead", other, vhost, ref)})
		}
		bySlug[ref] = vhost
	}
	staying := t.staying(nd)
	for _, vhost := range vhosts {
		queues := byVhost[vhost]
		up := &definitions.Parameter{Vhost: vhost, Component: definitions.ComponentFederationUpstream, Name: UpstreamName,
			Value: map[string]any{"uri": t.opts.Upstream.For(vhost), "ack-mode": "on-confirm"}}
		t.res.Federation.Parameters = append(t.res.Federation.Parameters, up)
		top := max(0, t.opts.MinPriority-1)
		for _, p := range policies {
			if p.vhost == vhost {
				top = max(top, p.priority)
			}
		}
		for _, p := range staying[vhost] {
			if p.pattern == nil || slices.ContainsFunc(queues, func(q Queue) bool {
				ok, _ := p.pattern.MatchString(q.Name)
				return ok && definitions.PolicyReachesQueue(p.applyTo, q.NewType)
			}) {
				top = max(top, p.priority)
			}
		}
		groups := map[string][]string{}
		for _, q := range queues {
			p := effective(policies, vhost, q.Name, q.NewType)
			groups[name(p)] = append(groups[name(p)], q.Name)
		}
		for _, shadowed := range slices.Sorted(maps.Keys(groups)) {
			names := groups[shadowed]
			quoted := make([]string, len(names))
			for i, n := range names {
				quoted[i] = regexp.QuoteMeta(n)
			}
			fp := &definitions.Policy{Vhost: vhost, Name: PolicyPrefix, Pattern: "^(" + strings.Join(quoted, "|") + ")$",
				ApplyTo: "queues", Priority: ptr(top + 1), Definition: map[string]any{"federation-upstream": UpstreamName}}
			why := "no policy applies to them"
			if shadowed != "" {
				fp.Name += "." + shadowed
				var carried []string
				for _, p := range policies {
					if p.vhost != vhost || p.name != shadowed {
						continue
					}
					for k, v := range p.definition {
						if types, _, known := definitions.PolicyKeyTargets(k); known && len(types) == 0 {
							continue // an exchange key: the federation policy applies to queues only
						}
						fp.Definition[k] = v
						carried = append(carried, k)
					}
				}
				slices.Sort(carried)
				why = fmt.Sprintf("it shadows policy %q and carries its keys (%s): only one policy applies to a queue", shadowed, strings.Join(carried, ", "))
				if len(carried) == 0 {
					why = fmt.Sprintf("it shadows policy %q, whose keys are all for exchanges: only one policy applies to a queue", shadowed)
				}
			}
			t.res.Federation.Policies = append(t.res.Federation.Policies, fp)
			t.res.Changes = append(t.res.Changes, Change{Addr: fp.Addr(), What: "added: federates " + strings.Join(names, ", ") + " from the old cluster", Reason: why})
		}
		t.res.Changes = append(t.res.Changes, Change{Addr: up.Addr(), What: "added: the old cluster's vhost " + vhost, Reason: "the federation drains the old queues into the new ones while consumers move; migrate finish removes it"})
	}
}

// validate checks the new cluster's definitions against the new
// version's rules: what it refuses is a problem, at its place in the
// document as migrate plan writes it.
func (t *transformer) validate() {
	doc, diags := definitions.Parse("(new cluster definitions)", t.res.Desired().EncodeJSON())
	if doc != nil {
		diags = append(diags, definitions.Check(doc, definitions.CheckOptions{RabbitMQVersion: t.opts.Version,
			Resolve: func(*definitions.Secret) (string, error) { return "", nil }})...)
	}
	for _, d := range diags {
		if d.Severity == schema.Error {
			t.res.Problems = append(t.res.Problems, d)
		}
	}
}

// staying are the new cluster's live policies that the migration leaves
// as they are, by vhost: not the old cluster's (which overwrite them), not
// the federation's own. A pattern that does not compile here has a nil
// pattern: it may match any queue.
func (t *transformer) staying(nd *definitions.Document) map[string][]*policy {
	moved := map[string]bool{}
	for _, d := range nd.Policies {
		moved[d.Key()] = true
	}
	out := map[string][]*policy{}
	for _, p := range t.opts.LivePolicies {
		if p.Name == PolicyPrefix || strings.HasPrefix(p.Name, PolicyPrefix+".") || moved[p.Key()] {
			continue
		}
		re, _ := regexp2.Compile(p.Pattern, regexp2.None)
		out[p.Vhost] = append(out[p.Vhost], &policy{obj: p, vhost: p.Vhost, name: p.Name, applyTo: p.ApplyTo, priority: deref(p.Priority), pattern: re, definition: p.Definition})
	}
	return out
}

// policies reads d's user policies and operator policies for matching.
// A pattern that does not compile is a problem: which queues it mirrors
// cannot be known.
func (t *transformer) policies(d *definitions.Document) (user, operator []*policy) {
	compile := func(o definitions.Object, field, pat string) *regexp2.Regexp {
		re, err := regexp2.Compile(pat, regexp2.None)
		if err != nil {
			t.problem(o, field, schema.EMigratePattern, "pattern %q does not compile, so which queues it matches cannot be told: %v", pat, err)
			return nil
		}
		return re
	}
	for _, p := range d.Policies {
		if re := compile(p, "pattern", p.Pattern); re != nil {
			user = append(user, &policy{obj: p, vhost: p.Vhost, name: p.Name, applyTo: p.ApplyTo, priority: deref(p.Priority), pattern: re, definition: p.Definition})
		}
	}
	for _, p := range d.Parameters {
		v, ok := p.Value.(map[string]any)
		if p.Component != definitions.ComponentOperatorPolicy || !ok {
			continue
		}
		pat, _ := v["pattern"].(string)
		at, _ := v["apply-to"].(string)
		def, _ := v["definition"].(map[string]any)
		prio, _ := v["priority"].(json.Number)
		if re := compile(p, "value/pattern", pat); re != nil {
			operator = append(operator, &policy{obj: p, vhost: p.Vhost, name: p.Name, applyTo: at, priority: number(prio), pattern: re, definition: def})
		}
	}
	return user, operator
}

// effective is the policy that applies to a queue: of those whose
// apply-to takes its type and whose pattern matches its name, the one of
// highest priority (then the first by name).
func effective(policies []*policy, vhost, queue, queueType string) *policy {
	var best *policy
	for _, p := range policies {
		if p.vhost != vhost || !definitions.PolicyReachesQueue(p.applyTo, queueType) {
			continue
		}
		if ok, _ := p.pattern.MatchString(queue); !ok {
			continue
		}
		if best == nil || p.priority > best.priority || p.priority == best.priority && p.name < best.name {
			best = p
		}
	}
	return best
}

// tiedMirroring is a policy other than best that matches the queue at
// best's priority and disagrees with it about mirroring (ha-mode): which
// of the two RabbitMQ applies is undefined.
func tiedMirroring(policies []*policy, best *policy, vhost, queue, queueType string) *policy {
	if best == nil {
		return nil
	}
	for _, p := range policies {
		if p == best || p.vhost != vhost || p.priority != best.priority || !definitions.PolicyReachesQueue(p.applyTo, queueType) ||
			(p.definition["ha-mode"] != nil) == (best.definition["ha-mode"] != nil) {
			continue
		}
		if ok, _ := p.pattern.MatchString(queue); ok {
			return p
		}
	}
	return nil
}

func name(p *policy) string {
	if p == nil {
		return ""
	}
	return p.name
}

func orNone(s string) string { return cmp.Or(s, "(none)") }

func find(qs []*definitions.Queue, key string) *definitions.Queue {
	for _, q := range qs {
		if q.Key() == key {
			return q
		}
	}
	return nil
}

// copyAll copies each object (f gets a copy to adjust, and drops where it
// was read from with fresh: the new definitions are not in the old
// files). A nil list stays nil (the kind is not managed).
func copyAll[T any, P interface {
	*T
	definitions.Object
}](s []P, f func(T) P) []P {
	if s == nil {
		return nil
	}
	out := make([]P, len(s))
	for i, o := range s {
		c := f(*o)
		out[i] = c
	}
	return out
}

func fresh(m definitions.Meta) definitions.Meta { return definitions.Meta{Extra: m.Extra} }

func ptr[T any](v T) *T { return &v }

func number(n json.Number) int64 {
	i, _ := n.Int64()
	return i
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// defaultGuest reports whether a user is guest with RabbitMQ's default
// password: its hash checks against "guest" (with the hash's algorithm, or
// any RabbitMQ ships when it names none), or its password is "guest".
func defaultGuest(u *definitions.User) bool {
	if u.Name != "guest" {
		return false
	}
	if u.Password != nil && u.Password.Literal != nil && *u.Password.Literal == "guest" {
		return true
	}
	if u.PasswordHash == nil || *u.PasswordHash == "" {
		return false
	}
	algs := []string{u.HashingAlgorithm}
	if u.HashingAlgorithm == "" {
		algs = definitions.HashAlgorithms
	}
	for _, alg := range algs {
		if definitions.PasswordMatches(*u.PasswordHash, alg, "guest") {
			return true
		}
	}
	return false
}
