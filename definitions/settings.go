package definitions

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/warren-tool/warren/schema"
)

// Settings are warren's own keys in a definitions file: the top-level
// "warren" object, which RabbitMQ's import ignores. Owner names who owns
// the files' objects on a shared broker; Ignore names objects applications
// or the platform make at run time, which diff never shows and prune never
// touches; Forget names objects to drop from the owner's record and keep
// on the broker.
type Settings struct {
	Owner string
	// OwnerAt is where the owner was set (its file and pointer).
	OwnerAt FilePlace
	Ignore  []ObjectRule
	Forget  []ObjectRule
}

// FilePlace is a position in a file, by JSON pointer (resolved to a line
// and column when a diagnostic needs it).
type FilePlace struct {
	File    *File
	Pointer string
}

// Diagnostic is a diagnostic at p.
func (p FilePlace) Diagnostic(sev schema.Severity, code schema.Code, format string, args ...any) schema.Diagnostic {
	d := schema.Diagnostic{Severity: sev, Code: code, Pointer: p.Pointer, Message: fmt.Sprintf(format, args...)}
	if p.File != nil {
		d.File = p.File.Name
	}
	return d
}

// ObjectRule names objects by kind, vhost and name. In Ignore, Name is a
// regular expression that must match the whole name; in Forget, the
// exact name. A permission's or topic permission's name is its user, a
// binding's its destination. An empty Vhost is every vhost.
type ObjectRule struct {
	Kind  Kind
	Vhost string
	Name  string
	At    FilePlace
	re    *regexp.Regexp
}

// ObjectName is the name a rule matches o by: its name, a permission's
// user, a binding's destination.
func ObjectName(o Object) string {
	switch o := o.(type) {
	case *User:
		return o.Name
	case *Vhost:
		return o.Name
	case *Permission:
		return o.User
	case *TopicPermission:
		return o.User
	case *Parameter:
		return o.Name
	case *GlobalParameter:
		return o.Name
	case *Policy:
		return o.Name
	case *Queue:
		return o.Name
	case *Exchange:
		return o.Name
	case *Binding:
		return o.Destination
	}
	return ""
}

// Matches reports whether the rule names o: its kind, its vhost (when the
// rule gives one) and its name (a pattern, for a rule compiled as one).
func (r ObjectRule) Matches(o Object) bool {
	if o.Kind() != r.Kind || r.Vhost != "" && o.VhostName() != r.Vhost {
		return false
	}
	if r.re != nil {
		return r.re.MatchString(ObjectName(o))
	}
	return ObjectName(o) == r.Name
}

// Ignored reports whether an ignore rule names o. A binding whose
// destination queue or exchange is ignored is ignored with it.
func (s *Settings) Ignored(o Object) bool {
	if s == nil || len(s.Ignore) == 0 {
		return false
	}
	for _, r := range s.Ignore {
		if r.Matches(o) {
			return true
		}
	}
	if b, ok := o.(*Binding); ok {
		dest := Object(&Queue{Name: b.Destination, Vhost: b.Vhost})
		if b.DestinationType == "exchange" {
			dest = &Exchange{Name: b.Destination, Vhost: b.Vhost}
		}
		return s.Ignored(dest)
	}
	return false
}

// Forgotten reports whether a forget rule names o.
func (s *Settings) Forgotten(o Object) bool {
	if s == nil {
		return false
	}
	for _, r := range s.Forget {
		if r.Matches(o) {
			return true
		}
	}
	return false
}

// ownerName is what an owner's name may be: it names a global parameter
// (warren-owner.NAME) and appears in plans and logs.
var ownerName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// settings reads a file's "warren" object (the schema checked its shape).
func (c *converter) settings(v any) *Settings {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	s := &Settings{}
	if o, ok := m["owner"].(string); ok {
		s.Owner, s.OwnerAt = o, FilePlace{File: c.file, Pointer: "/warren/owner"}
		if !ownerName.MatchString(o) {
			*c.diags = append(*c.diags, s.OwnerAt.Diagnostic(schema.Error, schema.EValue, "owner %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", o))
		}
	}
	rules := func(key string, pattern bool) []ObjectRule {
		list, _ := m[key].([]any)
		var out []ObjectRule
		for i, item := range list {
			rm, ok := item.(map[string]any)
			if !ok {
				continue
			}
			r := ObjectRule{Kind: Kind(str(rm, "kind")), Vhost: str(rm, "vhost"), Name: str(rm, "name"),
				At: FilePlace{File: c.file, Pointer: "/warren/" + key + "/" + strconv.Itoa(i)}}
			if pattern {
				_, err := regexp.Compile(r.Name)
				re, _ := regexp.Compile(`^(?:` + r.Name + `)$`)
				if err != nil || re == nil {
					at := r.At
					at.Pointer += "/name"
					*c.diags = append(*c.diags, at.Diagnostic(schema.Error, schema.EIgnorePattern, "ignore pattern %q does not compile: %v", r.Name, err))
					continue
				}
				r.re = re
			}
			out = append(out, r)
		}
		return out
	}
	s.Ignore = rules("ignore", true)
	s.Forget = rules("forget", false)
	return s
}

// mergeSettings combines the files' settings: one owner (files that name
// two are an error at the second), the ignore and forget rules of all.
func mergeSettings(out, d *Document) schema.Diagnostics {
	s := d.Settings
	if s == nil {
		return nil
	}
	if out.Settings == nil {
		out.Settings = &Settings{}
	}
	var diags schema.Diagnostics
	switch o := out.Settings; {
	case s.Owner == "":
	case o.Owner == "":
		o.Owner, o.OwnerAt = s.Owner, s.OwnerAt
	case o.Owner != s.Owner:
		diag := s.OwnerAt.Diagnostic(schema.Error, schema.EOwnerConflict, "owner %q, where another file names owner %q: the files of one apply have one owner", s.Owner, o.Owner)
		diag.Also = &schema.Location{Pointer: o.OwnerAt.Pointer}
		if o.OwnerAt.File != nil {
			diag.Also.File = o.OwnerAt.File.Name
		}
		diags = append(diags, diag)
	}
	out.Settings.Ignore = append(out.Settings.Ignore, s.Ignore...)
	out.Settings.Forget = append(out.Settings.Forget, s.Forget...)
	return diags
}

// Kept is d with only the objects keep accepts: a copy whose lists are
// new (the objects are shared), so d is not changed. A kind d names keeps
// its list, even empty.
func (d *Document) Kept(keep func(Object) bool) *Document {
	out := *d
	for _, r := range kindTable {
		r.list.clone(&out)
		r.list.keep(&out, keep)
	}
	return &out
}

// InVhosts reports whether o lives in one of vhosts (a vhost is in
// itself); objects of no vhost (users, global parameters) are in none.
func InVhosts(o Object, vhosts []string) bool {
	v := o.VhostName()
	if v == "" {
		return false
	}
	for _, s := range vhosts {
		if v == s {
			return true
		}
	}
	return false
}

// Diagnose is a diagnostic at o's place in its file, positioned (for an
// object of a file; an object of no file gets none). Positioning reads the
// file: many diagnostics go through a Diagnoser, which reads each file once.
func Diagnose(o Object, sev schema.Severity, code schema.Code, format string, args ...any) schema.Diagnostic {
	var g Diagnoser
	g.Add(o, sev, code, format, args...)
	return g.Diagnostics()[0]
}

// Diagnoser collects diagnostics at objects' places and positions them all
// at once, one pass over each file, however many there are.
type Diagnoser struct {
	diags schema.Diagnostics
	files map[*File]bool
}

// Add is Diagnose, positioned later (Diagnostics).
func (g *Diagnoser) Add(o Object, sev schema.Severity, code schema.Code, format string, args ...any) {
	g.AddMessage(o, sev, code, fmt.Sprintf(format, args...))
}

// Grow makes room for n more diagnostics, when their number is known
// beforehand.
func (g *Diagnoser) Grow(n int) { g.diags = slices.Grow(g.diags, n) }

// AddMessage is Add with the message made already.
func (g *Diagnoser) AddMessage(o Object, sev schema.Severity, code schema.Code, msg string) {
	loc := Location(o)
	g.diags = append(g.diags, schema.Diagnostic{File: loc.File, Pos: loc.Pos, Pointer: loc.Pointer, Severity: sev, Code: code, Message: msg})
	if f := o.meta().Origin.File; f != nil && loc.Pos.Line == 0 {
		if g.files == nil {
			g.files = map[*File]bool{}
		}
		g.files[f] = true
	}
}

// AddField is AddMessage at one of o's fields (its value's place).
func (g *Diagnoser) AddField(o Object, field string, sev schema.Severity, code schema.Code, msg string) {
	g.AddMessage(o, sev, code, msg)
	if d := &g.diags[len(g.diags)-1]; d.File != "" && field != "" {
		d.Pointer += "/" + field
	}
}

// Diagnostics are those added, in order, positioned.
func (g *Diagnoser) Diagnostics() schema.Diagnostics {
	for f := range g.files {
		f.resolve(g.diags)
	}
	g.files = nil
	return g.diags
}

// FileName is the name of the file o was read from, "" for an object of
// no file.
func FileName(o Object) string {
	if f := o.meta().Origin.File; f != nil {
		return f.Name
	}
	return ""
}

// FieldPointer is the JSON pointer of o's field (of o itself when field
// is ""), as a diagnostic at it shows it (Diagnoser.AddField): "" for an
// object of no file.
func FieldPointer(o Object, field string) string {
	f := o.meta().Origin.File
	if f == nil {
		return ""
	}
	p := fieldPointer(o, field)
	if f.topo != nil {
		p = f.topo.pointer(p)
	}
	return p
}

// AppendFieldPointer appends FieldPointer(o, field) to b.
func AppendFieldPointer(b []byte, o Object, field string) []byte {
	f := o.meta().Origin.File
	switch {
	case f == nil:
		return b
	case f.topo != nil:
		return append(b, FieldPointer(o, field)...)
	}
	return appendFieldPointer(b, o, field)
}

// fieldPointer is the pointer of o's field in o's file, as it was read.
func fieldPointer(o Object, field string) string {
	if o.meta().Origin.File == nil {
		return ""
	}
	return string(appendFieldPointer(make([]byte, 0, 32), o, field))
}

// appendFieldPointer appends the pointer of o's field in o's file, as it
// was read (Pointer, and the field): o must be of a file.
func appendFieldPointer(b []byte, o Object, field string) []byte {
	b = append(append(append(b, '/'), o.Kind()...), '/')
	b = strconv.AppendInt(b, int64(o.meta().Origin.Index), 10)
	if field != "" {
		b = append(append(b, '/'), field...)
	}
	return b
}

// PlaceFields places n objects' fields (at gives the i-th object and
// field, "" for the object itself) as a Diagnoser places diagnostics at
// them, in one pass over each file, and gives set each position: the
// positions alone, for a caller that makes the diagnostics when it shows
// them. An object of no file, or one that cannot be placed, has none: set
// may not be called for it.
func PlaceFields(n int, at func(i int) (Object, string), set func(i int, pos schema.Pos)) {
	var files []*File
	count := map[*File]int{}
	for i := range n {
		o, _ := at(i)
		if f := o.meta().Origin.File; f != nil {
			if count[f] == 0 {
				files = append(files, f)
			}
			count[f]++
		}
	}
	in := func(i int, f *File) bool { o, _ := at(i); return o.meta().Origin.File == f }
	for _, f := range files {
		ptrs := make([]string, 0, count[f])
		var is []int32 // the objects' indices, when not all are f's
		for i := range n {
			if in(i, f) {
				ptrs = append(ptrs, fieldPointer(at(i)))
				if count[f] < n {
					is = append(is, int32(i))
				}
			}
		}
		f.placeEach(ptrs, func(j int, p schema.Pos) {
			if is != nil {
				j = int(is[j])
			}
			set(j, p)
		})
	}
}
