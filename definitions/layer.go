package definitions

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/warren-tool/warren/internal/decode"
	"github.com/warren-tool/warren/schema"
)

// Layers: an inventory entry's files are a base and overlays applied in
// order. An overlay object of the same identity (Key) as an object the
// layers below define patches it as a JSON merge patch (RFC 7386): the
// overlay's fields replace the base's, maps (arguments, definition, value,
// limits, metadata) merge key by key, and null removes a key. LayerKey in
// the overlay object changes that: "replace" puts the overlay's object in
// place of the base's, "delete" removes the base's (the overlay object
// then needs only its identity fields). Other overlay objects are added.
// Each layer is loaded and checked on its own first, so an object defined
// twice inside one layer stays an error (E020).

// LayerKey is the field of an overlay object that says how it applies.
const LayerKey = "$layer"

// Layer modes, the values of LayerKey.
const (
	LayerPatch   = "patch"
	LayerReplace = "replace"
	LayerDelete  = "delete"
)

// FieldSource says which file set one field of a patched object.
type FieldSource struct {
	Field string          // pointer inside the object: /arguments/x-max-length
	Set   schema.Location // where the overlay set it
	Was   *schema.Location
	// Removed: the overlay's null removed the field.
	Removed bool
}

// LayerChange is what one overlay object did to an object of the layers
// below it.
type LayerChange struct {
	Addr   string
	Mode   string          // LayerPatch, LayerReplace or LayerDelete
	At     schema.Location // the overlay's object
	Base   schema.Location // the object it changed
	Fields []FieldSource   // for LayerPatch: the fields it changed
}

// Layers records what overlays did: Remap points diagnostics about a
// patched field at the file that set it, Changes lists the changes.
type Layers struct {
	Changes []LayerChange
	// patched holds, per file name and object pointer, the fields that
	// overlays set in an object read from that place.
	patched map[string]map[string]*patchedObject
	raw     map[*File]map[string]any
	files   map[string]*File
}

type patchedObject struct {
	raw map[string]any       // the object's fields after the overlays so far
	src map[string]fieldFrom // field pointer → where an overlay set it
}

type fieldFrom struct {
	file *File
	ptr  string
}

// LoadLayers loads base files and overlays (each path one layer, applied
// in order) and layers them. Every layer is loaded as Load would, with its
// own duplicate check; the overlays' LayerKey fields are not reported as
// unknown. The document is nil only when the base could not be read.
func LoadLayers(base, overlays []string, opts LoadOptions) (*Document, *Layers, schema.Diagnostics) {
	doc, diags := Load(base, opts)
	l := &Layers{patched: map[string]map[string]*patchedObject{}, raw: map[*File]map[string]any{}, files: map[string]*File{}}
	if doc == nil {
		return nil, l, diags
	}
	for _, f := range doc.files {
		l.files[f.Name] = f
	}
	for _, path := range overlays {
		ov, ds := Load([]string{path}, opts)
		if ov == nil {
			diags = append(diags, ds...)
			continue
		}
		applied, matched := l.apply(doc, ov)
		// An overlay object that patches or deletes one below needs only
		// its identity: the merged object is checked against the schema.
		diags = append(diags, slices.DeleteFunc(ds, func(d schema.Diagnostic) bool {
			return (d.Code == schema.WUnknownField && strings.HasSuffix(d.Pointer, "/"+LayerKey)) ||
				(d.Code == schema.ERequired && matched[d.File+"\x00"+d.Pointer])
		})...)
		diags = append(diags, applied...)
	}
	return doc, l, diags
}

// apply lays ov over doc. matched holds the places (file NUL pointer) of
// the overlay objects that patch or delete an object below.
func (l *Layers) apply(doc, ov *Document) (diags schema.Diagnostics, matched map[string]bool) {
	matched = map[string]bool{}
	for _, f := range ov.files {
		l.files[f.Name] = f
	}
	doc.files = append(doc.files, ov.files...)
	for _, r := range kindTable {
		over := r.list.objects(ov)
		if over == nil {
			continue
		}
		cur := r.list.objects(doc)
		at := make(map[string]int, len(cur))
		for i, o := range cur {
			at[o.Key()] = i
		}
		for _, o := range over {
			mode := LayerPatch
			if extra := o.meta().Extra; extra != nil {
				if v, set := extra[LayerKey]; set {
					s, _ := v.(string)
					if s != LayerPatch && s != LayerReplace && s != LayerDelete {
						loc := Location(o)
						diags = append(diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer + "/" + LayerKey, Severity: schema.Error,
							Code: schema.ELayerMode, Message: fmt.Sprintf("%s must be %s, %s or %s", LayerKey, LayerPatch, LayerReplace, LayerDelete)})
						continue
					}
					mode = s
					delete(extra, LayerKey)
					if len(extra) == 0 {
						o.meta().Extra = nil
					}
				}
			}
			i, found := at[o.Key()]
			if !found {
				if mode == LayerDelete {
					loc := Location(o)
					diags = append(diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: schema.Warning,
						Code: schema.WLayerNothing, Message: fmt.Sprintf("%s: %s deletes nothing: the layers below do not define it", o.Addr(), LayerKey)})
					continue
				}
				at[o.Key()] = len(cur)
				cur = append(cur, o)
				continue
			}
			old := cur[i]
			ch := LayerChange{Addr: o.Addr(), Mode: mode, At: Location(o), Base: Location(old)}
			if mode != LayerReplace {
				matched[ch.At.File+"\x00"+ch.At.Pointer] = true
			}
			switch mode {
			case LayerDelete:
				cur[i] = nil
				delete(at, o.Key())
			case LayerReplace:
				cur[i] = o
			default:
				merged, fields, ds := l.patch(r, old, o)
				diags = append(diags, ds...)
				cur[i], ch.Fields = merged, fields
			}
			l.Changes = append(l.Changes, ch)
		}
		r.list.clear(doc)
		r.list.markPresent(doc)
		for _, o := range cur {
			if o != nil {
				r.list.add(doc, o)
			}
		}
	}
	l.resolve(diags)
	return diags, matched
}

// rawOf is an object's fields as its file has them (decoded again, once
// per file, only for files whose objects overlays patch). ok is false when
// the file cannot be had again as it was loaded: a large file is read
// again from disk (see File.bytes), and may have changed since.
func (l *Layers) rawOf(o Object) (raw map[string]any, ok bool) {
	og := o.meta().Origin
	top, ok := l.raw[og.File]
	if !ok {
		var v any
		switch data := og.File.bytes(); {
		case data == nil: // changed since: top stays nil
		case og.File.Format == "json":
			v, _ = decode.JSON(data)
		default:
			v, _, _ = decode.YAML(data)
		}
		top, _ = v.(map[string]any)
		l.raw[og.File] = top
	}
	if top == nil {
		return nil, false
	}
	list, _ := top[string(o.Kind())].([]any)
	if og.Index >= len(list) {
		return map[string]any{}, true
	}
	m, _ := list[og.Index].(map[string]any)
	return m, true
}

// unreadable is the error for an object whose file cannot be read again to
// layer it.
func unreadable(o Object) schema.Diagnostic {
	loc := Location(o)
	return schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: schema.Error, Code: schema.ERead,
		Message: fmt.Sprintf("cannot layer %s: %s changed since it was read (read again to apply the overlays); run again", o.Addr(), loc.File)}
}

// patch merges overlay object o into old, recording where each field it
// changes was set.
func (l *Layers) patch(r KindInfo, old, o Object) (Object, []FieldSource, schema.Diagnostics) {
	og := old.meta().Origin
	basePtr := Pointer(old)
	byPtr := l.patched[og.File.Name]
	if byPtr == nil {
		byPtr = map[string]*patchedObject{}
		l.patched[og.File.Name] = byPtr
	}
	over, ok := l.rawOf(o)
	if !ok {
		return old, nil, schema.Diagnostics{unreadable(o)}
	}
	po := byPtr[basePtr]
	if po == nil {
		raw, ok := l.rawOf(old)
		if !ok {
			return old, nil, schema.Diagnostics{unreadable(old)}
		}
		po = &patchedObject{raw: deepCopy(raw).(map[string]any), src: map[string]fieldFrom{}}
		byPtr[basePtr] = po
	}
	overPtr, overFile := Pointer(o), o.meta().Origin.File
	var fields []FieldSource
	var merge func(dst, patch map[string]any, prefix string)
	merge = func(dst, patch map[string]any, prefix string) {
		for _, k := range slices.Sorted(maps.Keys(patch)) {
			if prefix == "" && k == LayerKey {
				continue
			}
			v, p := patch[k], prefix+"/"+schema.EscapePointerToken(k)
			if vm, ok := v.(map[string]any); ok {
				if dm, ok := dst[k].(map[string]any); ok {
					merge(dm, vm, p)
					continue
				}
			}
			prev, existed := dst[k]
			if (v == nil && !existed) || (existed && reflect.DeepEqual(prev, v)) {
				continue
			}
			fs := FieldSource{Field: p, Set: schema.Location{File: overFile.Name, Pointer: overPtr + p}, Removed: v == nil}
			if existed {
				was := l.where(og.File, basePtr, po, p)
				fs.Was = &was
			}
			fields = append(fields, fs)
			if v == nil {
				delete(dst, k)
			} else {
				dst[k] = deepCopy(v)
			}
			for q := range po.src {
				if strings.HasPrefix(q, p+"/") {
					delete(po.src, q)
				}
			}
			po.src[p] = fieldFrom{file: overFile, ptr: overPtr + p}
		}
	}
	merge(po.raw, over, "")
	m := deepCopy(po.raw).(map[string]any)
	if r.InVhost {
		if _, set := m["vhost"]; !set && old.VhostName() != "" {
			m["vhost"] = old.VhostName() // a per-vhost export's object
		}
	}
	var diags schema.Diagnostics
	for _, d := range schema.ValidateDef(r.Schema, m) {
		d.File, d.Pointer = og.File.Name, basePtr+d.Pointer
		diags = append(diags, d)
	}
	c := newConverter(og.File, &diags)
	merged := r.read(c, m, og, itemPtr{s: basePtr})
	// The base's own problems were reported when it was loaded; keep only
	// those in fields an overlay set.
	diags = slices.DeleteFunc(l.Remap(diags), func(d schema.Diagnostic) bool { return d.File == og.File.Name })
	return merged, fields, diags
}

// where is the place that set field p of a patched object: an overlay's,
// or the object's own file.
func (l *Layers) where(f *File, objPtr string, po *patchedObject, p string) schema.Location {
	if src, rest, ok := po.source(p); ok {
		return schema.Location{File: src.file.Name, Pointer: src.ptr + rest}
	}
	return schema.Location{File: f.Name, Pointer: objPtr + p}
}

// source finds the overlay that set field p (or a map holding it).
func (po *patchedObject) source(p string) (fieldFrom, string, bool) {
	for q := p; q != ""; q = q[:strings.LastIndexByte(q, '/')] {
		if src, ok := po.src[q]; ok {
			return src, p[len(q):], true
		}
	}
	return fieldFrom{}, "", false
}

// Remap points diagnostics about fields that overlays set at the overlay
// that set them (with its line and column), instead of the base object the
// field now belongs to. Use it on the diagnostics of Check.
func (l *Layers) Remap(diags schema.Diagnostics) schema.Diagnostics {
	if l == nil || len(l.patched) == 0 {
		return diags
	}
	move := func(file, ptr *string, pos *schema.Pos) {
		byPtr := l.patched[*file]
		if byPtr == nil {
			return
		}
		parts := strings.SplitN(*ptr, "/", 4) // "", kind, index, rest
		if len(parts) < 3 {
			return
		}
		objPtr := "/" + parts[1] + "/" + parts[2]
		po := byPtr[objPtr]
		if po == nil || len(parts) < 4 {
			return
		}
		if src, rest, ok := po.source("/" + parts[3]); ok {
			*file, *ptr, *pos = src.file.Name, src.ptr+rest, schema.Pos{}
		}
	}
	for i := range diags {
		d := &diags[i]
		move(&d.File, &d.Pointer, &d.Pos)
		if d.Also != nil {
			move(&d.Also.File, &d.Also.Pointer, &d.Also.Pos)
		}
	}
	l.resolve(diags)
	return diags
}

// resolve finds line and column for diagnostics without them.
func (l *Layers) resolve(diags schema.Diagnostics) {
	for _, f := range l.files {
		f.resolve(diags)
	}
}

// Describe lists, one line per field, what the overlays changed:
//
//	queue "q1" in vhost "v": arguments.x-max-length set by overlay.yaml:12:7 (was base.yaml:30:9)
func (l *Layers) Describe() []string {
	var out []string
	locate := func(loc *schema.Location) {
		if f := l.files[loc.File]; f != nil {
			loc.Pos = f.positions([]string{loc.Pointer})[loc.Pointer]
		}
	}
	for _, ch := range l.Changes {
		at := ch.At
		locate(&at)
		switch ch.Mode {
		case LayerDelete:
			out = append(out, fmt.Sprintf("%s: deleted by %s", ch.Addr, posString(at)))
			continue
		case LayerReplace:
			base := ch.Base
			locate(&base)
			out = append(out, fmt.Sprintf("%s: replaced by %s (was %s)", ch.Addr, posString(at), posString(base)))
			continue
		}
		for _, fs := range ch.Fields {
			set := fs.Set
			locate(&set)
			verb := "set"
			if fs.Removed {
				verb = "removed"
			}
			line := fmt.Sprintf("%s: %s %s by %s", ch.Addr, fieldName(fs.Field), verb, posString(set))
			if fs.Was != nil {
				was := *fs.Was
				locate(&was)
				line += fmt.Sprintf(" (was %s)", posString(was))
			}
			out = append(out, line)
		}
	}
	return out
}

func posString(l schema.Location) string {
	if l.Pos.Line == 0 {
		return l.File + " " + l.Pointer
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Pos.Line, l.Pos.Col)
}

// fieldName writes a field pointer as users read it: arguments.x-max-length.
func fieldName(p string) string {
	return strings.Join(schema.SplitPointer(p), ".")
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}
