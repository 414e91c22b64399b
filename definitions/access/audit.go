package access

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// AuditOptions tune the audit.
type AuditOptions struct {
	// MaxAdmins, when above 0, is how many users may be tagged
	// administrator.
	MaxAdmins int
}

// Audit reports the model's least-privilege findings as warnings, each at
// the object it is about (its place in the files, when it came from one),
// or at the pattern or the exchange of a permission it is about:
// unanchored patterns, full access in several vhosts, more administrators
// than allowed, users with no permission, grants that match nothing
// defined, topic permissions on exchanges that are not topic exchanges or
// are auto-delete, guest, and configure on amq.*.
func (m *Model) Audit(opts AuditOptions) schema.Diagnostics {
	d := m.doc
	var found definitions.Diagnoser // positioned at the end, in one pass over each file
	warn := func(o definitions.Object, code schema.Code, format string, args ...any) {
		found.Add(o, schema.Warning, code, format, args...)
	}
	// warnAt is warn at one of o's fields: the pattern or the exchange a
	// finding is about.
	warnAt := func(o definitions.Object, field string, code schema.Code, format string, args ...any) {
		found.AddField(o, field, schema.Warning, code, fmt.Sprintf(format, args...))
	}
	// What each permission says about itself is found by GOMAXPROCS
	// workers, each over a run of the permissions (formatting 10,000
	// findings took most of the audit's time), and added in the
	// permissions' order.
	perms := d.Permissions
	names := m.auditNames()
	found1 := make([][]finding, len(perms))
	workers := min(runtime.GOMAXPROCS(0), 1+len(perms)/auditRun)
	per := (len(perms) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(perms); lo += per {
		hi := min(lo+per, len(perms))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cache := patternCache{}
			for i := lo; i < hi; i++ {
				found1[i] = permissionFindings(perms[i], names, cache)
			}
		}()
	}
	wg.Wait()
	n := 0
	for _, fs := range found1 {
		n += len(fs)
	}
	found.Grow(n)
	has := map[string]bool{}
	full := map[string][]*definitions.Permission{}
	for i, p := range perms {
		has[p.User] = true
		if p.Configure == ".*" && p.Write == ".*" && p.Read == ".*" {
			full[p.User] = append(full[p.User], p)
		}
		for _, f := range found1[i] {
			found.AddField(p, f.field, schema.Warning, f.code, f.msg)
		}
		found1[i] = nil
	}
	for _, p := range d.TopicPermissions {
		for _, f := range []struct{ name, pat string }{{"write", p.Write}, {"read", p.Read}} {
			if unanchored(f.pat) {
				warnAt(p, f.name, schema.WAccessUnanchored, "%s pattern %s of %s is not anchored: it matches every routing key that contains %s anywhere; start it with ^",
					f.name, Quote(f.pat), p.Addr(), Quote(f.pat))
			}
		}
		if e := m.exchange(p.Vhost, p.Exchange); e != nil && e.Type == "topic" && e.AutoDelete != nil && *e.AutoDelete {
			warnAt(p, "exchange", schema.WAccessTopicAutoDel, "%s is on the auto-delete exchange %s: RabbitMQ 4.3 deletes it with the exchange, and once an application declares the exchange again the user's routing keys are not restricted",
				p.Addr(), Quote(p.Exchange))
		}
		if e := m.exchange(p.Vhost, p.Exchange); e != nil && e.Type != "topic" {
			warnAt(p, "exchange", schema.WAccessTopicNoop, "%s is on a %s exchange: RabbitMQ checks topic permissions on topic exchanges only, so it restricts nothing", p.Addr(), e.Type)
		} else if e == nil && Builtin[p.Exchange] != "" && Builtin[p.Exchange] != "topic" {
			warnAt(p, "exchange", schema.WAccessTopicNoop, "%s is on the built-in %s exchange %s: RabbitMQ checks topic permissions on topic exchanges only, so it restricts nothing", p.Addr(), Builtin[p.Exchange], Quote(p.Exchange))
		}
	}
	for _, ps := range full {
		if len(ps) > 1 {
			vhosts := make([]string, len(ps))
			for i, p := range ps {
				vhosts[i] = Quote(p.Vhost)
			}
			slices.Sort(vhosts)
			warn(ps[0], schema.WAccessFullAccess, "user %s has .* for configure, write and read in %d vhosts (%s): it can do everything in each",
				Quote(ps[0].User), len(ps), strings.Join(vhosts, ", "))
		}
	}
	var admins []*definitions.User
	for _, u := range d.Users {
		if u.Name == "guest" {
			warn(u, schema.WAccessGuest, "user \"guest\" is present: RabbitMQ's default user, whose default password is guest; give applications users of their own")
		}
		if !has[u.Name] {
			also := ""
			if len(u.Tags) > 0 {
				also = fmt.Sprintf(" (its tags, %s, may still let it use the management API)", strings.Join(u.Tags, ", "))
			}
			warn(u, schema.WAccessNoPermission, "user %s has no permission in any vhost: it cannot connect%s", Quote(u.Name), also)
		}
		if slices.Contains(u.Tags, "administrator") {
			admins = append(admins, u)
		}
	}
	if opts.MaxAdmins > 0 && len(admins) > opts.MaxAdmins {
		for _, u := range admins {
			warn(u, schema.WAccessAdmins, "user %s is one of %d administrators, more than --max-admins %d", Quote(u.Name), len(admins), opts.MaxAdmins)
		}
	}
	diags := found.Diagnostics()
	diags.Sort()
	return diags
}

// unanchored says whether a pattern matches names containing it anywhere
// where its author likely meant a prefix or a name: it does not start
// with ^ and is not one of the patterns that mean everything or nothing.
func unanchored(pat string) bool {
	switch pat {
	case "", ".*", ".+", "^$", "(.*)":
		return false
	}
	return !strings.HasPrefix(pat, "^") && !strings.HasPrefix(pat, ".*") && !strings.HasPrefix(pat, "(?")
}

// auditRun is how many permissions make a worker's run at least: fewer
// are not worth a goroutine.
const auditRun = 512

// finding is a warning about an object, at one of its fields, its
// message made.
type finding struct {
	field string
	code  schema.Code
	msg   string
}

// patternCache holds one worker's compiled regexps; literal patterns,
// most often a permission's own (^user-12\.), are parsed again rather
// than kept.
type patternCache map[string]*compiled

func (pc patternCache) get(pat string) *compiled {
	if c, ok := pc[pat]; ok {
		return c
	}
	c := compilePattern(pat, "")
	if c.lit == nil {
		pc[pat] = c
	}
	return c
}

// permissionFindings are the findings about p alone: unanchored patterns,
// configure on amq.*, and patterns that match no queue or exchange
// defined in its vhost, nor a built-in exchange, nor a server-named queue
// (names are the vhosts' names; a vhost whose files define none is not
// checked). In that order.
func permissionFindings(p *definitions.Permission, names map[string][]string, cache patternCache) []finding {
	var out []finding
	fields := []struct{ name, pat string }{{"configure", p.Configure}, {"write", p.Write}, {"read", p.Read}}
	for _, f := range fields {
		if unanchored(f.pat) {
			out = append(out, finding{f.name, schema.WAccessUnanchored, fmt.Sprintf("%s pattern %s of %s is not anchored: it matches every name that contains %s anywhere; start it with ^",
				f.name, Quote(f.pat), p.Addr(), Quote(f.pat))})
		}
	}
	if strings.Contains(strings.ToLower(p.Configure), "amq") {
		c := cache.get(p.Configure)
		for _, name := range builtinNames[1:] { // not amq.default: the default exchange cannot be declared
			if ok, why := c.match(name); ok && why == "" {
				out = append(out, finding{"configure", schema.WAccessConfigureAMQ, fmt.Sprintf("configure pattern %s of %s matches the built-in exchange %s (and so may others)",
					Quote(p.Configure), p.Addr(), Quote(name))})
				break
			}
		}
	}
	vnames := names[p.Vhost]
	if len(vnames) == 0 {
		return out
	}
	for _, f := range fields {
		if f.pat == "" || f.pat == ".*" || f.pat == "^$" {
			continue
		}
		c := cache.get(f.pat)
		matched := false
		for _, n := range vnames {
			if ok, why := c.match(n); ok || why != "" { // a pattern warren cannot evaluate is not reported
				matched = true
				break
			}
		}
		if !matched {
			out = append(out, finding{f.name, schema.WAccessUnused, fmt.Sprintf("%s pattern %s of %s matches no queue or exchange defined in vhost %s",
				f.name, Quote(f.pat), p.Addr(), Quote(p.Vhost))})
		}
	}
	return out
}

// auditNames are, by vhost, the names of its queues and exchanges and the
// built-in exchanges', for vhosts that define any: the names alone, in one
// pass (indexing every vhost's queues and exchanges, as Resources does,
// took 2.3 MB of make bench's file to match names).
func (m *Model) auditNames() map[string][]string {
	names := map[string][]string{}
	for _, e := range m.doc.Exchanges {
		names[e.Vhost] = append(names[e.Vhost], e.Name)
	}
	for _, q := range m.doc.Queues {
		names[q.Vhost] = append(names[q.Vhost], q.Name)
	}
	for v, ns := range names {
		names[v] = append(append(ns, builtinNames...), serverNamed)
	}
	return names
}

// serverNamed is a name of the form the broker gives a queue declared
// without one (amq.gen- and 22 characters of base64): grants meant for
// them (^amq\.gen-) grant what applications declare, not nothing.
const serverNamed = "amq.gen-JzTY20BRgKO-HjmUJj0wLg"

// builtinNames are the names the built-in exchanges are checked as
// (amq.default for the default exchange), sorted: amq.default first.
var builtinNames = func() []string {
	var out []string
	for n := range Builtin {
		if n == "" {
			n = "amq.default"
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}()
