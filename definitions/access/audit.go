package access

import (
	"cmp"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strconv"
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
//
// The findings are held as what each is about and where, in the order
// they are shown, and their text is made as they are read
// (Findings.All): 10,000 findings' messages and pointers, held until
// printed, were most of what an audit of make bench's file added to the
// memory of checking it.
func (m *Model) Audit(opts AuditOptions) *Findings {
	d := m.doc
	var (
		found []finding
		other []noted
	)
	// warnAt is a finding at one of o's fields: the pattern or the
	// exchange it is about (atObject: o itself).
	warnAt := func(o definitions.Object, field auditField, code schema.Code, format string, args ...any) {
		found = append(found, finding{obj: o, field: field, other: int32(len(other))})
		other = append(other, noted{code, fmt.Sprintf(format, args...)})
	}
	warn := func(o definitions.Object, code schema.Code, format string, args ...any) {
		warnAt(o, atObject, code, format, args...)
	}
	// What each permission says about itself is found by GOMAXPROCS
	// workers, each over a run of the permissions, and added in the
	// permissions' order. Their messages are made when read.
	perms := d.Permissions
	names := m.auditNames()
	workers := min(runtime.GOMAXPROCS(0), 1+len(perms)/auditRun)
	per := (len(perms) + workers - 1) / max(workers, 1)
	runs := make([][]finding, 0, workers) // each worker's, in the permissions' order
	for lo := 0; lo < len(perms); lo += per {
		runs = append(runs, nil)
	}
	// Most often a permission has a finding or none: each worker has the
	// room of its run's permissions in one list, and its findings are
	// moved together after (a list of its own when they outgrow it).
	all := make([]finding, 0, len(perms))
	var wg sync.WaitGroup
	for w := range runs {
		lo := w * per
		hi := min(lo+per, len(perms))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cache := &patternCache{}
			out := all[lo:lo:hi]
			for _, p := range perms[lo:hi] {
				out = permissionFindings(out, p, names, cache)
			}
			runs[w] = out
		}()
	}
	wg.Wait()
	names = nil
	inPlace := true // no worker outgrew its room
	for w, r := range runs {
		inPlace = inPlace && len(r) <= min(per, len(perms)-w*per)
	}
	if inPlace {
		// Moved down in order: each run starts at or after where it goes.
		for _, r := range runs {
			all = append(all, r...)
		}
		found = all
	} else {
		found = slices.Concat(runs...)
	}
	runs, all = nil, nil
	// Which users have a permission: marked by their place in d.Users,
	// found among the users sorted by name (a map of the permissions'
	// users took 850 KB of make bench's 10,000, a sorted list of them
	// 160 KB).
	byName := make([]int32, len(d.Users))
	for i := range byName {
		byName[i] = int32(i)
	}
	slices.SortFunc(byName, func(a, b int32) int { return strings.Compare(d.Users[a].Name, d.Users[b].Name) })
	has := make([]bool, len(d.Users))
	full := map[string][]*definitions.Permission{}
	for _, p := range perms {
		i, _ := slices.BinarySearchFunc(byName, p.User, func(u int32, name string) int { return strings.Compare(d.Users[u].Name, name) })
		for ; i < len(byName) && d.Users[byName[i]].Name == p.User; i++ {
			has[byName[i]] = true
		}
		if p.Configure == ".*" && p.Write == ".*" && p.Read == ".*" {
			full[p.User] = append(full[p.User], p)
		}
	}
	for _, p := range d.TopicPermissions {
		for _, f := range []struct{ name, pat string }{{"write", p.Write}, {"read", p.Read}} {
			if unanchored(f.pat) {
				warnAt(p, fieldNamed(f.name), schema.WAccessUnanchored, "%s pattern %s of %s is not anchored: it matches every routing key that contains %s anywhere; start it with ^",
					f.name, Quote(f.pat), p.Addr(), Quote(f.pat))
			}
		}
		if e := m.exchange(p.Vhost, p.Exchange); e != nil && e.Type == "topic" && e.AutoDelete != nil && *e.AutoDelete {
			warnAt(p, atExchange, schema.WAccessTopicAutoDel, "%s is on the auto-delete exchange %s: RabbitMQ 4.3 deletes it with the exchange, and once an application declares the exchange again the user's routing keys are not restricted",
				p.Addr(), Quote(p.Exchange))
		}
		if e := m.exchange(p.Vhost, p.Exchange); e != nil && e.Type != "topic" {
			warnAt(p, atExchange, schema.WAccessTopicNoop, "%s is on a %s exchange: RabbitMQ checks topic permissions on topic exchanges only, so it restricts nothing", p.Addr(), e.Type)
		} else if e == nil && Builtin[p.Exchange] != "" && Builtin[p.Exchange] != "topic" {
			warnAt(p, atExchange, schema.WAccessTopicNoop, "%s is on the built-in %s exchange %s: RabbitMQ checks topic permissions on topic exchanges only, so it restricts nothing", p.Addr(), Builtin[p.Exchange], Quote(p.Exchange))
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
	byName = nil
	var admins []*definitions.User
	for i, u := range d.Users {
		if u.Name == "guest" {
			warn(u, schema.WAccessGuest, "user \"guest\" is present: RabbitMQ's default user, whose default password is guest; give applications users of their own")
		}
		if !has[i] {
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
	return &Findings{list: found, other: other}
}

// Findings are an audit's findings, in the order schema.Diagnostics.Sort
// gives them; each is made a Diagnostic when read. They are placed in the
// files (and so put in order) when first read, or by Place: a caller that
// checks the files while the audit runs places them once the checks are
// done, and their allocations are not at once.
type Findings struct {
	list   []finding
	other  []noted
	placed sync.Once
}

// Place finds where the findings are in the files, in one pass over each
// file, and puts them in the order schema.Diagnostics.Sort gives: file,
// position, pointer, code, message (pointers and messages made only to
// order findings at one place). Reading them places them first.
func (fs *Findings) Place() {
	fs.placed.Do(func() {
		found, other := fs.list, fs.other
		definitions.PlaceFields(len(found), func(i int) (definitions.Object, string) { return found[i].obj, found[i].field.String() },
			func(i int, p schema.Pos) { found[i].line, found[i].col = int32(p.Line), int32(p.Col) })
		slices.SortStableFunc(found, func(a, b finding) int {
			if c := cmp.Or(cmp.Compare(a.file(), b.file()), cmp.Compare(a.line, b.line), cmp.Compare(a.col, b.col)); c != 0 {
				return c
			}
			return cmp.Or(cmp.Compare(a.pointer(), b.pointer()), cmp.Compare(a.code(other), b.code(other)), cmp.Compare(a.message(other), b.message(other)))
		})
	})
}

// Len is how many findings there are.
func (fs *Findings) Len() int { return len(fs.list) }

// All yields the findings as warnings, in order, each made as it is
// yielded.
func (fs *Findings) All() iter.Seq[schema.Diagnostic] {
	return func(yield func(schema.Diagnostic) bool) {
		fs.Place()
		for i := range fs.list {
			if !yield(fs.list[i].diagnostic(fs.other)) {
				return
			}
		}
	}
}

// AppendText appends the i-th finding's line to b, as
// schema.Diagnostic.AppendText writes it (the severity is not in it):
// what a caller that writes many lines uses, not to make a pointer and a
// message for each.
func (fs *Findings) AppendText(b []byte, i int) []byte {
	fs.Place()
	return fs.list[i].appendText(b, fs.other)
}

// Diagnostics are all the findings at once, as warnings.
func (fs *Findings) Diagnostics() schema.Diagnostics {
	out := make(schema.Diagnostics, 0, len(fs.list))
	for d := range fs.All() {
		out = append(out, d)
	}
	return out
}

// Error lists the findings, one per line.
func (fs *Findings) Error() string { return fs.Diagnostics().Error() }

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

// finding is a warning about an object, at one of its fields (or the
// object itself), and where that is, in 32 bytes: a permission's own
// findings hold what their message is made from (what, builtin) rather
// than the message; other findings, few, hold the index of their code
// and message in Findings.other.
type finding struct {
	obj       definitions.Object
	line, col int32
	other     int32 // in Findings.other, for what == notPermFinding
	field     auditField
	what      permFinding
	// builtin is, for configure on amq.*, the index in builtinNames of
	// the built-in exchange the pattern matches.
	builtin uint8
}

// noted is the code and message of a finding that is not a permission's
// own.
type noted struct {
	code schema.Code
	msg  string
}

// auditField is the field a finding is at: none (the object itself), a
// pattern, or a topic permission's exchange.
type auditField uint8

const (
	atObject auditField = iota
	atConfigure
	atWrite
	atRead
	atExchange
)

var auditFields = [...]string{"", "configure", "write", "read", "exchange"}

func (f auditField) String() string { return auditFields[f] }

// fieldNamed is the auditField of a field's name.
func fieldNamed(name string) auditField {
	for i, n := range auditFields {
		if n == name {
			return auditField(i)
		}
	}
	panic("access: no audit field " + name)
}

// permFinding is which of a permission's own findings one is.
type permFinding uint8

const (
	notPermFinding permFinding = iota
	permUnanchored
	permConfigureAMQ
	permUnused
)

var permCodes = [...]schema.Code{permUnanchored: schema.WAccessUnanchored, permConfigureAMQ: schema.WAccessConfigureAMQ, permUnused: schema.WAccessUnused}

// code is the finding's code.
func (f *finding) code(other []noted) schema.Code {
	if f.what == notPermFinding {
		return other[f.other].code
	}
	return permCodes[f.what]
}

// pos is where the finding is.
func (f *finding) pos() schema.Pos { return schema.Pos{Line: int(f.line), Col: int(f.col)} }

// file is the name of the file the finding is in, "" for an object of no
// file.
func (f *finding) file() string { return definitions.FileName(f.obj) }

// pointer is the finding's JSON pointer, as a diagnostic shows it.
func (f *finding) pointer() string { return definitions.FieldPointer(f.obj, f.field.String()) }

// message is the finding's text.
func (f *finding) message(other []noted) string {
	if f.what == notPermFinding {
		return other[f.other].msg
	}
	return string(f.appendMessage(nil, other))
}

// appendMessage appends the finding's text to b.
func (f *finding) appendMessage(b []byte, other []noted) []byte {
	p, _ := f.obj.(*definitions.Permission)
	field := f.field.String()
	// of appends " of permission "user" on vhost "vhost"" (p.Addr()).
	of := func(b []byte) []byte {
		b = append(b, " of permission "...)
		b = strconv.AppendQuote(b, p.User)
		b = append(b, " on vhost "...)
		return strconv.AppendQuote(b, p.Vhost)
	}
	switch f.what {
	case permUnanchored:
		pat := permPattern(p, field)
		b = appendQuote(append(append(b, field...), " pattern "...), pat)
		b = append(of(b), " is not anchored: it matches every name that contains "...)
		return append(appendQuote(b, pat), " anywhere; start it with ^"...)
	case permConfigureAMQ:
		b = appendQuote(append(b, "configure pattern "...), p.Configure)
		b = append(of(b), " matches the built-in exchange "...)
		return append(appendQuote(b, builtinNames[f.builtin]), " (and so may others)"...)
	case permUnused:
		b = appendQuote(append(append(b, field...), " pattern "...), permPattern(p, field))
		b = append(of(b), " matches no queue or exchange defined in vhost "...)
		return appendQuote(b, p.Vhost)
	}
	return append(b, other[f.other].msg...)
}

// diagnostic is the finding as a warning.
func (f *finding) diagnostic(other []noted) schema.Diagnostic {
	return schema.Diagnostic{File: f.file(), Pos: f.pos(), Pointer: f.pointer(), Severity: schema.Warning, Code: f.code(other), Message: f.message(other)}
}

// appendText appends the finding's line as schema.Diagnostic.AppendText
// writes it, without making its pointer and message strings.
func (f *finding) appendText(b []byte, other []noted) []byte {
	if file := f.file(); file != "" {
		b = append(b, file...)
		if f.line > 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(f.line), 10)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(f.col), 10)
		}
		b = append(b, ": "...)
	}
	n := len(b)
	if b = definitions.AppendFieldPointer(b, f.obj, f.field.String()); len(b) > n {
		b = append(b, ": "...)
	}
	b = f.appendMessage(b, other)
	b = append(b, " ["...)
	b = append(b, f.code(other)...)
	return append(b, ']')
}

// permPattern is p's pattern for field: configure, write or read.
func permPattern(p *definitions.Permission, field string) string {
	switch field {
	case "configure":
		return p.Configure
	case "write":
		return p.Write
	}
	return p.Read
}

// patternCache holds one worker's compiled regexps; literal patterns,
// most often a permission's own (^user-12\.), are parsed again rather
// than kept, into the cache's one literal: what get returns for one is
// good until the next get.
type patternCache struct {
	re      map[string]*compiled
	lit     literal
	scratch compiled
}

func (pc *patternCache) get(pat string) *compiled {
	if c, ok := pc.re[pat]; ok {
		return c
	}
	lp := pat
	if lp == "" {
		lp = "^$"
	}
	if l, ok := parseLiteral(lp); ok {
		// compilePattern's literal, without a compiled and a literal
		// made for each permission.
		pc.lit = l
		pc.scratch = compiled{pattern: pat, lit: &pc.lit}
		return &pc.scratch
	}
	c := compilePattern(pat, "")
	if pc.re == nil {
		pc.re = map[string]*compiled{}
	}
	pc.re[pat] = c
	return c
}

// permissionFindings are the findings about p alone: unanchored patterns,
// configure on amq.*, and patterns that match no queue or exchange
// defined in its vhost, nor a built-in exchange, nor a server-named queue
// (names are the vhosts' names; a vhost whose files define none is not
// checked). In that order, appended to out.
func permissionFindings(out []finding, p *definitions.Permission, names map[string][]string, cache *patternCache) []finding {
	fields := [...]struct {
		at  auditField
		pat string
	}{{atConfigure, p.Configure}, {atWrite, p.Write}, {atRead, p.Read}}
	for _, f := range fields {
		if unanchored(f.pat) {
			out = append(out, finding{obj: p, field: f.at, what: permUnanchored})
		}
	}
	if strings.Contains(strings.ToLower(p.Configure), "amq") {
		c := cache.get(p.Configure)
		for i, name := range builtinNames {
			if i == 0 {
				continue // amq.default: the default exchange cannot be declared
			}
			if ok, why := c.match(name); ok && why == "" {
				out = append(out, finding{obj: p, field: atConfigure, what: permConfigureAMQ, builtin: uint8(i)})
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
			out = append(out, finding{obj: p, field: f.at, what: permUnused})
		}
	}
	return out
}

// auditNames are, by vhost, the names of its queues and exchanges and the
// built-in exchanges', for vhosts that define any: the names alone, in one
// pass (indexing every vhost's queues and exchanges, as Resources does,
// took 2.3 MB of make bench's file to match names).
func (m *Model) auditNames() map[string][]string {
	// Each vhost's list made to its size: grown as names came, it
	// allocated twice what it holds.
	count := map[string]int{}
	for _, e := range m.doc.Exchanges {
		count[e.Vhost]++
	}
	for _, q := range m.doc.Queues {
		count[q.Vhost]++
	}
	names := make(map[string][]string, len(count))
	for v, n := range count {
		names[v] = make([]string, 0, n+len(builtinNames)+1)
	}
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
