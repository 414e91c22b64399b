package definitions

import (
	"fmt"
	"strings"

	"github.com/warren-tool/warren/schema"
)

// What the files leave to the broker: a vhost no file defines, a
// permission's user no file defines, a binding's source or destination no
// file defines. Offline these are warnings (W103, W104, W105); diff and
// apply check them against the live broker before anything changes
// (LiveReferences).

// ReferencedKinds lists the kinds a live broker must be read for to check
// what d leaves to it: none when the files define everything they name.
func (d *Document) ReferencedKinds() []Kind {
	r := d.dangling()
	var out []Kind
	if len(r.vhosts) > 0 {
		out = append(out, KindVhost)
	}
	if len(r.users) > 0 {
		out = append(out, KindUser)
	}
	if len(r.sources) > 0 || len(r.exchanges) > 0 || len(r.topics) > 0 {
		out = append(out, KindExchange)
	}
	if len(r.queues) > 0 {
		out = append(out, KindQueue)
	}
	return out
}

// LiveReferences checks what d leaves to the broker against live, read
// from the broker (of at least the kinds ReferencedKinds lists), running
// RabbitMQ version (a release, "4.3.6"). A vhost or a permission's user
// that neither has is E112 (every version refuses it: no_such_vhost,
// no_such_user). A binding's source or destination that neither has is
// E112 where the version refuses it (RuleMissingBindingEnd: 3.13.6 and
// later answer resources_missing) and W170 where it drops the binding
// silently (3.10.8 answers 204 and has no binding). A topic permission's
// exchange that neither has is E112 where the version refuses it
// (RuleTopicMissingExchange: 4.3.2 and later answer no_such_exchange);
// older versions keep the permission. Names the live
// listing cannot tell (exchanges named amq.*, the default exchange) are
// taken as present. The diagnostics are positioned in d's files.
func (d *Document) LiveReferences(live *Document, version string) schema.Diagnostics {
	r := d.dangling()
	vhosts := names(live.Vhosts)
	users := names(live.Users)
	exchanges := keySet(live.Exchanges, func(e *Exchange) inVhost { return inVhost{e.Vhost, e.Name} })
	queues := keySet(live.Queues, func(q *Queue) inVhost { return inVhost{q.Vhost, q.Name} })
	refuses := Rule(RuleMissingBindingEnd).AppliesTo(version)
	refusesTopic := Rule(RuleTopicMissingExchange).AppliesTo(version)
	var diags schema.Diagnostics
	add := func(o Object, field string, code schema.Code, format string, args ...any) {
		loc := Location(o)
		if loc.Pointer != "" && field != "" {
			loc.Pointer += "/" + field
		}
		sev := schema.Error
		if code[0] == 'W' {
			sev = schema.Warning
		}
		diags = append(diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)})
	}
	missingVhost := map[string]bool{}
	for _, o := range r.vhosts {
		v := d.vhostOf(o)
		if has(vhosts, v) {
			continue
		}
		missingVhost[v] = true
		field := "vhost"
		if o.VhostName() == "" {
			field = "" // a per-vhost export's object: its vhost is the file's
		}
		add(o, field, schema.EMissingOnBroker, "%s: vhost %q is neither in the files nor on the broker; RabbitMQ refuses it (no_such_vhost)", d.addrOf(o), v)
	}
	for _, o := range r.users {
		u := permissionUser(o)
		if !has(users, u) {
			add(o, "user", schema.EMissingOnBroker, "%s: user %q is neither in the files nor on the broker; RabbitMQ refuses it (no_such_user)", o.Addr(), u)
		}
	}
	end := func(b *Binding, field, noun, name string, present bool) {
		switch {
		case present || missingVhost[d.vhostOf(b)]:
		case refuses:
			add(b, field, schema.EMissingOnBroker, "%s %q is neither in the files nor on the broker; RabbitMQ %s refuses the binding (resources_missing) [%s]", noun, name, version, RuleMissingBindingEnd)
		default:
			add(b, field, schema.WDroppedByBroker, "%s %q is neither in the files nor on the broker; RabbitMQ %s accepts the binding and drops it silently, so it will not exist after the apply", noun, name, version)
		}
	}
	for _, b := range r.sources {
		end(b, "source", "source exchange", b.Source, has(exchanges, inVhost{d.vhostOf(b), b.Source}))
	}
	for _, b := range r.exchanges {
		end(b, "destination", "destination exchange", b.Destination, has(exchanges, inVhost{d.vhostOf(b), b.Destination}))
	}
	for _, b := range r.queues {
		end(b, "destination", "destination queue", b.Destination, has(queues, inVhost{d.vhostOf(b), b.Destination}))
	}
	for _, tp := range r.topics {
		v := d.vhostOf(tp)
		if refusesTopic && !missingVhost[v] && !has(exchanges, inVhost{v, tp.Exchange}) {
			add(tp, "exchange", schema.EMissingOnBroker, "%s: exchange %q is neither in the files nor on the broker; RabbitMQ %s refuses the topic permission (no_such_exchange) [%s]", tp.Addr(), tp.Exchange, version, RuleTopicMissingExchange)
		}
	}
	d.resolve(diags)
	diags.Sort()
	return diags
}

// references are the objects that name what no file defines.
type references struct {
	vhosts    []Object           // objects whose vhost no file defines
	users     []Object           // permissions and topic permissions whose user no file defines
	sources   []*Binding         // bindings whose source exchange no file defines
	exchanges []*Binding         // bindings to an exchange no file defines
	queues    []*Binding         // bindings to a queue no file defines
	topics    []*TopicPermission // topic permissions on an exchange no file defines
}

func (d *Document) dangling() references {
	var r references
	vhosts := names(d.Vhosts)
	users := names(d.Users)
	exchanges := keySet(d.Exchanges, func(e *Exchange) inVhost { return inVhost{d.vhostOf(e), e.Name} })
	queues := keySet(d.Queues, func(q *Queue) inVhost { return inVhost{d.vhostOf(q), q.Name} })
	for _, o := range d.Objects() {
		if o.Kind() == KindVhost {
			continue
		}
		if v := d.vhostOf(o); v != "" && !has(vhosts, v) {
			r.vhosts = append(r.vhosts, o)
		}
		if u := permissionUser(o); u != "" && !has(users, u) {
			r.users = append(r.users, o)
		}
	}
	for _, tp := range d.TopicPermissions {
		if v := d.vhostOf(tp); v != "" && !unlisted(tp.Exchange) && !has(exchanges, inVhost{v, tp.Exchange}) {
			r.topics = append(r.topics, tp)
		}
	}
	for _, b := range d.Bindings {
		v := d.vhostOf(b)
		if v == "" {
			continue // a per-vhost file's that does not say its vhost
		}
		if !unlisted(b.Source) && !has(exchanges, inVhost{v, b.Source}) {
			r.sources = append(r.sources, b)
		}
		switch b.DestinationType {
		case "queue":
			if !has(queues, inVhost{v, b.Destination}) {
				r.queues = append(r.queues, b)
			}
		case "exchange":
			if !unlisted(b.Destination) && !has(exchanges, inVhost{v, b.Destination}) {
				r.exchanges = append(r.exchanges, b)
			}
		}
	}
	return r
}

// vhostOf is the vhost an object is in: its own, or for a per-vhost
// export's queue, exchange, binding, policy or parameter that names none,
// the export's (original_vhost_name), as the plan takes it (FillVhost).
func (d *Document) vhostOf(o Object) string {
	if v := o.VhostName(); v != "" || !d.PerVhost() {
		return v
	}
	switch o.Kind() {
	case KindQueue, KindExchange, KindBinding, KindPolicy, KindParameter:
		return d.OriginalVhostName
	}
	return ""
}

// addrOf is an object's address, in the vhost vhostOf gives it.
func (d *Document) addrOf(o Object) string {
	v := d.vhostOf(o)
	if v == o.VhostName() {
		return o.Addr()
	}
	one := &Document{}
	switch x := o.(type) {
	case *Queue:
		one.Queues = []*Queue{x}
	case *Exchange:
		one.Exchanges = []*Exchange{x}
	case *Binding:
		one.Bindings = []*Binding{x}
	case *Policy:
		one.Policies = []*Policy{x}
	case *Parameter:
		one.Parameters = []*Parameter{x}
	default:
		return o.Addr()
	}
	one.FillVhost(v)
	return one.Objects()[0].Addr()
}

// unlisted says an exchange's name is one a broker's listing leaves out:
// the default exchange and the amq.* exchanges (built in, or the log
// exchange when enabled).
func unlisted(name string) bool { return name == "" || strings.HasPrefix(name, "amq.") }

// permissionUser is the user a permission or topic permission is for, ""
// for other objects.
func permissionUser(o Object) string {
	switch p := o.(type) {
	case *Permission:
		return p.User
	case *TopicPermission:
		return p.User
	}
	return ""
}
