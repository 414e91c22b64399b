package plan

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
)

// Ownership on a shared broker. Files that name an owner (warren: owner)
// make apply record, on the broker itself, which objects that owner
// manages: one global parameter per owner (OwnerParameterPrefix + owner)
// holds the objects' keys by kind. The broker is the one place every team
// and CI job already reaches, so there is no state file to lose or share.
// With an owner, prune deletes only objects in the owner's record that
// the files no longer name; objects in another owner's record, and those
// in none (made by hand, by applications), are left alone.

// OwnerParameterPrefix begins the name of each owner's record.
const OwnerParameterPrefix = "warren-owner."

// RecordFormat is the format of a record's value this warren writes and
// reads.
const RecordFormat = 1

// Record is an owner's objects: each kind's keys (definitions.Object.Key),
// sorted.
type Record struct {
	Owner   string
	Objects map[definitions.Kind][]string
}

// NewRecord is an empty record of owner.
func NewRecord(owner string) *Record {
	return &Record{Owner: owner, Objects: map[definitions.Kind][]string{}}
}

// Has reports whether the record holds o.
func (r *Record) Has(o definitions.Object) bool {
	if r == nil {
		return false
	}
	_, ok := slices.BinarySearch(r.Objects[o.Kind()], o.Key())
	return ok
}

// Len is how many objects the record holds (none for nil).
func (r *Record) Len() int {
	if r == nil {
		return 0
	}
	n := 0
	for _, keys := range r.Objects {
		n += len(keys)
	}
	return n
}

// Equal reports whether two records hold the same objects for one owner
// (no record and an empty one are equal: neither is written).
func (r *Record) Equal(o *Record) bool {
	if r.Len() == 0 && o.Len() == 0 {
		return true
	}
	if r == nil || o == nil {
		return false
	}
	return r.Owner == o.Owner && maps.EqualFunc(r.Objects, o.Objects, slices.Equal[[]string])
}

// add adds o (sorted by sort).
func (r *Record) add(o definitions.Object) {
	r.Objects[o.Kind()] = append(r.Objects[o.Kind()], o.Key())
}

func (r *Record) sort() {
	for k, keys := range r.Objects {
		slices.Sort(keys)
		keys = slices.Compact(keys)
		if len(keys) == 0 {
			delete(r.Objects, k)
			continue
		}
		r.Objects[k] = keys
	}
}

// recordValue is a record as the global parameter's value holds it: the
// keys, by kind, as gzipped JSON in base64 (a 41,200-object record is
// about a tenth of its JSON), with the owner and the count readable.
type recordValue struct {
	Warren  string `json:"warren"` // "owner-record"
	Format  int    `json:"format"`
	Owner   string `json:"owner"`
	Count   int    `json:"count"`
	Objects string `json:"objects"`
}

// Value is the record as its global parameter's value.
func (r *Record) Value() map[string]any {
	r.sort()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	json.NewEncoder(zw).Encode(r.Objects)
	zw.Close()
	return map[string]any{"warren": "owner-record", "format": RecordFormat, "owner": r.Owner, "count": r.Len(),
		"objects": base64.StdEncoding.EncodeToString(buf.Bytes())}
}

// maxRecord bounds a record's decompressed size.
const maxRecord = 256 << 20

// ReadRecord reads a record from its global parameter's value.
func ReadRecord(name string, value any) (*Record, error) {
	data, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	var v recordValue
	if err := json.Unmarshal(data, &v); err != nil || v.Warren != "owner-record" {
		return nil, fmt.Errorf("global parameter %s is not an owner's record written by warren", name)
	}
	if v.Format != RecordFormat {
		return nil, fmt.Errorf("global parameter %s: a record of format %d; this warren reads format %d", name, v.Format, RecordFormat)
	}
	if OwnerParameterPrefix+v.Owner != name {
		return nil, fmt.Errorf("global parameter %s holds the record of owner %q", name, v.Owner)
	}
	raw, err := base64.StdEncoding.DecodeString(v.Objects)
	if err != nil {
		return nil, fmt.Errorf("global parameter %s: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("global parameter %s: %w", name, err)
	}
	js, err := io.ReadAll(io.LimitReader(zr, maxRecord+1))
	if err != nil || len(js) > maxRecord {
		return nil, fmt.Errorf("global parameter %s: its objects cannot be read", name)
	}
	r := NewRecord(v.Owner)
	if err := json.Unmarshal(js, &r.Objects); err != nil {
		return nil, fmt.Errorf("global parameter %s: %w", name, err)
	}
	for k := range r.Objects {
		if _, ok := definitions.InfoOf(k); !ok {
			return nil, fmt.Errorf("global parameter %s: unknown kind %q", name, k)
		}
	}
	r.sort()
	return r, nil
}

// IsRecord reports whether a global parameter is an owner's record.
func IsRecord(g *definitions.GlobalParameter) bool {
	return strings.HasPrefix(g.Name, OwnerParameterPrefix)
}

// Records reads every owner's record among a broker's global parameters.
func Records(globals []*definitions.GlobalParameter) (map[string]*Record, error) {
	out := map[string]*Record{}
	var errs []error
	for _, g := range globals {
		if !IsRecord(g) {
			continue
		}
		r, err := ReadRecord(g.Name, g.Value)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[r.Owner] = r
	}
	return out, errors.Join(errs...)
}

// Ownership is what Diff needs to plan for an owner: the owner, its
// record on the broker (nil when it has none yet), the other owners'
// records, and whether the files take objects over from other owners.
type Ownership struct {
	Owner    string
	Mine     *Record
	Others   map[string]*Record
	TakeOver bool
}

// OwnerOf names the other owner whose record holds o, or "".
func (o *Ownership) OwnerOf(obj definitions.Object) string {
	if o == nil {
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(o.Others)) {
		if name != o.Owner && o.Others[name].Has(obj) {
			return name
		}
	}
	return ""
}

// WithOwnership plans for an owner: prune deletes only objects in its
// record, objects another owner's record holds are left alone (and, named
// by the files, taken over only with TakeOver), and the plan carries the
// record to write after the apply.
func WithOwnership(o *Ownership) DiffOption { return func(c *diffConfig) { c.ownership = o } }

// WithIgnore leaves out, on both sides, the objects ignore names (warren:
// ignore): diff never shows them and prune never touches them.
func WithIgnore(ignore func(definitions.Object) bool) DiffOption {
	return func(c *diffConfig) { c.ignore = ignore }
}

// WithForget drops the objects forget names from the owner's record,
// keeping them on the broker (warren: forget).
func WithForget(forget func(definitions.Object) bool) DiffOption {
	return func(c *diffConfig) { c.forget = forget }
}

// WithScope limits the plan to objects in these vhosts (the vhosts
// themselves included): others, and objects not in a vhost (users, global
// parameters), are neither compared nor pruned; the plan counts the files'
// objects it left out.
func WithScope(vhosts []string) DiffOption { return func(c *diffConfig) { c.scope = vhosts } }

// TakeOver is an object the plan takes over from another owner.
type TakeOver struct {
	Addr Addr
	From string
}

// clone is a copy of r (nil for nil).
func (r *Record) clone() *Record {
	if r == nil {
		return nil
	}
	out := NewRecord(r.Owner)
	for k, keys := range r.Objects {
		out.Objects[k] = slices.Clone(keys)
	}
	return out
}

// remove takes o out of the record, sorted or not.
func (r *Record) remove(o definitions.Object) {
	key := o.Key()
	r.Objects[o.Kind()] = slices.DeleteFunc(r.Objects[o.Kind()], func(k string) bool { return k == key })
}

// startRecord is the owner's record as the plan begins it: what the
// broker's record holds, less the objects of the kinds the files manage
// that the broker no longer has (whole is everything read, before ignore
// rules and a scope left anything out).
func (o *Ownership) startRecord(desired, whole *definitions.Document, scope []string) *Record {
	r := o.Mine.clone()
	if r == nil {
		return NewRecord(o.Owner)
	}
	for k, keys := range r.Objects {
		if !desired.Has(k) {
			continue // not read: nothing is known of them
		}
		have := map[string]bool{}
		for l := range whole.All(k) {
			have[l.Key()] = true
		}
		// With a scope, only what lives in its vhosts was read.
		r.Objects[k] = slices.DeleteFunc(keys, func(key string) bool { return !have[key] && keyInScope(k, key, scope) })
	}
	return r
}

// keyInScope reports whether the object of kind k and key lives in one of
// the scope's vhosts (any, without a scope). A key of a kind that lives in
// a vhost begins with the vhost's name.
func keyInScope(k definitions.Kind, key string, scope []string) bool {
	if scope == nil {
		return true
	}
	info, _ := definitions.InfoOf(k)
	switch {
	case k == definitions.KindVhost:
		return slices.Contains(scope, key)
	case info.InVhost:
		vhost, _, _ := strings.Cut(key, "\x00")
		return slices.Contains(scope, vhost)
	}
	return false
}

// finishRecord completes the record the plan writes: the files' objects
// were added, deletions leave it, and each owner an object is taken over
// from gets its record without it.
func (o *Ownership) finishRecord(p *Plan, r *Record) {
	r.sort()
	for _, ch := range p.Changes {
		if ch.Action == Delete && ch.Before != nil {
			keys := r.Objects[ch.Kind]
			if i, ok := slices.BinarySearch(keys, ch.Before.Key()); ok {
				r.Objects[ch.Kind] = slices.Delete(keys, i, i+1)
			}
		}
	}
	r.sort()
	p.Record, p.RecordBefore = r, o.Mine
	for _, t := range p.TakeOvers {
		rel, ok := p.Released[t.From]
		if !ok {
			rel = o.Others[t.From].clone()
			if p.Released == nil {
				p.Released = map[string]*Record{}
			}
			p.Released[t.From] = rel
		}
		keys := rel.Objects[t.Addr.Kind]
		if i, ok := slices.BinarySearch(keys, t.Addr.Key); ok {
			rel.Objects[t.Addr.Kind] = slices.Delete(keys, i, i+1)
		}
	}
}
