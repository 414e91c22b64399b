package definitions

import (
	"fmt"
	"hash/maphash"
	"iter"
	"strings"

	"github.com/warren-tool/warren/schema"
)

// Kind names a kind of object by its top-level key in a definitions file.
type Kind string

const (
	KindUser            Kind = "users"
	KindVhost           Kind = "vhosts"
	KindPermission      Kind = "permissions"
	KindTopicPermission Kind = "topic_permissions"
	KindParameter       Kind = "parameters"
	KindGlobalParameter Kind = "global_parameters"
	KindPolicy          Kind = "policies"
	KindQueue           Kind = "queues"
	KindExchange        Kind = "exchanges"
	KindBinding         Kind = "bindings"
)

// FormatSingleVhost is rabbitmq_definition_format for a per-vhost export.
const FormatSingleVhost = "single_virtual_host"

// Document is one definitions document: what one file holds, or several
// files merged. Slices keep the order the objects were read in; Sort puts
// them in canonical order.
type Document struct {
	// Version fields as the exporting node wrote them. Node-specific.
	RabbitVersion   string
	RabbitMQVersion string
	ProductName     string
	ProductVersion  string
	// Explanation and OriginalClusterName are what RabbitMQ 4's export
	// writes about the node it came from. Node-specific.
	Explanation         string
	OriginalClusterName string
	// Format is rabbitmq_definition_format: "" (or "cluster") for a
	// cluster-wide document, FormatSingleVhost for a per-vhost export, whose
	// queues, exchanges, bindings, policies and parameters carry no vhost.
	Format            string
	OriginalVhostName string

	Users            []*User
	Vhosts           []*Vhost
	Permissions      []*Permission
	TopicPermissions []*TopicPermission
	Parameters       []*Parameter
	GlobalParameters []*GlobalParameter
	Policies         []*Policy
	Queues           []*Queue
	Exchanges        []*Exchange
	Bindings         []*Binding

	// Settings are warren's own keys (the top-level "warren" object, also
	// kept in Extra as written); nil when no file has them.
	Settings *Settings

	// Extra holds the other top-level fields, as written (per-vhost exports'
	// description and metadata, and fields warren does not know).
	Extra map[string]any

	files []*File
	// mergeDiags are what merging the files found (two owners).
	mergeDiags schema.Diagnostics
	// queueTypes types the queues NormalizeShared left without a type.
	queueTypes *queueTyping
}

// PerVhost reports whether d is a per-vhost export.
func (d *Document) PerVhost() bool { return d.Format == FormatSingleVhost }

// Origin says where an object was read from: the file and its index in the
// file's list of that kind. For objects that did not come from a file (a
// live broker's), File is nil.
type Origin struct {
	File  *File
	Index int
}

// Meta is what every object carries besides its own fields.
type Meta struct {
	// Origin is held, not pointed to: 150,000 objects made as many
	// Origins to point to.
	Origin Origin
	// Extra holds fields warren does not know, kept and written back as
	// they were read.
	Extra map[string]any
}

func (m *Meta) meta() *Meta { return m }

// Object is any one definition: a *User, *Vhost, *Permission, …
type Object interface {
	Kind() Kind
	// Key identifies the object among those of its kind: two objects with
	// the same Key are the same object.
	Key() string
	// Addr names the object as users write it: permission "app" on vhost "/".
	Addr() string
	// VhostName is the vhost the object lives in (a vhost's own name), ""
	// for users and global parameters.
	VhostName() string
	meta() *Meta
}

// Secret is a password: a literal, or where to find it. At most one field
// is set.
type Secret struct {
	Literal *string
	Env     string // read from this environment variable
	File    string // read from this file, one trailing newline dropped
}

// User is a broker user.
type User struct {
	Name     string
	Password *Secret
	// PasswordHash is nil when absent; "" means the user cannot log in with
	// a password.
	PasswordHash     *string
	HashingAlgorithm string
	// Tags is nil when the file gives none; RabbitMQ's comma-separated
	// form is split on reading.
	Tags     []string
	Limits   map[string]int64 // max-connections, max-channels
	ActiveMQ *ActiveMQUser
	Meta
}

// ActiveMQUser holds what only Amazon MQ for ActiveMQ users have.
type ActiveMQUser struct {
	Groups          []string
	ConsoleAccess   *bool
	ReplicationUser *bool
}

// Vhost is a virtual host.
type Vhost struct {
	Name             string
	Description      *string
	Tags             []string
	DefaultQueueType string
	// Metadata is kept as written; RabbitMQ 3.9+ exports description, tags
	// and default_queue_type there too. The top-level fields win.
	Metadata map[string]any
	Tracing  *bool
	// Protected is metadata.protected_from_deletion (RabbitMQ 4.0.6+
	// refuses to delete a protected vhost), filled by Normalize; nil when
	// absent: files that do not say leave the broker's protection alone.
	Protected *bool
	Meta
}

// Permission is a user's configure/write/read patterns on a vhost.
type Permission struct {
	User, Vhost            string
	Configure, Write, Read string
	Meta
}

// TopicPermission is a user's write/read patterns on a topic exchange.
type TopicPermission struct {
	User, Vhost, Exchange string
	Write, Read           string
	Meta
}

// Parameter is a vhost-scoped runtime parameter (vhost-limits,
// federation-upstream, shovel, operator_policy, …).
type Parameter struct {
	Vhost, Component, Name string
	Value                  any
	Meta
}

// GlobalParameter is a cluster-wide runtime parameter.
type GlobalParameter struct {
	Name  string
	Value any
	Meta
}

// Policy is a (user) policy.
type Policy struct {
	Vhost, Name string
	Pattern     string
	ApplyTo     string // "" means absent (RabbitMQ's default is all)
	Priority    *int64
	Definition  map[string]any
	Meta
}

// Queue is a queue.
type Queue struct {
	Vhost, Name string
	Type        string // as newer exports write it; x-queue-type in Arguments says the same
	Durable     *bool
	AutoDelete  *bool
	Arguments   Table
	Meta
}

// Exchange is an exchange.
type Exchange struct {
	Vhost, Name string
	Type        string
	Durable     *bool
	AutoDelete  *bool
	Internal    *bool
	Arguments   Table
	Meta
}

// Binding routes from an exchange to a queue or an exchange.
type Binding struct {
	Vhost           string
	Source          string
	Destination     string
	DestinationType string // queue or exchange
	RoutingKey      string
	Arguments       Table
	Meta
}

func (*User) VhostName() string              { return "" }
func (v *Vhost) VhostName() string           { return v.Name }
func (p *Permission) VhostName() string      { return p.Vhost }
func (p *TopicPermission) VhostName() string { return p.Vhost }
func (p *Parameter) VhostName() string       { return p.Vhost }
func (*GlobalParameter) VhostName() string   { return "" }
func (p *Policy) VhostName() string          { return p.Vhost }
func (q *Queue) VhostName() string           { return q.Vhost }
func (e *Exchange) VhostName() string        { return e.Vhost }
func (b *Binding) VhostName() string         { return b.Vhost }

func (*User) Kind() Kind            { return KindUser }
func (*Vhost) Kind() Kind           { return KindVhost }
func (*Permission) Kind() Kind      { return KindPermission }
func (*TopicPermission) Kind() Kind { return KindTopicPermission }
func (*Parameter) Kind() Kind       { return KindParameter }
func (*GlobalParameter) Kind() Kind { return KindGlobalParameter }
func (*Policy) Kind() Kind          { return KindPolicy }
func (*Queue) Kind() Kind           { return KindQueue }
func (*Exchange) Kind() Kind        { return KindExchange }
func (*Binding) Kind() Kind         { return KindBinding }

// key joins the parts of an identity with a separator that cannot appear
// in names read from JSON.
func key(parts ...string) string { return strings.Join(parts, "\x00") }

func (u *User) Key() string            { return u.Name }
func (v *Vhost) Key() string           { return v.Name }
func (p *Permission) Key() string      { return key(p.Vhost, p.User) }
func (p *TopicPermission) Key() string { return key(p.Vhost, p.User, p.Exchange) }
func (p *Parameter) Key() string       { return key(p.Vhost, p.Component, p.Name) }
func (p *GlobalParameter) Key() string { return p.Name }
func (p *Policy) Key() string          { return key(p.Vhost, p.Name) }
func (q *Queue) Key() string           { return key(q.Vhost, q.Name) }
func (e *Exchange) Key() string        { return key(e.Vhost, e.Name) }
func (b *Binding) Key() string {
	args := ""
	if len(b.Arguments) > 0 {
		args = CanonicalJSON(b.Arguments)
	}
	return key(b.Vhost, b.Source, b.DestinationType, b.Destination, b.RoutingKey, args)
}

// writeKey writes o's Key to h without making it: the same bytes, so
// that equal keys hash alike.
func writeKey(h *maphash.Hash, o Object) {
	parts := func(ps ...string) { writeParts(h, ps) }
	switch o := o.(type) {
	case *Permission:
		parts(o.Vhost, o.User)
	case *TopicPermission:
		parts(o.Vhost, o.User, o.Exchange)
	case *Parameter:
		parts(o.Vhost, o.Component, o.Name)
	case *Policy:
		parts(o.Vhost, o.Name)
	case *Queue:
		parts(o.Vhost, o.Name)
	case *Exchange:
		parts(o.Vhost, o.Name)
	case *Binding:
		if len(o.Arguments) > 0 {
			h.WriteString(o.Key())
			return
		}
		parts(o.Vhost, o.Source, o.DestinationType, o.Destination, o.RoutingKey, "")
	default:
		h.WriteString(o.Key())
	}
}

// AppendKey appends o's Key to dst without making it a string: a diff
// looks 100,000s of keys up (m[string(b)] makes no string).
func AppendKey(dst []byte, o Object) []byte {
	switch o := o.(type) {
	case *Permission:
		return appendParts(dst, o.Vhost, o.User)
	case *TopicPermission:
		return appendParts(dst, o.Vhost, o.User, o.Exchange)
	case *Parameter:
		return appendParts(dst, o.Vhost, o.Component, o.Name)
	case *Policy:
		return appendParts(dst, o.Vhost, o.Name)
	case *Queue:
		return appendParts(dst, o.Vhost, o.Name)
	case *Exchange:
		return appendParts(dst, o.Vhost, o.Name)
	case *Binding:
		if len(o.Arguments) == 0 {
			return appendParts(dst, o.Vhost, o.Source, o.DestinationType, o.Destination, o.RoutingKey, "")
		}
	}
	return append(dst, o.Key()...)
}

// appendParts appends what key(ps...) holds.
func appendParts(dst []byte, ps ...string) []byte {
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, 0)
		}
		dst = append(dst, p...)
	}
	return dst
}

// writeParts writes what key(ps...) holds.
func writeParts(h *maphash.Hash, ps []string) {
	for i, p := range ps {
		if i > 0 {
			h.WriteByte(0)
		}
		h.WriteString(p)
	}
}

func (u *User) Addr() string  { return fmt.Sprintf("user %q", u.Name) }
func (v *Vhost) Addr() string { return fmt.Sprintf("vhost %q", v.Name) }
func (p *Permission) Addr() string {
	return fmt.Sprintf("permission %q on vhost %q", p.User, p.Vhost)
}
func (p *TopicPermission) Addr() string {
	return fmt.Sprintf("topic permission %q on vhost %q exchange %q", p.User, p.Vhost, p.Exchange)
}
func (p *Parameter) Addr() string {
	return fmt.Sprintf("parameter %s %q on vhost %q", p.Component, p.Name, p.Vhost)
}
func (p *GlobalParameter) Addr() string { return fmt.Sprintf("global parameter %q", p.Name) }
func (p *Policy) Addr() string          { return fmt.Sprintf("policy %q on vhost %q", p.Name, p.Vhost) }
func (q *Queue) Addr() string           { return fmt.Sprintf("queue %q on vhost %q", q.Name, q.Vhost) }
func (e *Exchange) Addr() string        { return fmt.Sprintf("exchange %q on vhost %q", e.Name, e.Vhost) }
func (b *Binding) Addr() string {
	return fmt.Sprintf("binding %q → %s %q on vhost %q (routing key %q)", b.Source, b.DestinationType, b.Destination, b.Vhost, b.RoutingKey)
}

// Place says where o was read from, as file:line:col (the file alone when
// the position cannot be found), or "" for an object that did not come
// from a file (a live broker's).
func Place(o Object) string {
	f := o.meta().Origin.File
	if f == nil {
		return ""
	}
	ptr := Pointer(o)
	pos := f.positions([]string{ptr})[ptr]
	if pos.Line == 0 {
		return f.Name
	}
	return fmt.Sprintf("%s:%d:%d", f.Name, pos.Line, pos.Col)
}

// Objects returns every object of d, kind by kind in creation order.
func (d *Document) Objects() []Object {
	var out []Object
	for _, k := range Kinds {
		out = append(out, d.ObjectsOf(k)...)
	}
	return out
}

// All ranges over the objects of one kind, as ObjectsOf lists them, without
// making a list.
func (d *Document) All(k Kind) iter.Seq[Object] {
	if r, ok := InfoOf(k); ok {
		return r.list.all(d)
	}
	return func(func(Object) bool) {}
}

// Has reports whether d names kind k: its list is not nil (it may be
// empty), as ObjectsOf(k) != nil says without making the list.
func (d *Document) Has(k Kind) bool {
	r, ok := InfoOf(k)
	return ok && r.list.present(d)
}

// Count is how many objects of kind k d has.
func (d *Document) Count(k Kind) int {
	if r, ok := InfoOf(k); ok {
		return r.list.len(d)
	}
	return 0
}

// ObjectsOf returns the objects of one kind: nil when the document does not
// name the kind, empty when it names it with no objects.
func (d *Document) ObjectsOf(k Kind) []Object {
	if r, ok := InfoOf(k); ok {
		return r.list.objects(d)
	}
	return nil
}

func objects[T Object](s []T) []Object {
	if s == nil {
		return nil
	}
	out := make([]Object, len(s))
	for i, o := range s {
		out[i] = o
	}
	return out
}
