package definitions

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"

	"github.com/warren-tool/warren/schema"
)

// Merge combines documents read from several files into one. Objects keep
// their origins, so problems still point into the file they came from. A
// per-vhost export's queues, exchanges, bindings, policies and parameters get
// the export's vhost (original_vhost_name), since the merged document is
// cluster-wide. Version fields come from the first document that has them.
func Merge(docs ...*Document) *Document {
	out := &Document{}
	for _, d := range docs {
		out.files = append(out.files, d.files...)
		out.RabbitVersion = cmp.Or(out.RabbitVersion, d.RabbitVersion)
		out.RabbitMQVersion = cmp.Or(out.RabbitMQVersion, d.RabbitMQVersion)
		out.ProductName = cmp.Or(out.ProductName, d.ProductName)
		out.ProductVersion = cmp.Or(out.ProductVersion, d.ProductVersion)
		out.Explanation = cmp.Or(out.Explanation, d.Explanation)
		out.OriginalClusterName = cmp.Or(out.OriginalClusterName, d.OriginalClusterName)
		if d.PerVhost() && d.OriginalVhostName != "" {
			d.FillVhost(d.OriginalVhostName)
		}
		for k, v := range d.Extra {
			if out.Extra == nil {
				out.Extra = map[string]any{}
			}
			if _, set := out.Extra[k]; !set {
				out.Extra[k] = v
			}
		}
		for _, r := range kindTable {
			r.list.merge(out, d)
		}
		out.mergeDiags = append(out.mergeDiags, mergeSettings(out, d)...)
	}
	return out
}

// appendKeep appends, keeping the difference between absent (nil) and
// present but empty.
func appendKeep[T any](dst, src []T) []T {
	if src != nil && dst == nil {
		dst = make([]T, 0, len(src))
	}
	return append(dst, src...)
}

// FillVhost sets the vhost of objects that name none: those of a per-vhost
// export, which take the vhost it was made from.
func (d *Document) FillVhost(vhost string) {
	d.Queues = fillVhost(d.Queues, func(o *Queue) *string { return &o.Vhost }, vhost)
	d.Exchanges = fillVhost(d.Exchanges, func(o *Exchange) *string { return &o.Vhost }, vhost)
	d.Bindings = fillVhost(d.Bindings, func(o *Binding) *string { return &o.Vhost }, vhost)
	d.Policies = fillVhost(d.Policies, func(o *Policy) *string { return &o.Vhost }, vhost)
	d.Parameters = fillVhost(d.Parameters, func(o *Parameter) *string { return &o.Vhost }, vhost)
}

// fillVhost gives the objects without a vhost this one. It changes
// copies, not the objects, in a copy of the list: a normalized document
// shares its objects, and may share its lists (NormalizeShared), with the
// one it was made from.
func fillVhost[T any](objs []*T, field func(*T) *string, vhost string) []*T {
	copied := false
	for i, o := range objs {
		if *field(o) == "" && vhost != "" {
			if !copied {
				objs, copied = slices.Clone(objs), true
			}
			c := *o
			*field(&c) = vhost
			objs[i] = &c
		}
	}
	return objs
}

// Pointer returns the JSON pointer of an object in the file it came from,
// or "" when it came from no file.
func Pointer(o Object) string {
	og := o.meta().Origin
	if og.File == nil {
		return ""
	}
	return "/" + string(o.Kind()) + "/" + strconv.Itoa(og.Index)
}

// Location returns where an object was read from.
func Location(o Object) schema.Location {
	og := o.meta().Origin
	if og.File == nil {
		return schema.Location{}
	}
	return schema.Location{File: og.File.Name, Pointer: Pointer(o)}
}

// duplicates reports objects defined more than once (E020), each with the
// place it was first defined, in the order of their keys. A kind's objects
// are not put in a map nor sorted by their keys: a map of 45,000 users'
// keys took 2 MB, and making every object's key (permissions, queues and
// bindings join theirs) allocated 60% of the file's size for 1,500,000
// objects, all garbage at the end of loading, when the model is at its
// largest. A hash of each key is sorted instead, and keys are made only
// for the objects whose hash another shares.
func (d *Document) duplicates() schema.Diagnostics {
	var out schema.Diagnostics
	type keyed struct {
		key string
		i   int // in the kind's list: of two equal keys, the first is first
	}
	var (
		h      maphash.Hash
		shared map[uint64]bool // the hashes two objects of the kind have
		run    []keyed
	)
	hash := func(o Object) uint64 {
		h.Reset()
		writeKey(&h, o)
		return h.Sum64()
	}
	most := 0
	for _, k := range Kinds {
		most = max(most, info(k).list.len(d))
	}
	hs := make([]uint64, 0, most) // for every kind in turn
	for _, k := range Kinds {
		hs = hs[:0]
		for o := range d.All(k) {
			hs = append(hs, hash(o))
		}
		slices.Sort(hs)
		clear(shared)
		for j := 1; j < len(hs); j++ {
			if hs[j] == hs[j-1] {
				if shared == nil {
					shared = map[uint64]bool{}
				}
				shared[hs[j]] = true
			}
		}
		if len(shared) == 0 {
			continue
		}
		// Equal keys, or (rarely) equal hashes of different keys.
		list := info(k).list.objects(d)
		run = run[:0]
		for i, o := range list {
			if shared[hash(o)] {
				run = append(run, keyed{o.Key(), i})
			}
		}
		slices.SortFunc(run, func(a, b keyed) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.i, b.i)) })
		first := 0 // where the run of run[j]'s key starts
		for j := 1; j < len(run); j++ {
			if run[j].key != run[j-1].key {
				first = j
				continue
			}
			o := list[run[j].i]
			loc, firstLoc := Location(o), Location(list[run[first].i])
			out = append(out, schema.Diagnostic{
				File: loc.File, Pointer: loc.Pointer, Severity: schema.Error, Code: schema.EDuplicate,
				Message: fmt.Sprintf("%s is defined twice", o.Addr()), Also: &firstLoc})
		}
	}
	return out
}
