package definitions

import (
	"cmp"
	"fmt"
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
	fillVhost(d.Queues, func(o *Queue) *string { return &o.Vhost }, vhost)
	fillVhost(d.Exchanges, func(o *Exchange) *string { return &o.Vhost }, vhost)
	fillVhost(d.Bindings, func(o *Binding) *string { return &o.Vhost }, vhost)
	fillVhost(d.Policies, func(o *Policy) *string { return &o.Vhost }, vhost)
	fillVhost(d.Parameters, func(o *Parameter) *string { return &o.Vhost }, vhost)
}

// fillVhost gives the objects without a vhost this one. It changes
// copies, not the objects: a normalized document shares its objects with
// the one it was made from.
func fillVhost[T any](objs []*T, field func(*T) *string, vhost string) {
	for i, o := range objs {
		if *field(o) == "" && vhost != "" {
			c := *o
			*field(&c) = vhost
			objs[i] = &c
		}
	}
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
// place it was first defined. The keys of a kind are sorted, not put in a
// map: a map of 45,000 users' keys took 2 MB, and every kind's one more,
// all garbage at the end of loading, when the model is at its largest.
func (d *Document) duplicates() schema.Diagnostics {
	var out schema.Diagnostics
	type keyed struct {
		key string
		i   int // in the kind's list: of two equal keys, the first is first
	}
	var ks []keyed // for every kind in turn
	for _, k := range Kinds {
		ks = ks[:0]
		objs := info(k).list
		for o := range d.All(k) {
			ks = append(ks, keyed{o.Key(), len(ks)})
		}
		if len(ks) < 2 {
			continue
		}
		slices.SortFunc(ks, func(a, b keyed) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.i, b.i)) })
		var list []Object // made only when there is a duplicate
		first := 0        // where the run of ks[j]'s key starts
		for j := 1; j < len(ks); j++ {
			if ks[j].key != ks[j-1].key {
				first = j
				continue
			}
			if list == nil {
				list = objs.objects(d)
			}
			o := list[ks[j].i]
			loc, firstLoc := Location(o), Location(list[ks[first].i])
			out = append(out, schema.Diagnostic{
				File: loc.File, Pointer: loc.Pointer, Severity: schema.Error, Code: schema.EDuplicate,
				Message: fmt.Sprintf("%s is defined twice", o.Addr()), Also: &firstLoc})
		}
	}
	return out
}
