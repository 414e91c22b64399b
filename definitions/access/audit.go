package access

import (
	"fmt"
	"slices"
	"strings"

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
// the object it is about (its place in the files, when it came from one):
// unanchored patterns, full access in several vhosts, more administrators
// than allowed, users with no permission, grants that match nothing
// defined, topic permissions on exchanges that are not topic exchanges,
// guest, and configure on amq.*.
func (m *Model) Audit(opts AuditOptions) schema.Diagnostics {
	d := m.doc
	var found definitions.Diagnoser // positioned at the end, in one pass over each file
	warn := func(o definitions.Object, code schema.Code, format string, args ...any) {
		found.Add(o, schema.Warning, code, format, args...)
	}
	has := map[string]bool{}
	full := map[string][]*definitions.Permission{}
	for _, p := range d.Permissions {
		has[p.User] = true
		fields := []struct{ name, pat string }{{"configure", p.Configure}, {"write", p.Write}, {"read", p.Read}}
		for _, f := range fields {
			if unanchored(f.pat) {
				warn(p, schema.WAccessUnanchored, "%s pattern %s of %s is not anchored: it matches every name that contains %s anywhere; start it with ^",
					f.name, Quote(f.pat), p.Addr(), Quote(f.pat))
			}
		}
		if p.Configure == ".*" && p.Write == ".*" && p.Read == ".*" {
			full[p.User] = append(full[p.User], p)
		}
		if strings.Contains(strings.ToLower(p.Configure), "amq") {
			for _, name := range builtinNames[1:] { // not amq.default: the default exchange cannot be declared
				if ok, why := m.Match(p.Configure, name); ok && why == "" {
					warn(p, schema.WAccessConfigureAMQ, "configure pattern %s of %s matches the built-in exchange %s (and so may others)", Quote(p.Configure), p.Addr(), Quote(name))
					break
				}
			}
		}
		m.unused(p, fields, warn)
	}
	for _, p := range d.TopicPermissions {
		for _, f := range []struct{ name, pat string }{{"write", p.Write}, {"read", p.Read}} {
			if unanchored(f.pat) {
				warn(p, schema.WAccessUnanchored, "%s pattern %s of %s is not anchored: it matches every routing key that contains %s anywhere; start it with ^",
					f.name, Quote(f.pat), p.Addr(), Quote(f.pat))
			}
		}
		if e := m.exchange(p.Vhost, p.Exchange); e != nil && e.Type != "topic" {
			warn(p, schema.WAccessTopicNoop, "%s is on a %s exchange: RabbitMQ checks topic permissions on topic exchanges only, so it restricts nothing", p.Addr(), e.Type)
		} else if e == nil && Builtin[p.Exchange] != "" && Builtin[p.Exchange] != "topic" {
			warn(p, schema.WAccessTopicNoop, "%s is on the built-in %s exchange %s: RabbitMQ checks topic permissions on topic exchanges only, so it restricts nothing", p.Addr(), Builtin[p.Exchange], Quote(p.Exchange))
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

// unused reports the patterns of p that match no queue or exchange
// defined in its vhost, nor a built-in exchange. A vhost whose files
// define none is not checked.
func (m *Model) unused(p *definitions.Permission, fields []struct{ name, pat string }, warn func(definitions.Object, schema.Code, string, ...any)) {
	if m.names == nil {
		// The names alone, by vhost, in one pass: the audit looks at
		// every vhost, and indexing their queues and exchanges (Resources)
		// took 2.3 MB for make bench's file to match names.
		m.names = map[string][]string{}
		for _, e := range m.doc.Exchanges {
			m.names[e.Vhost] = append(m.names[e.Vhost], e.Name)
		}
		for _, q := range m.doc.Queues {
			m.names[q.Vhost] = append(m.names[q.Vhost], q.Name)
		}
		for v, names := range m.names {
			m.names[v] = append(names, builtinNames...)
		}
	}
	names := m.names[p.Vhost]
	if len(names) == 0 {
		return
	}
	for _, f := range fields {
		if f.pat == "" || f.pat == ".*" || f.pat == "^$" {
			continue
		}
		c := m.compileAudit(f.pat)
		matched := false
		for _, n := range names {
			if ok, why := c.match(n); ok || why != "" { // a pattern warren cannot evaluate is not reported
				matched = true
				break
			}
		}
		if !matched {
			warn(p, schema.WAccessUnused, "%s pattern %s of %s matches no queue or exchange defined in vhost %s", f.name, Quote(f.pat), p.Addr(), Quote(p.Vhost))
		}
	}
}

// compileAudit is compile, without keeping a literal pattern: most
// permissions have one of their own (^user-12\.), so keeping each held the
// audit's memory as it went through 10,000 of them, to be matched once.
func (m *Model) compileAudit(pat string) *compiled {
	if c, ok := m.re[pat]; ok {
		return c
	}
	if l, ok := parseLiteral(pat); ok && pat != "" {
		return &compiled{pattern: pat, lit: &l}
	}
	return m.compile(pat)
}

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
