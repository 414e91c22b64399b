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
	// Findings are the audit's, sorted.
	Findings schema.Diagnostics
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
	// What loading and checking the files left to collect goes first, and
	// its pages back to the system: the answer's allocations then start
	// from the document alone, and the peak stays the checks' (runtime.GC
	// kept the freed pages, and --user on make bench's file peaked 2 MB
	// above validate).
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
		for _, u := range AccessUsers(doc) {
			if req.User != "" && u != req.User {
				continue
			}
			if req.User == "" && m.Permission(u, req.Resource.Vhost) == nil {
				res.NoEntry = append(res.NoEntry, u)
				continue
			}
			res.Users = append(res.Users, UserOnResource{User: u, Verdicts: verdicts(m, u, *req.Resource, req.RoutingKey)})
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
		var where chan map[definitions.Object]schema.Location
		if req.Where {
			// Placing the permissions reads the files again: on another
			// core while the verdicts are made, and once for them all.
			var objs []definitions.Object
			for _, uv := range res.Vhosts {
				if uv.Permission != nil {
					objs = append(objs, uv.Permission)
				}
				for _, tp := range uv.Topic {
					objs = append(objs, tp)
				}
			}
			where = make(chan map[definitions.Object]schema.Location, 1)
			go func() { where <- places(objs) }()
		}
		for i := range res.Vhosts {
			uv := &res.Vhosts[i]
			if uv.Permission != nil {
				for _, r := range m.Resources(uv.Vhost) {
					uv.Verdicts = append(uv.Verdicts, verdicts(m, req.User, r, req.RoutingKey)...)
				}
			}
		}
		if where != nil {
			res.Where = <-where
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
// sorted.
func AccessUsers(d *definitions.Document) []string {
	out := make([]string, 0, len(d.Users)+len(d.Permissions))
	for _, u := range d.Users {
		out = append(out, u.Name)
	}
	for _, p := range d.Permissions {
		out = append(out, p.User)
	}
	slices.Sort(out)
	return slices.Compact(out)
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
func AccessChanges(live *definitions.Document, p *plan.Plan, version string) []access.Change {
	type key struct {
		kind definitions.Kind
		key  string
	}
	objects := map[key]definitions.Object{}
	var order []key
	put := func(o definitions.Object) {
		k := key{o.Kind(), o.Key()}
		if _, ok := objects[k]; !ok {
			order = append(order, k)
		}
		objects[k] = o
	}
	each := func(d *definitions.Document, f func(definitions.Object)) {
		for _, o := range d.Users {
			f(o)
		}
		for _, o := range d.Vhosts {
			f(o)
		}
		for _, o := range d.Permissions {
			f(o)
		}
		for _, o := range d.TopicPermissions {
			f(o)
		}
		for _, o := range d.Queues {
			f(o)
		}
		for _, o := range d.Exchanges {
			f(o)
		}
	}
	each(live, put)
	goneUsers, goneVhosts := map[string]bool{}, map[string]bool{}
	for _, ch := range p.Changes {
		if !slices.Contains(AccessKinds, ch.Kind) {
			continue
		}
		if ch.Before != nil && ch.After == nil {
			delete(objects, key{ch.Before.Kind(), ch.Before.Key()})
			switch o := ch.Before.(type) {
			case *definitions.User:
				goneUsers[o.Name] = true
			case *definitions.Vhost:
				goneVhosts[o.Name] = true
			}
		}
		if ch.After != nil {
			put(ch.After)
		}
	}
	after := &definitions.Document{RabbitMQVersion: live.RabbitMQVersion}
	for _, k := range order {
		switch o := objects[k].(type) {
		case *definitions.User:
			after.Users = append(after.Users, o)
		case *definitions.Vhost:
			after.Vhosts = append(after.Vhosts, o)
		case *definitions.Permission:
			if !goneUsers[o.User] && !goneVhosts[o.Vhost] {
				after.Permissions = append(after.Permissions, o)
			}
		case *definitions.TopicPermission:
			if !goneUsers[o.User] && !goneVhosts[o.Vhost] {
				after.TopicPermissions = append(after.TopicPermissions, o)
			}
		case *definitions.Queue:
			if !goneVhosts[o.Vhost] {
				after.Queues = append(after.Queues, o)
			}
		case *definitions.Exchange:
			if !goneVhosts[o.Vhost] {
				after.Exchanges = append(after.Exchanges, o)
			}
		}
	}
	opts := access.Options{Version: version}
	return access.Compare(access.New(live, opts), access.New(after, opts))
}

// CanLine is the one line --can prints on standard error: the verdict
// and why.
func CanLine(v access.Verdict) string {
	return fmt.Sprintf("%s: %s by user %q on %s: %s", v.Result, v.Operation, v.User, v.Resource, v.Reason())
}
