package access

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/warren-tool/warren/definitions"
)

// Kind is the kind of a resource: a queue or an exchange.
type Kind string

const (
	Queue    Kind = "queue"
	Exchange Kind = "exchange"
)

// Resource is a queue or an exchange in a vhost. The default exchange's
// Name is "".
type Resource struct {
	Kind        Kind
	Vhost, Name string
}

// String names the resource as users write it: exchange "orders" on vhost "/".
func (r Resource) String() string {
	if r.Kind == Exchange && r.Name == "" {
		return fmt.Sprintf("the default exchange on vhost %q", r.Vhost)
	}
	return string(r.Kind) + " " + strconv.Quote(r.Name) + " on vhost " + strconv.Quote(r.Vhost)
}

// Ref is the resource as ParseResource reads it: queue:VHOST/NAME, the
// vhost percent-encoded (%2F for /).
func (r Resource) Ref() string {
	return string(r.Kind) + ":" + url.PathEscape(r.Vhost) + "/" + r.Name
}

// ParseResource reads queue:VHOST/NAME or exchange:VHOST/NAME. VHOST ends
// at the first /; it is percent-decoded (%2F is /), and an empty VHOST is
// the default vhost, /: queue:/orders is the queue orders on /. NAME is the
// rest, / included; exchange:VHOST/ is the default exchange.
func ParseResource(s string) (Resource, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || (kind != string(Queue) && kind != string(Exchange)) {
		return Resource{}, fmt.Errorf("resource %q: write queue:VHOST/NAME or exchange:VHOST/NAME", s)
	}
	v, name, ok := strings.Cut(rest, "/")
	if !ok {
		return Resource{}, fmt.Errorf("resource %q: no / between the vhost and the name (queue:VHOST/NAME; queue:/NAME on the vhost /)", s)
	}
	vhost, err := url.PathUnescape(v)
	if err != nil {
		return Resource{}, fmt.Errorf("resource %q: the vhost is not percent-encoded properly: %v", s, err)
	}
	if vhost == "" {
		vhost = "/"
	}
	if name == "" && kind == string(Queue) {
		return Resource{}, fmt.Errorf("resource %q: a queue needs a name", s)
	}
	return Resource{Kind: Kind(kind), Vhost: vhost, Name: name}, nil
}

// Operation is something a client does to a queue or an exchange over AMQP
// 0-9-1.
type Operation string

const (
	Declare Operation = "declare" // queue.declare, exchange.declare (not passive)
	Delete  Operation = "delete"  // queue.delete, exchange.delete
	// BindSource binds from the exchange (queue.bind, exchange.bind: the
	// exchange is the source).
	BindSource Operation = "bind-source"
	// BindDestination binds to the queue or exchange (it is the
	// destination).
	BindDestination Operation = "bind-destination"
	Publish         Operation = "publish" // basic.publish to the exchange
	Consume         Operation = "consume" // basic.consume from the queue
	Get             Operation = "get"     // basic.get from the queue
	Purge           Operation = "purge"   // queue.purge
)

// Operations are the operations, in the order views list them.
var Operations = []Operation{Declare, Delete, BindSource, BindDestination, Publish, Consume, Get, Purge}

// AppliesTo says whether the operation is done to resources of kind k.
func (o Operation) AppliesTo(k Kind) bool {
	switch o {
	case Declare, Delete, BindDestination:
		return true
	case BindSource, Publish:
		return k == Exchange
	case Consume, Get, Purge:
		return k == Queue
	}
	return false
}

// ParseOperation reads an operation's name.
func ParseOperation(s string) (Operation, error) {
	for _, o := range Operations {
		if string(o) == s {
			return o, nil
		}
	}
	names := make([]string, len(Operations))
	for i, o := range Operations {
		names[i] = string(o)
	}
	return "", fmt.Errorf("unknown operation %q: use one of %s", s, strings.Join(names, ", "))
}

// Result is a verdict's or a check's outcome.
type Result int

const (
	Denied Result = iota
	Allowed
	// Depends: allowed for the routing keys a topic permission's pattern
	// matches, and no routing key was given.
	Depends
	// Unknown: a pattern warren cannot evaluate as the broker would (see
	// Check.Why), or an exchange whose type is not known.
	Unknown
)

// rank orders results for a verdict of several checks: one denial denies,
// then an unknown check makes the verdict unknown, then a routing key it
// depends on.
var rank = [...]int{Allowed: 0, Depends: 1, Unknown: 2, Denied: 3}

func (r Result) String() string {
	return [...]string{"denied", "allowed", "depends on the routing key", "unknown"}[r]
}

// Permission is what a check needs: configure, write or read on a
// resource, topic write or topic read on a routing key, or access to the
// vhost.
type Permission string

const (
	Configure  Permission = "configure"
	Write      Permission = "write"
	Read       Permission = "read"
	TopicWrite Permission = "topic write"
	TopicRead  Permission = "topic read"
	Connect    Permission = "connect" // a permission entry in the vhost
	Reserved   Permission = "reserved"
)

// Check is one of the checks an operation makes, in the broker's order.
type Check struct {
	Permission Permission
	// Resource is the resource checked; for a topic check, the exchange.
	Resource Resource
	// Subject is the string matched: the resource's name as checked
	// (amq.default for the default exchange), or the routing key.
	Subject string
	// Pattern is the pattern as written ("" for an empty pattern, which
	// the broker reads as ^$); Expanded is what is matched, after
	// {username} and {vhost} expansion for a topic permission.
	Pattern, Expanded string
	// By is the *definitions.Permission or *definitions.TopicPermission
	// the pattern comes from; nil when there is none.
	By     definitions.Object
	Result Result
	// Why says why the result is what it is, in a sentence; Brief says it
	// without naming the resource and the permission it comes from.
	Why, Brief string
}

// Verdict is whether a user may do an operation on a resource, and why.
type Verdict struct {
	User      string
	Operation Operation
	Resource  Resource
	// RoutingKey is the routing key (or binding key) asked about; nil
	// when none was given.
	RoutingKey *string
	Result     Result
	// Checks are the checks made, up to the first that denied (or could
	// not be evaluated): the last one says why.
	Checks []Check
}

// Reason is the verdict in one sentence: the checks that decided it.
func (v Verdict) Reason() string { return v.reason(func(c Check) string { return c.Why }) }

// Brief is Reason without the resource's and the permissions' names.
func (v Verdict) Brief() string {
	return v.reason(func(c Check) string {
		if c.Permission == Connect || c.Permission == Reserved {
			return c.Brief
		}
		return string(c.Permission) + ": " + c.Brief
	})
}

func (v Verdict) reason(say func(Check) string) string {
	var why []string
	for _, c := range v.Checks {
		if v.Result == Allowed || c.Result == v.Result {
			why = append(why, say(c))
		}
	}
	if len(why) == 0 {
		return v.Result.String()
	}
	return strings.Join(why, "; ")
}

// Model is a document's permissions, topic permissions, queues and
// exchanges, indexed for checks as questions need them: a question about
// one user or one resource reads the document's lists once and indexes
// only the entries of that user or vhost, not every user's. It is not
// safe for concurrent use (it caches indexes and compiled patterns).
type Model struct {
	doc  *definitions.Document
	opts Options
	// perms is every permission entry by vhost and user, made once
	// permScans users or vhosts were indexed alone; before, permsOf and
	// permsIn hold the entries of the users and the vhosts asked about.
	perms     map[[2]string]*definitions.Permission
	permsOf   map[string]map[string]*definitions.Permission // by user, then vhost
	permsIn   map[string]map[string]*definitions.Permission // by vhost, then user
	permScans int
	topics    map[[3]string]*definitions.TopicPermission   // by vhost, user, exchange; made on first use
	topicsOf  map[[2]string][]*definitions.TopicPermission // by vhost, user
	// vhosts are the queues and exchanges of the vhosts asked about (all
	// of them from the second: see vhost).
	vhosts    map[string]*vhostIndex
	allVhosts bool
	re        map[string]*compiled
}

// permScans is how many users or vhosts Permission indexes alone, each
// with one pass over the document's permissions, before it indexes them
// all.
const permScans = 4

// vhostIndex is a vhost's queues and exchanges.
type vhostIndex struct {
	queues    map[string]*definitions.Queue
	exchanges map[string]*definitions.Exchange
	resources []Resource // sorted: exchanges first, then by name
}

type compiled struct {
	pattern string
	lit     *literal // a literal pattern, matched without the engine
	re      *regexp2.Regexp
	err     error
	// slow is the name a match of the pattern ran too long on: later
	// names are not tried (each would take matchTimeout, and a question
	// about thousands of resources as many tenths of a second).
	slow *string
}

// Options are what the rules depend on besides the definitions.
type Options struct {
	// Version is the broker's RabbitMQ version ("4.3.6", "4.0"); "" when
	// not known. {username} and {vhost} go into topic patterns as text up
	// to RabbitMQ 4.0 and escaped from 4.3, and {,n} is text in patterns
	// up to 4.0 (checked on 3.10.8, 4.0.5 and 4.3.6); elsewhere, and
	// without a version, a check that depends on either is Unknown.
	Version string
}

// New makes a model of d. Later objects of the same key win, as they do in
// a merge. It indexes nothing yet: each question indexes what it reads.
func New(d *definitions.Document, opts Options) *Model {
	return &Model{doc: d, opts: opts, re: map[string]*compiled{}}
}

// Document is the document the model was made from.
func (m *Model) Document() *definitions.Document { return m.doc }

// Permission is the user's permission entry on the vhost, nil when it has
// none (and so cannot connect).
func (m *Model) Permission(user, vhost string) *definitions.Permission {
	if m.perms != nil {
		return m.perms[[2]string{vhost, user}]
	}
	if byVhost, ok := m.permsOf[user]; ok {
		return byVhost[vhost]
	}
	if byUser, ok := m.permsIn[vhost]; ok {
		return byUser[user]
	}
	if m.permScans == permScans {
		// Questions about many users and vhosts: index every entry.
		m.indexPerms()
		return m.perms[[2]string{vhost, user}]
	}
	// The first pass indexes the user's entries: a question about a user
	// asks about each vhost in turn. A question that then names another
	// user is about the users of a vhost: the next pass indexes those.
	m.permScans++
	byUser := len(m.permsOf) == 0
	found := map[string]*definitions.Permission{}
	for _, p := range m.doc.Permissions {
		switch {
		case byUser && p.User == user:
			found[p.Vhost] = p
		case !byUser && p.Vhost == vhost:
			found[p.User] = p
		}
	}
	if m.permsOf == nil {
		m.permsOf, m.permsIn = map[string]map[string]*definitions.Permission{}, map[string]map[string]*definitions.Permission{}
	}
	if byUser {
		m.permsOf[user] = found
		return found[vhost]
	}
	m.permsIn[vhost] = found
	return found[user]
}

// indexPerms indexes every permission entry.
func (m *Model) indexPerms() {
	if m.perms != nil {
		return
	}
	m.perms = make(map[[2]string]*definitions.Permission, len(m.doc.Permissions))
	for _, p := range m.doc.Permissions {
		m.perms[[2]string{p.Vhost, p.User}] = p
	}
	m.permsOf, m.permsIn = nil, nil
}

// indexAll indexes everything, for questions about the whole document.
func (m *Model) indexAll() {
	m.indexPerms()
	m.indexTopics()
	if !m.allVhosts {
		m.indexVhosts("", true)
	}
}

// TopicPermissions are the user's topic permissions on the vhost.
func (m *Model) TopicPermissions(user, vhost string) []*definitions.TopicPermission {
	m.indexTopics()
	return m.topicsOf[[2]string{vhost, user}]
}

// topicPermission is the user's topic permission on the exchange, nil
// when it has none.
func (m *Model) topicPermission(vhost, user, exchange string) *definitions.TopicPermission {
	m.indexTopics()
	return m.topics[[3]string{vhost, user, exchange}]
}

// indexTopics indexes the topic permissions, once: there are few.
func (m *Model) indexTopics() {
	if m.topics != nil {
		return
	}
	m.topics, m.topicsOf = map[[3]string]*definitions.TopicPermission{}, map[[2]string][]*definitions.TopicPermission{}
	for _, p := range m.doc.TopicPermissions {
		m.topics[[3]string{p.Vhost, p.User, p.Exchange}] = p
		k := [2]string{p.Vhost, p.User}
		m.topicsOf[k] = append(m.topicsOf[k], p)
	}
}

// Builtin are the exchanges every vhost has, by name, with their types.
var Builtin = map[string]string{
	"": "direct", "amq.direct": "direct", "amq.fanout": "fanout", "amq.topic": "topic",
	"amq.headers": "headers", "amq.match": "headers", "amq.rabbitmq.trace": "topic",
}

// defined says whether the model has r (built-in exchanges included).
func (m *Model) defined(r Resource) bool {
	if r.Kind == Queue {
		return m.vhost(r.Vhost).queues[r.Name] != nil
	}
	return m.ExchangeType(r.Vhost, r.Name) != ""
}

// exchange is the exchange the document defines, nil when it does not.
func (m *Model) exchange(vhost, name string) *definitions.Exchange {
	return m.vhost(vhost).exchanges[name]
}

// ExchangeType is the type of an exchange the model knows (defined, or
// built in); "" when it does not.
func (m *Model) ExchangeType(vhost, name string) string {
	if e := m.exchange(vhost, name); e != nil {
		return e.Type
	}
	return Builtin[name]
}

// Resources are the queues and exchanges defined in the vhost (exchanges
// first), sorted by name; the built-in exchanges are not among them.
func (m *Model) Resources(vhost string) []Resource { return m.vhost(vhost).resources }

// vhost is the vhost's index. The first vhost asked is indexed alone (most
// questions are about one); a second indexes them all, so that asking
// about every vhost reads the lists once.
func (m *Model) vhost(name string) *vhostIndex {
	if x, ok := m.vhosts[name]; ok {
		return x
	}
	if !m.allVhosts {
		m.indexVhosts(name, m.vhosts != nil)
		if x, ok := m.vhosts[name]; ok {
			return x
		}
	}
	return &vhostIndex{} // nothing defined in it
}

// indexVhosts indexes the queues and exchanges of every vhost (all), or of
// one.
func (m *Model) indexVhosts(name string, all bool) {
	by := map[string]*vhostIndex{}
	if !all {
		by[name] = &vhostIndex{}
	}
	at := func(v string) *vhostIndex {
		x := by[v]
		if x == nil {
			x = &vhostIndex{}
			by[v] = x
		}
		return x
	}
	for _, e := range m.doc.Exchanges {
		if all || e.Vhost == name {
			x := at(e.Vhost)
			if x.exchanges == nil {
				x.exchanges = map[string]*definitions.Exchange{}
			}
			x.exchanges[e.Name] = e
			x.resources = append(x.resources, Resource{Exchange, e.Vhost, e.Name})
		}
	}
	for _, q := range m.doc.Queues {
		if all || q.Vhost == name {
			x := at(q.Vhost)
			if x.queues == nil {
				x.queues = map[string]*definitions.Queue{}
			}
			x.queues[q.Name] = q
			x.resources = append(x.resources, Resource{Queue, q.Vhost, q.Name})
		}
	}
	for _, x := range by {
		slices.SortFunc(x.resources, func(a, b Resource) int {
			if a.Kind != b.Kind {
				return strings.Compare(string(a.Kind), string(b.Kind)) // exchange before queue
			}
			return strings.Compare(a.Name, b.Name)
		})
		x.resources = slices.CompactFunc(x.resources, func(a, b Resource) bool { return a == b })
	}
	m.vhosts, m.allVhosts = by, all
}

// Can says whether user may do op on r. key is the routing key (publish)
// or binding key (bind-source); nil when not given.
func (m *Model) Can(user string, op Operation, r Resource, key *string) Verdict {
	return m.can(user, op, r, key, true)
}

// Result is Can's Result alone: it makes none of the reasons, which took
// half of a plan's access section (the verdicts of 412 users' changed
// permissions on 11,000 queues and exchanges spent 0.5 s formatting
// reasons no one read).
func (m *Model) Result(user string, op Operation, r Resource, key *string) Result {
	return m.can(user, op, r, key, false).Result
}

// can is Can, with the checks and their reasons (Why, Brief) made only
// when explain is set: Result reads the verdict's Result alone.
func (m *Model) can(user string, op Operation, r Resource, key *string, explain bool) Verdict {
	v := Verdict{User: user, Operation: op, Resource: r, RoutingKey: key, Result: Allowed}
	add := func(c Check) bool {
		if explain {
			if c.Brief == "" {
				c.Brief = c.Why
			}
			v.Checks = append(v.Checks, c)
		}
		if rank[c.Result] > rank[v.Result] {
			v.Result = c.Result
		}
		return c.Result != Denied
	}
	if !op.AppliesTo(r.Kind) {
		add(Check{Permission: Reserved, Resource: r, Result: Denied, Why: fmt.Sprintf("%s is not an operation on a %s", op, r.Kind)})
		return v
	}
	p := m.Permission(user, r.Vhost)
	if p == nil {
		add(Check{Permission: Connect, Resource: r, Result: Denied,
			Why: fmt.Sprintf("user %q has no permission on vhost %q: it cannot connect to it", user, r.Vhost)})
		return v
	}
	if reason := reserved(op, r, m); reason != "" {
		add(Check{Permission: Reserved, Resource: r, Subject: r.Name, Result: Denied, Why: reason})
		return v
	}
	need := func(perm Permission, res Resource) bool { return add(m.check(p, perm, res, explain)) }
	switch op {
	case Declare:
		// Declaring what exists (a resource the model defines) needs
		// configure on it. Creating it needs, besides, read on it and
		// write on its dead-letter or alternate exchange when its
		// arguments name one; the broker checks those (and the amq.
		// prefix) only when the declare creates it.
		if !need(Configure, r) {
			return v
		}
		if explain && !m.defined(r) {
			v.Checks[len(v.Checks)-1].Why += "; creating it with x-dead-letter-exchange or alternate-exchange also needs read on it and write on that exchange"
		}
	case Delete:
		need(Configure, r)
	case BindDestination:
		need(Write, r)
	case BindSource:
		if need(Read, r) {
			m.topic(&v, add, TopicRead, key, explain)
		}
	case Publish:
		if need(Write, r) {
			m.topic(&v, add, TopicWrite, key, explain)
		}
	case Consume, Get, Purge:
		need(Read, r)
	}
	return v
}

// reserved is why the broker refuses op on r whatever the permissions:
// a queue whose name starts with amq. cannot be declared (the broker
// checks the name before it looks for the queue, so a server-named
// amq.gen-… queue that exists cannot be declared again either), nor can an
// exchange that does not exist; the default exchange cannot be declared,
// deleted or bound; an internal exchange (amq.rabbitmq.trace among the
// built-in ones) cannot be published to.
func reserved(op Operation, r Resource, m *Model) string {
	switch {
	case r.Kind == Exchange && r.Name == "" && op != Publish:
		return "the default exchange cannot be declared, deleted or bound (ACCESS_REFUSED whatever the permissions)"
	case op == Declare && strings.HasPrefix(r.Name, "amq.") && (r.Kind == Queue || !m.defined(r)):
		return fmt.Sprintf("names starting with amq. are reserved: the broker refuses to declare %s whatever the permissions", r)
	case op == Delete && r.Kind == Exchange && strings.HasPrefix(r.Name, "amq.") && Builtin[r.Name] != "":
		return fmt.Sprintf("%s is built in: the broker refuses to delete it whatever the permissions", r)
	case op == Publish && m.internal(r.Vhost, r.Name):
		return fmt.Sprintf("%s is internal: clients cannot publish to it, whatever the permissions", r)
	}
	return ""
}

// builtinInternal are the built-in exchanges that are internal.
var builtinInternal = map[string]bool{"amq.rabbitmq.trace": true}

// internal says whether the exchange is internal: as the document defines
// it, or as the broker makes it when built in.
func (m *Model) internal(vhost, name string) bool {
	if e := m.exchange(vhost, name); e != nil {
		return e.Internal != nil && *e.Internal
	}
	return builtinInternal[name]
}

// check matches res's name against p's pattern for perm.
func (m *Model) check(p *definitions.Permission, perm Permission, res Resource, explain bool) Check {
	pat := p.Read
	switch perm {
	case Configure:
		pat = p.Configure
	case Write:
		pat = p.Write
	}
	subject := res.Name
	if res.Kind == Exchange && subject == "" {
		subject = "amq.default"
	}
	c := Check{Permission: perm, Resource: res, Subject: subject, Pattern: pat, Expanded: pat, By: p}
	if !explain {
		m.match(&c, nil)
		return c
	}
	m.match(&c, func() (string, string) { return string(perm) + " on " + res.String(), p.Addr() })
	return c
}

// topic makes the topic check of a publish or a bind from the verdict's
// exchange, when it is a topic exchange and the user has a topic
// permission on it.
func (m *Model) topic(v *Verdict, add func(Check) bool, perm Permission, key *string, explain bool) {
	r := v.Resource
	tp := m.topicPermission(r.Vhost, v.User, r.Name)
	if tp == nil {
		return // no topic permission on the exchange: no topic check
	}
	typ := m.ExchangeType(r.Vhost, r.Name)
	switch {
	case typ == "":
		add(Check{Permission: perm, Resource: r, By: tp, Result: Unknown,
			Why: fmt.Sprintf("%s is not defined, so whether it is a topic exchange (and %s applies) is not known", r, tp.Addr())})
		return
	case typ != "topic":
		return // topic permissions apply to topic exchanges only
	}
	pat := tp.Write
	if perm == TopicRead {
		pat = tp.Read
	}
	exp, unsure := expandTopic(pat, v.User, r.Vhost, m.opts.Version)
	c := Check{Permission: perm, Resource: r, Pattern: pat, Expanded: exp, By: tp}
	if key != nil {
		c.Subject = *key
	}
	if unsure != "" {
		c.Result, c.Brief = Unknown, unsure
		if explain {
			c.Why = fmt.Sprintf("%s on %s: %s (%s)", perm, r, unsure, tp.Addr())
		}
		add(c)
		return
	}
	if key == nil {
		c.Result = Depends
		if exp == ".*" {
			c.Result, c.Brief = Allowed, "any routing key"
		}
		if explain {
			if c.Result == Depends {
				c.Brief = fmt.Sprintf("only routing keys matching %s", quotePattern(exp))
			}
			c.Why = fmt.Sprintf("%s on %s: %s (%s)", perm, r, c.Brief, tp.Addr())
		}
		add(c)
		return
	}
	what := func() (string, string) {
		return fmt.Sprintf("%s on %s with routing key %s", perm, r, Quote(*key)), tp.Addr()
	}
	if !explain {
		what = nil
	}
	m.match(&c, what)
	add(c)
}

// expandTopic replaces {username} and {vhost} in a topic permission's
// pattern, in that order, as RabbitMQ version v does: as text up to 4.0,
// the names' regular expression metacharacters escaped from 4.3 (seen on
// 3.10.8 and 4.0.5, where the user a.b's ^{username}$ matches axb, and on
// 4.3.6, where it matches a.b alone). unsure says why it cannot be told:
// a name has a metacharacter and v is 4.1, 4.2 or not known.
func expandTopic(pat, user, vhost, v string) (exp, unsure string) {
	escape := func(s string) string { return s }
	switch since43(v) {
	case Allowed:
		escape = regexp.QuoteMeta
	case Unknown:
		for _, x := range [][2]string{{"{username}", user}, {"{vhost}", vhost}} {
			if strings.Contains(pat, x[0]) && regexp.QuoteMeta(x[1]) != x[1] {
				return pat, fmt.Sprintf("%s is %s: RabbitMQ 4.0 and before put it in pattern %s as it is, 4.3 escapes its metacharacters; give the RabbitMQ version",
					x[0], Quote(x[1]), Quote(pat))
			}
		}
	}
	exp = strings.ReplaceAll(pat, "{username}", escape(user))
	return strings.ReplaceAll(exp, "{vhost}", escape(vhost)), ""
}

// since43 says whether RabbitMQ version v is 4.3 or later: Denied up to
// 4.0, Allowed from 4.3, Unknown in between (not checked) and when v is not
// known.
func since43(v string) Result {
	major, rest, ok := leadingInt(v)
	if !ok || !strings.HasPrefix(rest, ".") {
		return Unknown
	}
	minor, _, ok := leadingInt(rest[1:])
	if !ok {
		return Unknown
	}
	switch {
	case major < 4 || major == 4 && minor == 0:
		return Denied
	case major > 4 || minor >= 3:
		return Allowed
	}
	return Unknown
}

// leadingInt reads the decimal number s starts with (as fmt's %d, which
// allocated on every topic check), and what follows it.
func leadingInt(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 9 {
		n = n*10 + int(s[i]-'0')
		i++
	}
	return n, s[i:], i > 0
}

// match matches c.Subject against c.Expanded as Erlang's re:run would,
// and fills c.Result and c.Why.
func (m *Model) match(c *Check, what func() (what, by string)) {
	ok, why := m.Match(c.Expanded, c.Subject)
	if what == nil {
		switch {
		case why != "":
			c.Result = Unknown
		case ok:
			c.Result = Allowed
		default:
			c.Result = Denied
		}
		return
	}
	switch {
	case why != "":
		c.Result, c.Brief = Unknown, why
	case ok:
		c.Result, c.Brief = Allowed, expanded(*c)+" matches "+Quote(c.Subject)
	default:
		c.Result, c.Brief = Denied, expanded(*c)+" does not match "+Quote(c.Subject)
	}
	w, by := what()
	c.Why = w + ": " + c.Brief + " (" + by + ")"
}

// expanded is the check's pattern, and what it expands to when that
// differs.
func expanded(c Check) string {
	if c.Expanded != c.Pattern {
		return fmt.Sprintf("%s (%s here)", quotePattern(c.Pattern), Quote(c.Expanded))
	}
	return quotePattern(c.Pattern)
}

// quotePattern quotes a pattern, saying what an empty one means.
func quotePattern(p string) string {
	if p == "" {
		return `pattern "" (no access)`
	}
	return "pattern " + Quote(p)
}

// Quote quotes a pattern or a name in double quotes, with Go's escapes
// only when it holds a double quote or a character that does not print:
// a pattern's backslashes stay single.
func Quote(s string) string {
	for _, r := range s {
		if r == '"' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return `"` + s + `"`
}

// appendQuote appends Quote(s) to b.
func appendQuote(b []byte, s string) []byte {
	for _, r := range s {
		if r == '"' || !strconv.IsPrint(r) {
			return strconv.AppendQuote(b, s)
		}
	}
	return append(append(append(b, '"'), s...), '"')
}

// matchTimeout bounds one match; a pattern that backtracks longer, twice
// (timedMatch), is Unknown.
const matchTimeout = 250 * time.Millisecond

// Match says whether pattern matches s somewhere, as RabbitMQ's
// re:run(s, pattern, [{capture, none}]) does (an empty pattern is ^$).
// why is set when it cannot be told: the pattern does not compile in a
// PCRE-compatible engine, pattern or name is outside ASCII where the
// engine would read characters and Erlang reads bytes, or the match ran
// too long.
func (m *Model) Match(pattern, s string) (ok bool, why string) { return m.compile(pattern).match(s) }

// compile is pattern made ready to match, once per pattern.
func (m *Model) compile(pattern string) *compiled {
	if c, ok := m.re[pattern]; ok {
		return c
	}
	c := compilePattern(pattern, m.opts.Version)
	m.re[pattern] = c
	return c
}

// compilePattern makes pattern ready to match as RabbitMQ version version
// would ("" when not known).
func compilePattern(pattern, version string) *compiled {
	c := &compiled{pattern: pattern}
	lp := pattern
	if lp == "" {
		lp = "^$"
	}
	if l, ok := parseLiteral(lp); ok {
		// Literal text matches bytes as Erlang does, ASCII or not.
		c.lit = &l
	} else if !ascii(pattern) {
		c.err = fmt.Errorf("not ASCII; RabbitMQ matches bytes, the engine characters")
	} else if ep, err := forEngine(pattern, version); err != nil {
		c.err = err
	} else if c.re, c.err = regexp2.Compile(ep, regexp2.None); c.re != nil {
		c.re.MatchTimeout = matchTimeout
	}
	return c
}

// match matches s as RabbitMQ would; why is set when that cannot be told.
func (c *compiled) match(s string) (ok bool, why string) {
	switch {
	case c.lit != nil:
		return c.lit.match(s), ""
	case c.err != nil:
		return false, fmt.Sprintf("warren cannot evaluate pattern %s (%v)", Quote(c.pattern), c.err)
	case !ascii(s):
		return false, fmt.Sprintf("name %s is not ASCII; RabbitMQ matches bytes, warren's engine characters, so it cannot tell what pattern %s does", Quote(s), Quote(c.pattern))
	}
	if c.slow != nil {
		return false, fmt.Sprintf("pattern %s took too long to match %s, and is not tried again", Quote(c.pattern), Quote(*c.slow))
	}
	ok, err := timedMatch(func() (bool, error) { return matchASCII(c.re, s) })
	if err != nil {
		// A copy: taking s's own address would move every call's s to
		// the heap (18 MB of garbage in an audit of make bench's file).
		slow := s
		c.slow = &slow
		return false, fmt.Sprintf("pattern %s took too long to match %s", Quote(c.pattern), Quote(s))
	}
	return ok, ""
}

// runes are the buffers matchASCII hands the engine names in.
var runes = sync.Pool{New: func() any { return new([]rune) }}

// matchASCII is re.MatchString(s) for an ASCII s, without the []rune the
// engine would make of s on each call.
func matchASCII(re *regexp2.Regexp, s string) (bool, error) {
	buf := runes.Get().(*[]rune)
	r := (*buf)[:0]
	for i := 0; i < len(s); i++ {
		r = append(r, rune(s[i]))
	}
	ok, err := re.MatchRunes(r)
	*buf = r
	runes.Put(buf)
	return ok, err
}

// timedMatch runs match, and again when it timed out: up to three times
// when the timeout came before matchTimeout had really passed (regexp2
// reads the time from a clock a goroutine of its own keeps, which lags on
// a busy machine, and a match can then end at once), and once when it ran
// its time (on a busy machine the match may have waited for a core
// meanwhile). Only a pattern that runs its time twice is slow: an audit
// under load found patterns such as .* "too long to match".
func timedMatch(match func() (bool, error)) (bool, error) {
	early, full := 0, 0
	for {
		start := time.Now()
		ok, err := match()
		switch {
		case err == nil:
			return ok, nil
		case time.Since(start) < matchTimeout && early < 3:
			early++
		case time.Since(start) >= matchTimeout && full < 1:
			full++
		default:
			return ok, err
		}
	}
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
