package definitions

import (
	"maps"
	"slices"
	"unsafe"
)

// The one table of defaults: what the broker fills in when a field is
// absent. Normalize applies it to both sides of a diff, so that a file that
// omits defaults shows no drift.
//
//	user        tags []; limits {}; hashing_algorithm sha256 (md5 for files
//	            older than RabbitMQ 3.6, as RabbitMQ reads them)
//	policy      apply-to all; priority 0; definition {}
//	queue       durable true; auto_delete false; arguments {};
//	            x-queue-type from "type", else the default queue type of
//	            the queue's vhost (the files' vhost, else the broker's) when
//	            a queue of that type can be durable and not auto-delete as
//	            this one is, else classic. RabbitMQ's channel and 4.x pick a
//	            type so for a queue declared without one; 3.10's import does
//	            not (it makes it classic), so warren always sends the type.
//	exchange    durable true; auto_delete false; internal false; arguments {}
//	binding     routing_key ""; arguments {}
//	vhost       description ""; tags []; default_queue_type unset; tracing
//	            false. RabbitMQ's import resets them so (even the "Default
//	            virtual host" description of /). RabbitMQ 3.9+ repeats them
//	            in metadata, read when the top-level field is absent;
//	            "undefined" and "classic" mean unset (unset is classic).
//	            metadata.protected_from_deletion becomes Protected; absent
//	            stays nil, and is not compared (the broker's protection is
//	            left as it is).
//
// RabbitMQ's own import fails on a queue without durable or auto_delete and
// on a user without tags; warren always sends them, so files need not.
const (
	defaultApplyTo   = "all"
	defaultQueueType = "classic"
)

// Normalize returns a copy of d with every default filled in, for
// comparing. d is not changed. An object that needs no default is shared
// with d, not copied (a diff of 41,200 objects held four copies of them
// before): a normalized object must not be changed (FillVhost copies what
// it changes).
func Normalize(d *Document) *Document { return NormalizeAgainst(d, nil) }

// NormalizeAgainst is Normalize where a queue whose vhost d does not define takes
// its default queue type from fallback (the broker's vhosts).
func NormalizeAgainst(d *Document, fallback map[string]string) *Document {
	return normalize(d, fallback, false)
}

// NormalizeShared is NormalizeAgainst for comparing, as plan.Diff does,
// without copying an object for defaults that compare the same filled or
// not: a user's absent limits stay nil (UserLimits reads them as {}), a
// queue keeps its type where its x-queue-type argument says the same (the
// type is not compared), and a queue that says neither keeps its
// arguments (QueueArguments gives them with the type). A broker's users and
// queues and a file's users and queues are then shared, not copied:
// 100,000 of each were 45 MB of copies in a diff. A list whose objects are
// all shared is d's own list: the caller changes neither (FillVhost copies
// what it changes). Filled gives an object as NormalizeAgainst does, and
// DigestNormalized digests either alike.
func NormalizeShared(d *Document, fallback map[string]string) *Document {
	return normalize(d, fallback, true)
}

// Filled returns an object of d, which NormalizeShared returned, as
// NormalizeAgainst gives it: a copy with the defaults NormalizeShared
// leaves out filled in, or o itself when there are none.
func (d *Document) Filled(o Object) Object {
	switch o := o.(type) {
	case *User:
		if o.Limits == nil {
			u := *o
			u.Limits = noLimits
			return &u
		}
	case *Queue:
		if args, typed := d.queueArguments(o); o.Type != "" || !typed {
			q := *o
			q.Type, q.Arguments = "", args
			return &q
		}
	}
	return o
}

// UserLimits is a normalized user's limits: {} (shared, read-only) for a
// user of a NormalizeShared document without limits.
func UserLimits(u *User) map[string]int64 {
	if u.Limits == nil {
		return noLimits
	}
	return u.Limits
}

// QueueArguments is the arguments of q, a queue of d, as NormalizeAgainst
// gives them: with x-queue-type.
func (d *Document) QueueArguments(q *Queue) Table {
	args, _ := d.queueArguments(q)
	return args
}

// queueArguments is QueueArguments, and whether q has them already.
func (d *Document) queueArguments(q *Queue) (Table, bool) {
	if _, ok := q.Arguments.Lookup("x-queue-type"); ok || d.queueTypes == nil {
		return q.Arguments, true
	}
	return d.queueTypes.arguments(q), false
}

// queueTyping types the queues of a NormalizeShared document that say no
// type, as normalizing does: by the default queue type of their vhost.
// Its memo holds the arguments of every such queue, made while
// normalizing: reading them changes nothing (DigestNormalized reads them
// on another goroutine).
type queueTyping struct {
	defaults, fallback map[string]string
	memo               map[queueArgsKey]Table
}

func (t *queueTyping) typeIn(q *Queue) string {
	dqt, ok := t.defaults[q.Vhost]
	if !ok {
		dqt = t.fallback[q.Vhost]
	}
	return QueueTypeIn(q, dqt)
}

func (t *queueTyping) arguments(q *Queue) Table {
	typ := t.typeIn(q)
	if args, ok := t.memo[queueArgsKey{unsafe.SliceData(q.Arguments), len(q.Arguments), typ}]; ok {
		return args
	}
	return q.Arguments.With("x-queue-type", typ)
}

func normalize(d *Document, fallback map[string]string, shared bool) *Document {
	out := *d
	out.Permissions = slices.Clone(d.Permissions)
	out.TopicPermissions = slices.Clone(d.TopicPermissions)
	out.Parameters = slices.Clone(d.Parameters)
	// A node's own global parameters are never compared: a node keeps
	// its internal_cluster_id whatever an import says (4.3.6 does; 3.10.8
	// took the file's), and the hash of its boot-time definitions.
	out.GlobalParameters = slices.DeleteFunc(slices.Clone(d.GlobalParameters), func(g *GlobalParameter) bool {
		return NodeSpecificGlobal(g.Name)
	})
	out.Users = mapSlice(d.Users, func(u *User) *User { return normalizeUser(u, shared) }, shared)
	out.Vhosts = mapSlice(d.Vhosts, normalizeVhost, false)
	out.Policies = mapSlice(d.Policies, normalizePolicy, shared)
	typing := &queueTyping{defaults: VhostQueueTypes(d), fallback: fallback, memo: map[queueArgsKey]Table{}}
	out.Queues = mapSlice(d.Queues, func(q *Queue) *Queue {
		return normalizeQueue(q, typing.typeIn(q), typing.memo, shared)
	}, shared)
	if shared {
		out.queueTypes = typing
	}
	out.Exchanges = mapSlice(d.Exchanges, normalizeExchange, shared)
	out.Bindings = mapSlice(d.Bindings, normalizeBinding, shared)
	return &out
}

// mapSlice is f of each of s's objects, in a new list; with shared, s
// itself when f returns every object as it is.
func mapSlice[T any](s []*T, f func(*T) *T, shared bool) []*T {
	if s == nil {
		return nil
	}
	var out []*T
	for i, o := range s {
		n := f(o)
		if out == nil {
			if shared && n == o {
				continue
			}
			out = make([]*T, len(s))
			copy(out, s[:i])
		}
		out[i] = n
	}
	if out == nil {
		return s
	}
	return out
}

// noLimits is the limits Normalize gives a user without: {}, shared.
var noLimits = map[string]int64{}

func normalizeUser(in *User, shared bool) *User {
	hashAlgorithm := in.PasswordHash != nil && in.HashingAlgorithm == ""
	if in.Tags != nil && (in.Limits != nil || shared) && !hashAlgorithm {
		return in
	}
	u := *in
	if u.Tags == nil {
		u.Tags = []string{}
	}
	if u.Limits == nil {
		u.Limits = noLimits // read-only, as every model map
	}
	if hashAlgorithm {
		u.HashingAlgorithm = HashSHA256
		if og := u.Origin; og.File != nil {
			u.HashingAlgorithm = DefaultHashAlgorithm(og.File.rabbitVersion)
		}
	}
	return &u
}

// VhostQueueTypes maps each vhost d defines to its default queue type
// ("" for classic, RabbitMQ's own default). A per-vhost export gives it at
// its top level, for the objects that name no vhost.
func VhostQueueTypes(d *Document) map[string]string {
	out := make(map[string]string, len(d.Vhosts)+1)
	for _, v := range d.Vhosts {
		out[v.Name] = vhostQueueType(v.DefaultQueueType, v.Metadata)
	}
	if d.PerVhost() {
		dqt, _ := d.Extra["default_queue_type"].(string)
		md, _ := d.Extra["metadata"].(map[string]any)
		out[""] = vhostQueueType(dqt, md)
		if d.OriginalVhostName != "" {
			out[d.OriginalVhostName] = out[""]
		}
	}
	return out
}

// vhostQueueType reads a vhost's default queue type: the top-level field,
// else metadata's; "undefined" and "classic" mean unset.
func vhostQueueType(top string, metadata map[string]any) string {
	if top == "" {
		top, _ = metadata["default_queue_type"].(string)
	}
	if top == "undefined" || top == defaultQueueType {
		return ""
	}
	return top
}

// QueueTypeIn returns the type a queue gets in a vhost whose default queue
// type is vhostDefault: its own (type or x-queue-type), else the vhost's
// default when that type allows the queue's durability and auto-delete
// (quorum queues and streams are durable and not auto-delete), else
// classic. This is what RabbitMQ does for a queue declared without a type.
func QueueTypeIn(q *Queue, vhostDefault string) string {
	if t, ok := q.Arguments.Get("x-queue-type").(string); ok && t != "" {
		return t
	}
	if q.Type != "" {
		return q.Type
	}
	durable := q.Durable == nil || *q.Durable
	autoDelete := q.AutoDelete != nil && *q.AutoDelete
	if vhostDefault == "" || !typeAllows(vhostDefault, durable, autoDelete) {
		return defaultQueueType
	}
	return vhostDefault
}

// NodeSpecificGlobal reports whether a global parameter belongs to the
// node that has it (Normalize leaves it out).
func NodeSpecificGlobal(name string) bool {
	return name == "internal_cluster_id" || name == "imported_definition_hash_value"
}

func normalizeVhost(in *Vhost) *Vhost {
	v := *in
	// Limits inside a vhost are compared as the vhost-limits parameters
	// they stand for (plan.Diff adds those), not as a vhost's field: 4.3's
	// GET /api/definitions writes every vhost's limits inside it too.
	if _, ok := v.Extra["limits"]; ok {
		v.Extra = maps.Clone(v.Extra)
		delete(v.Extra, "limits")
		if len(v.Extra) == 0 {
			v.Extra = nil
		}
	}
	if v.Description == nil {
		if s, ok := v.Metadata["description"].(string); ok {
			v.Description = &s
		}
	}
	if v.Tags == nil {
		v.Tags = tags(v.Metadata, "tags")
	}
	v.DefaultQueueType = vhostQueueType(v.DefaultQueueType, v.Metadata) // unset means classic
	if v.Description == nil {
		v.Description = new(string)
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	v.Tracing = orFalse(v.Tracing)
	if v.Protected == nil {
		if p, ok := v.Metadata["protected_from_deletion"].(bool); ok {
			v.Protected = &p
		}
	}
	v.Metadata = nil // folded into the fields above
	return &v
}

func normalizePolicy(in *Policy) *Policy {
	if in.ApplyTo != "" && in.Priority != nil && in.Definition != nil {
		return in
	}
	p := *in
	if p.ApplyTo == "" {
		p.ApplyTo = defaultApplyTo
	}
	if p.Priority == nil {
		zero := int64(0)
		p.Priority = &zero
	}
	if p.Definition == nil {
		p.Definition = map[string]any{}
	}
	return &p
}

// queueArgsKey identifies a queue's arguments (by the address and length
// of their fields: a broker's listing shares one Table between equal
// queues, and every empty Table has the same address) with the type
// normalizing adds to them, so that equal queues share one normalized
// Table too.
type queueArgsKey struct {
	fields *Field
	n      int
	typ    string
}

func normalizeQueue(in *Queue, vhostDefault string, memo map[queueArgsKey]Table, shared bool) *Queue {
	typ := QueueTypeIn(in, vhostDefault)
	if in.Durable != nil && in.AutoDelete != nil && (in.Type == "" || shared && in.Type == typ) {
		if t, ok := in.Arguments.Get("x-queue-type").(string); ok && t == typ {
			return in
		}
	}
	k := queueArgsKey{unsafe.SliceData(in.Arguments), len(in.Arguments), typ}
	args, ok := memo[k]
	if !ok {
		args = in.Arguments.With("x-queue-type", typ)
		memo[k] = args
	}
	if shared && in.Durable != nil && in.AutoDelete != nil && in.Type == "" {
		if _, ok := in.Arguments.Lookup("x-queue-type"); !ok {
			return in // typed by the document's queueTypes
		}
	}
	q := *in
	q.Durable = orTrue(q.Durable)
	q.AutoDelete = orFalse(q.AutoDelete)
	q.Arguments, q.Type = args, ""
	return &q
}

func normalizeExchange(in *Exchange) *Exchange {
	if in.Durable != nil && in.AutoDelete != nil && in.Internal != nil && in.Arguments != nil {
		return in
	}
	e := *in
	e.Durable = orTrue(e.Durable)
	e.AutoDelete = orFalse(e.AutoDelete)
	e.Internal = orFalse(e.Internal)
	if e.Arguments == nil {
		e.Arguments = Table{}
	}
	return &e
}

func normalizeBinding(in *Binding) *Binding {
	if in.Arguments != nil {
		return in
	}
	b := *in
	b.Arguments = Table{}
	return &b
}

func orTrue(b *bool) *bool {
	if b == nil {
		t := true
		return &t
	}
	return b
}

func orFalse(b *bool) *bool {
	if b == nil {
		f := false
		return &f
	}
	return b
}
