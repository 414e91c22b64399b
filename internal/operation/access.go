package operation

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders"
)

// AccessKinds are the kinds an access question reads.
var AccessKinds = []definitions.Kind{definitions.KindUser, definitions.KindVhost, definitions.KindPermission,
	definitions.KindTopicPermission, definitions.KindQueue, definitions.KindExchange}

// AccessRequest asks who can do what: on the files (Desired) or on what a
// target (a live broker, an export) has.
type AccessRequest struct {
	// Desired are the files; when nil, Target is read.
	Desired *definitions.Document
	Target  seeders.Target
	// User and Vhost: what the user can do, in Vhost or in every vhost.
	User, Vhost string
	// Resource: who can do what to it. With User and Can: whether User may
	// do Can to it.
	Resource *access.Resource
	Can      access.Operation
	// RoutingKey is the routing key of a publish, the binding key of a
	// bind from a topic exchange; nil when not given.
	RoutingKey *string
	// Version is the RabbitMQ version whose rules apply; when "", the
	// target's (a live broker's, an export's rabbitmq_version).
	Version string
	// Audit asks for the least-privilege findings instead (Findings).
	Audit     bool
	AuditOpts access.AuditOptions
	// Where asks, with User, for the places in the files of the user's
	// permissions and topic permissions (AccessResult.Where).
	Where bool
}

// AccessResult answers an AccessRequest. Exactly one of Can, Vhosts and
// Users is set, by the question asked.
type AccessResult struct {
	Model *access.Model
	// Can is the verdict of User doing Can to Resource.
	Can *access.Verdict
	// Vhosts are what User can do, vhost by vhost.
	Vhosts []UserInVhost
	// Users are who can do what to Resource, user by user.
	Users []UserOnResource
	// Findings are the audit's, in order, each made a diagnostic as it is
	// read.
	Findings *access.Findings
	// Matrix is every user's access to every resource of Vhost (asked
	// with Vhost alone).
	Matrix *Matrix
	// NoEntry are, for Users and Matrix, the users with no permission in
	// NoEntryVhost, who cannot connect to it: named once, not resource by
	// resource.
	NoEntry      []string
	NoEntryVhost string
	// Where are, when asked (AccessRequest.Where), the places of the
	// permissions and topic permissions in Vhosts that came from files.
	Where map[definitions.Object]schema.Location
}

// Matrix is users by resources in one vhost. Each cell is three
// characters, for configure (declare, delete), write (publish to an
// exchange, bind to a queue) and read (consume from a queue, bind from an
// exchange): c, w or r when
// allowed, - when denied, k when a topic permission decides by routing
// key, ? when unknown. Users with no permission in the vhost are not
// rows: AccessResult.NoEntry names them.
type Matrix struct {
	Vhost     string
	Users     []string
	Resources []access.Resource
	Cells     [][]string // by user, then resource
}

// UserInVhost is what a user can do in a vhost.
type UserInVhost struct {
	Vhost string
	// Permission is nil when the user has none there: it cannot connect.
	Permission *definitions.Permission
	Topic      []*definitions.TopicPermission
	// Verdicts are, for every queue and exchange of the vhost, one per
	// operation that applies to it.
	Verdicts []access.Verdict
}

// UserOnResource is what a user can do to a resource: one verdict per
// operation that applies to it.
type UserOnResource struct {
	User     string
	Verdicts []access.Verdict
}

// Access answers an access question. It changes nothing.
func Access(ctx context.Context, ui UI, req AccessRequest) (*AccessResult, error) {
	doc := req.Desired
	if doc == nil {
		if req.Target == nil {
			return nil, errors.New("access: no files and no broker to read")
		}
		var err error
		if doc, err = req.Target.Read(ctx, AccessKinds); err != nil {
			return nil, err
		}
		if v, ok := req.Target.(seeders.Versioned); ok && req.Version == "" {
			if req.Version, err = v.Version(ctx); err != nil {
				return nil, err
			}
		}
	}
	if req.Version == "" {
		req.Version = doc.RabbitMQVersion
	}
	// What loading left to collect goes first, and its pages back to the
	// system: the answer's allocations then start from the document
	// alone, and the peak stays the load's (runtime.GC kept the freed
	// pages, and --user on make bench's file peaked 2 MB above validate).
	// On files, this runs while the checks do (LoadValidWhile), on the
	// other core.
	debug.FreeOSMemory()
	m := access.New(doc, access.Options{Version: req.Version})
	res := &AccessResult{Model: m}
	switch {
	case req.Audit:
		res.Findings = m.Audit(req.AuditOpts)
	case req.Can != "":
		if req.User == "" || req.Resource == nil {
			return nil, errors.New("--can needs --user and a resource")
		}
		v := m.Can(req.User, req.Can, *req.Resource, req.RoutingKey)
		res.Can = &v
	case req.Resource != nil:
		res.Users, res.NoEntryVhost = []UserOnResource{}, req.Resource.Vhost
		// The users who cannot connect are kept in the list of users
		// itself, in its order, as the loop reads past them: no second
		// list of (on make bench's file) 9,900 of its 10,000 names.
		users := AccessUsers(doc)
		noEntry := users[:0]
		for _, u := range users {
			if req.User != "" && u != req.User {
				continue
			}
			if req.User == "" && m.Permission(u, req.Resource.Vhost) == nil {
				noEntry = append(noEntry, u)
				continue
			}
			res.Users = append(res.Users, UserOnResource{User: u, Verdicts: verdicts(m, u, *req.Resource, req.RoutingKey)})
		}
		if len(noEntry) > 0 {
			res.NoEntry = noEntry
		}
	case req.User != "":
		for _, v := range AccessVhosts(doc) {
			if req.Vhost != "" && v != req.Vhost {
				continue
			}
			res.Vhosts = append(res.Vhosts, UserInVhost{Vhost: v, Permission: m.Permission(req.User, v), Topic: m.TopicPermissions(req.User, v)})
		}
		if req.Vhost != "" && len(res.Vhosts) == 0 {
			res.Vhosts = append(res.Vhosts, UserInVhost{Vhost: req.Vhost, Permission: m.Permission(req.User, req.Vhost)})
		}
		if req.Where {
			// The places first, from one mapping of each file, unmapped
			// before the verdicts are made: the file's pages and the
			// verdicts are not in memory at once.
			var objs []definitions.Object
			for _, uv := range res.Vhosts {
				if uv.Permission != nil {
					objs = append(objs, uv.Permission)
				}
				for _, tp := range uv.Topic {
					objs = append(objs, tp)
				}
			}
			res.Where = places(objs)
		}
		for i := range res.Vhosts {
			uv := &res.Vhosts[i]
			if uv.Permission != nil {
				for _, r := range m.Resources(uv.Vhost) {
					uv.Verdicts = append(uv.Verdicts, verdicts(m, req.User, r, req.RoutingKey)...)
				}
			}
		}
	case req.Vhost != "":
		mx := &Matrix{Vhost: req.Vhost, Resources: m.Resources(req.Vhost)}
		res.NoEntryVhost = req.Vhost
		for _, u := range AccessUsers(doc) {
			if m.Permission(u, req.Vhost) == nil {
				res.NoEntry = append(res.NoEntry, u)
			} else {
				mx.Users = append(mx.Users, u)
			}
		}
		for _, u := range mx.Users {
			row := make([]string, len(mx.Resources))
			for i, r := range mx.Resources {
				row[i] = cell(m, u, r, req.RoutingKey)
			}
			mx.Cells = append(mx.Cells, row)
		}
		res.Matrix = mx
	default:
		return nil, errors.New("ask --user U, --resource queue:VHOST/NAME, --vhost V, or --user U --can OPERATION RESOURCE")
	}
	return res, nil
}

// places are where objects are in the files, found in one pass over each
// file.
func places(objs []definitions.Object) map[definitions.Object]schema.Location {
	var g definitions.Diagnoser
	g.Grow(len(objs))
	for _, o := range objs {
		g.AddMessage(o, 0, "", "")
	}
	out := make(map[definitions.Object]schema.Location, len(objs))
	for i, d := range g.Diagnostics() {
		out[objs[i]] = schema.Location{File: d.File, Pos: d.Pos, Pointer: d.Pointer}
	}
	return out
}

// cell is a Matrix cell: configure, write and read of user on r.
func cell(m *access.Model, user string, r access.Resource, key *string) string {
	ops := []access.Operation{access.Delete, access.BindDestination, access.Consume}
	if r.Kind == access.Exchange {
		// Writing to an exchange is publishing (a topic permission may
		// decide by routing key); reading from it is binding from it.
		ops = []access.Operation{access.Delete, access.Publish, access.BindSource}
	}
	var b []byte
	for i, op := range ops {
		switch m.Can(user, op, r, key).Result {
		case access.Allowed:
			b = append(b, "cwr"[i])
		case access.Depends:
			b = append(b, 'k')
		case access.Unknown:
			b = append(b, '?')
		default:
			b = append(b, '-')
		}
	}
	return string(b)
}

// verdicts are the user's verdicts on r, one per operation that applies.
func verdicts(m *access.Model, user string, r access.Resource, key *string) []access.Verdict {
	var out []access.Verdict
	for _, op := range access.Operations {
		if op.AppliesTo(r.Kind) {
			out = append(out, m.Can(user, op, r, key))
		}
	}
	return out
}

// AccessUsers are the users the document defines or gives permissions,
// sorted. The users' names are sorted (a copy: a file's are most often in
// order already) and a permission's user looked up among them: only those
// of permissions for users no file defines are added, not a name for
// every permission, and sorted again.
func AccessUsers(d *definitions.Document) []string {
	out := make([]string, len(d.Users))
	for i, u := range d.Users {
		out[i] = u.Name
	}
	if !slices.IsSorted(out) {
		slices.Sort(out)
	}
	out = slices.Compact(out)
	defined := len(out)
	for _, p := range d.Permissions {
		if _, ok := slices.BinarySearch(out[:defined], p.User); !ok {
			out = append(out, p.User)
		}
	}
	if len(out) > defined {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// AccessVhosts are the vhosts the document defines or gives permissions
// on, sorted. Each permission names its vhost: a set keeps the few names
// rather than a list of one per permission (10,000 in make bench's file).
func AccessVhosts(d *definitions.Document) []string {
	seen := make(map[string]bool, len(d.Vhosts))
	out := make([]string, 0, len(d.Vhosts))
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, v := range d.Vhosts {
		add(v.Name)
	}
	for _, p := range d.Permissions {
		add(p.Vhost)
	}
	slices.Sort(out)
	return out
}

// AccessChanges is what a plan changes in users' access (access.Compare):
// live is what the broker has before the plan, and the plan's changes to
// users, vhosts, permissions, topic permissions, queues and exchanges make
// what it has after. Deleting a user or a vhost takes its permissions and
// topic permissions with it, as the broker does. version is the broker's
// RabbitMQ version ("" when not known).
//
// Only the users and vhosts whose verdicts the plan may change are
// compared, with the queues and exchanges of their vhosts: a verdict reads
// nothing else (access.Compare), and a plan of 412 changed permissions on
// a broker of 41,200 objects copied and indexed every one of them, twice.
// A changed permission or topic permission brings its user on its vhost; a
// changed user, every vhost it has a permission on; a changed vhost or
// exchange, every user with a permission on the vhost. A changed queue
// brings nobody: defining a queue changes no permission.
func AccessChanges(live *definitions.Document, p *plan.Plan, version string) []access.Change {
	type pair struct{ vhost, user string }
	type named struct{ vhost, name string }
	type topicKey struct{ vhost, user, exchange string }
	// What the plan makes of each object it changes: nil when it deletes
	// it. The last change of a key wins (a grant borrowed, then taken back).
	var (
		perms     edits[pair, definitions.Permission]
		topics    edits[topicKey, definitions.TopicPermission]
		queues    edits[named, definitions.Queue]
		exchanges edits[named, definitions.Exchange]
	)
	pairs := map[pair]bool{}
	wideUsers, wideVhosts := map[string]bool{}, map[string]bool{}
	goneUsers, goneVhosts := map[string]bool{}, map[string]bool{}
	for _, ch := range p.Changes {
		o := ch.After
		if o == nil {
			o = ch.Before
		}
		switch x := o.(type) {
		case *definitions.User:
			wideUsers[x.Name] = true
			if ch.After == nil {
				goneUsers[x.Name] = true
			}
		case *definitions.Vhost:
			wideVhosts[x.Name] = true
			if ch.After == nil {
				goneVhosts[x.Name] = true
			}
		case *definitions.Permission:
			pairs[pair{x.Vhost, x.User}] = true
			perms.set(pair{x.Vhost, x.User}, ch.After)
		case *definitions.TopicPermission:
			pairs[pair{x.Vhost, x.User}] = true
			topics.set(topicKey{x.Vhost, x.User, x.Exchange}, ch.After)
		case *definitions.Queue:
			queues.set(named{x.Vhost, x.Name}, ch.After)
		case *definitions.Exchange:
			wideVhosts[x.Vhost] = true
			exchanges.set(named{x.Vhost, x.Name}, ch.After)
		}
	}
	in := func(vhost, user string) bool {
		return pairs[pair{vhost, user}] || wideVhosts[vhost] || wideUsers[user]
	}
	stays := func(vhost, user string) bool { return !goneUsers[user] && !goneVhosts[vhost] }
	before, after := &definitions.Document{}, &definitions.Document{}
	vhosts := map[string]bool{} // whose queues and exchanges the verdicts read
	before.Permissions, after.Permissions = scopedAfter(live.Permissions, perms,
		func(x *definitions.Permission) pair { return pair{x.Vhost, x.User} },
		func(x *definitions.Permission) bool { return in(x.Vhost, x.User) },
		func(x *definitions.Permission) bool { return stays(x.Vhost, x.User) })
	before.TopicPermissions, after.TopicPermissions = scopedAfter(live.TopicPermissions, topics,
		func(x *definitions.TopicPermission) topicKey { return topicKey{x.Vhost, x.User, x.Exchange} },
		func(x *definitions.TopicPermission) bool { return in(x.Vhost, x.User) },
		func(x *definitions.TopicPermission) bool { return stays(x.Vhost, x.User) })
	for _, d := range []*definitions.Document{before, after} {
		for _, x := range d.Permissions {
			vhosts[x.Vhost] = true
		}
		for _, x := range d.TopicPermissions {
			vhosts[x.Vhost] = true
		}
	}
	inVhost := func(vhost string) bool { return vhosts[vhost] }
	before.Queues, after.Queues = scopedAfter(live.Queues, queues,
		func(x *definitions.Queue) named { return named{x.Vhost, x.Name} },
		func(x *definitions.Queue) bool { return inVhost(x.Vhost) },
		func(x *definitions.Queue) bool { return !goneVhosts[x.Vhost] })
	before.Exchanges, after.Exchanges = scopedAfter(live.Exchanges, exchanges,
		func(x *definitions.Exchange) named { return named{x.Vhost, x.Name} },
		func(x *definitions.Exchange) bool { return inVhost(x.Vhost) },
		func(x *definitions.Exchange) bool { return !goneVhosts[x.Vhost] })
	opts := access.Options{Version: version}
	return access.Compare(access.New(before, opts), access.New(after, opts))
}

// edits are what a plan makes of the objects of one kind it changes, by
// key: nil where it deletes one. The last change of a key wins (a grant
// borrowed, then taken back).
type edits[K comparable, T any] struct {
	to    map[K]*T
	order []K // the plan's
}

func (e *edits[K, T]) set(k K, after definitions.Object) {
	if e.to == nil {
		e.to = map[K]*T{}
	}
	if _, ok := e.to[k]; !ok {
		e.order = append(e.order, k)
	}
	e.to[k], _ = any(after).(*T)
}

// scopedAfter is the objects of one kind in scope (in) before and after a
// plan: live's, then live's with the plan's edits made and its creations
// added, less those stays drops (their user or vhost deleted).
func scopedAfter[K comparable, T any](live []*T, e edits[K, T], key func(*T) K, in, stays func(*T) bool) (before, after []*T) {
	made := make(map[K]bool, len(e.to))
	for _, x := range live {
		if !in(x) {
			continue
		}
		before = append(before, x)
		y := x
		if c, ok := e.to[key(x)]; ok {
			made[key(x)] = true
			y = c
		}
		if y != nil && stays(y) {
			after = append(after, y)
		}
	}
	for _, k := range e.order {
		if y := e.to[k]; !made[k] && y != nil && in(y) && stays(y) {
			after = append(after, y)
		}
	}
	return before, after
}

// CanLine is the one line --can prints on standard error: the verdict
// and why.
func CanLine(v access.Verdict) string {
	return fmt.Sprintf("%s: %s by user %q on %s: %s", v.Result, v.Operation, v.User, v.Resource, v.Reason())
}
