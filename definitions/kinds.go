package definitions

import (
	"fmt"
	"iter"
	"slices"
	"strings"
)

// KindInfo is one row of the table of kinds: what the code needs to know
// of a kind. Every place that goes through the kinds reads the table; a
// new kind is one type and one row.
type KindInfo struct {
	Kind   Kind
	Schema string // its definition in the schema's $defs
	Noun   string // in messages: "topic permission"
	// InVhost: the kind lives in a vhost (deleting the vhost deletes it;
	// export --vhost keeps it).
	InVhost bool
	// NeedsVhostAccess: deleting one goes through an endpoint that needs
	// access to its vhost (an administrator without permissions there is
	// refused).
	NeedsVhostAccess bool
	list             list
	// read makes one object of the kind from a file's map.
	read func(c *converter, m map[string]any, og Origin, base itemPtr) Object
	// fields gives an object's fields in canonical order.
	fields func(Object, fieldWriter)
}

// tree is an object's fields in canonical order, as an ordered tree.
func (r KindInfo) tree(o Object) omap {
	var m omap
	r.fields(o, &treeWriter{&m})
	return m
}

// list reaches a kind's slice of a Document, whatever its element type.
type list interface {
	len(d *Document) int
	present(d *Document) bool // the list is not nil
	objects(d *Document) []Object
	all(d *Document) iter.Seq[Object]
	markPresent(d *Document)
	clear(d *Document)
	add(d *Document, o Object)
	keep(d *Document, keep func(Object) bool)
	clone(d *Document)
	merge(dst, src *Document)
}

type field[T Object] func(*Document) *[]T

func (f field[T]) len(d *Document) int          { return len(*f(d)) }
func (f field[T]) present(d *Document) bool     { return *f(d) != nil }
func (f field[T]) objects(d *Document) []Object { return objects(*f(d)) }
func (f field[T]) all(d *Document) iter.Seq[Object] {
	return func(yield func(Object) bool) {
		for _, o := range *f(d) {
			if !yield(o) {
				return
			}
		}
	}
}
func (f field[T]) clear(d *Document) { *f(d) = nil }

// add appends o, doubling the list when it is full: append grows a long
// list by a quarter at a time, and 150,000 objects left four times their
// list's size in garbage.
func (f field[T]) add(d *Document, o Object) {
	p := f(d)
	if len(*p) == cap(*p) {
		*p = slices.Grow(*p, max(cap(*p), 8))
	}
	*p = append(*p, o.(T))
}
func (f field[T]) merge(dst, src *Document) { p := f(dst); *p = appendKeep(*p, *f(src)) }
func (f field[T]) markPresent(d *Document) {
	if p := f(d); *p == nil {
		*p = []T{}
	}
}
func (f field[T]) clone(d *Document) {
	if p := f(d); *p != nil {
		*p = slices.Clone(*p)
	}
}
func (f field[T]) keep(d *Document, keep func(Object) bool) {
	p := f(d)
	*p = slices.DeleteFunc(*p, func(o T) bool { return !keep(o) })
}

// kindTable is the table, in the order a broker needs the kinds created: a
// permission needs its user and vhost, a binding its exchange and queue.
var kindTable = []KindInfo{
	row(KindVhost, "vhost", "vhost", false, false, func(d *Document) *[]*Vhost { return &d.Vhosts }, (*converter).vhost, (*Vhost).fields),
	row(KindUser, "user", "user", false, false, func(d *Document) *[]*User { return &d.Users }, (*converter).user, (*User).fields),
	row(KindPermission, "permission", "permission", true, false, func(d *Document) *[]*Permission { return &d.Permissions }, (*converter).permission, (*Permission).fields),
	row(KindTopicPermission, "topic_permission", "topic permission", true, false, func(d *Document) *[]*TopicPermission { return &d.TopicPermissions }, (*converter).topicPermission, (*TopicPermission).fields),
	row(KindParameter, "parameter", "parameter", true, true, func(d *Document) *[]*Parameter { return &d.Parameters }, (*converter).parameter, (*Parameter).fields),
	row(KindGlobalParameter, "global_parameter", "global parameter", false, false, func(d *Document) *[]*GlobalParameter { return &d.GlobalParameters }, (*converter).globalParameter, (*GlobalParameter).fields),
	row(KindPolicy, "policy", "policy", true, true, func(d *Document) *[]*Policy { return &d.Policies }, (*converter).policy, (*Policy).fields),
	row(KindExchange, "exchange", "exchange", true, true, func(d *Document) *[]*Exchange { return &d.Exchanges }, (*converter).exchange, (*Exchange).fields),
	row(KindQueue, "queue", "queue", true, true, func(d *Document) *[]*Queue { return &d.Queues }, (*converter).queue, (*Queue).fields),
	row(KindBinding, "binding", "binding", true, true, func(d *Document) *[]*Binding { return &d.Bindings }, (*converter).binding, (*Binding).fields),
}

func row[T Object](k Kind, schema, noun string, inVhost, access bool, slice func(*Document) *[]T,
	read func(*converter, map[string]any, Origin, itemPtr) T, fields func(T, fieldWriter)) KindInfo {
	return KindInfo{Kind: k, Schema: schema, Noun: noun, InVhost: inVhost, NeedsVhostAccess: access, list: field[T](slice),
		read:   func(c *converter, m map[string]any, og Origin, base itemPtr) Object { return read(c, m, og, base) },
		fields: func(o Object, w fieldWriter) { fields(o.(T), w) }}
}

// Kinds lists every kind in the table's order.
var Kinds = func() []Kind {
	out := make([]Kind, len(kindTable))
	for i, r := range kindTable {
		out[i] = r.Kind
	}
	return out
}()

// InfoOf is k's row of the table; ok is false for a key that is no kind.
func InfoOf(k Kind) (KindInfo, bool) {
	i := slices.IndexFunc(kindTable, func(r KindInfo) bool { return r.Kind == k })
	if i < 0 {
		return KindInfo{}, false
	}
	return kindTable[i], true
}

// info is InfoOf for a kind known to be one.
func info(k Kind) KindInfo {
	r, _ := InfoOf(k)
	return r
}

// CountOf says n objects of kind k in words: "1 topic permission", "2
// policies" (the kind's key is its plural).
func CountOf(k Kind, n int) string {
	if n == 1 {
		return "1 " + info(k).Noun
	}
	return fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(k), "_", " "))
}
