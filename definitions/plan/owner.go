package plan

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
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

// Record building: while a plan is made, its record holds what it began
// with, sorted, and added holds the keys it did not have yet, so that an
// owner's diff in sync sorts nothing.
type recordBuilder struct {
	*Record
	added map[definitions.Kind][]string
}

// add adds the object of kind k and key, unless the record holds it.
func (r *recordBuilder) add(k definitions.Kind, key string) {
	if _, ok := slices.BinarySearch(r.Objects[k], key); ok {
		return
	}
	if r.added == nil {
		r.added = map[definitions.Kind][]string{}
	}
	r.added[k] = append(r.added[k], key)
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
// keys, by kind, gzipped in base64, with the owner and the count readable.
// Inside the gzip, each kind is its name, its count and its keys, each
// string preceded by its length (a uvarint): no escaping to undo, so a
// record of 41,200 objects (about 130 KB) reads in a few milliseconds.
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
	var n [binary.MaxVarintLen64]byte
	str := func(s string) {
		zw.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		io.WriteString(zw, s)
	}
	for _, k := range definitions.Kinds {
		keys := r.Objects[k]
		if len(keys) == 0 {
			continue
		}
		str(string(k))
		zw.Write(n[:binary.PutUvarint(n[:], uint64(len(keys)))])
		for _, key := range keys {
			str(key)
		}
	}
	zw.Close()
	return map[string]any{"warren": "owner-record", "format": RecordFormat, "owner": r.Owner, "count": r.Len(),
		"objects": base64.StdEncoding.EncodeToString(buf.Bytes())}
}

// maxRecord bounds a record's decompressed size.
const maxRecord = 256 << 20

// ReadRecord reads a record from its global parameter's value.
func ReadRecord(name string, value any) (*Record, error) {
	js, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	var v recordValue
	if err := json.Unmarshal(js, &v); err != nil || v.Warren != "owner-record" {
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
	data, err := io.ReadAll(io.LimitReader(zr, maxRecord+1))
	if err != nil || len(data) > maxRecord {
		return nil, fmt.Errorf("global parameter %s: its objects cannot be read", name)
	}
	r := NewRecord(v.Owner)
	if err := r.decode(string(data)); err != nil {
		return nil, fmt.Errorf("global parameter %s: its objects cannot be read: %w", name, err)
	}
	r.sort()
	return r, nil
}

// decode reads the keys of a record's objects (see recordValue); they are
// slices of data, one string.
func (r *Record) decode(data string) error {
	pos := 0
	uvarint := func() (int, error) {
		var v uint64
		for shift := 0; shift < 64; shift += 7 {
			if pos >= len(data) {
				return 0, io.ErrUnexpectedEOF
			}
			b := data[pos]
			pos++
			v |= uint64(b&0x7f) << shift
			if b < 0x80 {
				if v > uint64(len(data)) {
					return 0, errors.New("a length beyond the data")
				}
				return int(v), nil
			}
		}
		return 0, errors.New("a length too long")
	}
	str := func() (string, error) {
		l, err := uvarint()
		if err != nil {
			return "", err
		}
		if pos+l > len(data) {
			return "", io.ErrUnexpectedEOF
		}
		s := data[pos : pos+l]
		pos += l
		return s, nil
	}
	for pos < len(data) {
		k, err := str()
		if err != nil {
			return err
		}
		if _, ok := definitions.InfoOf(definitions.Kind(k)); !ok {
			return fmt.Errorf("unknown kind %q", k)
		}
		count, err := uvarint()
		if err != nil {
			return err
		}
		keys := make([]string, 0, count)
		for range count {
			key, err := str()
			if err != nil {
				return err
			}
			keys = append(keys, key)
		}
		r.Objects[definitions.Kind(k)] = keys
	}
	return nil
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

	others []*Record // Others without Owner's, by owner: OwnerOf's order
}

// OwnerOf names the other owner whose record holds o, or "" (the first by
// name, should two records hold it).
func (o *Ownership) OwnerOf(obj definitions.Object) string {
	if o == nil || len(o.Others) == 0 {
		return ""
	}
	if len(o.others) == 0 {
		for _, name := range slices.Sorted(maps.Keys(o.Others)) {
			if name != o.Owner {
				o.others = append(o.others, o.Others[name])
			}
		}
	}
	k, key := obj.Kind(), obj.Key()
	for _, r := range o.others {
		if _, ok := slices.BinarySearch(r.Objects[k], key); ok {
			return r.Owner
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
func (o *Ownership) startRecord() *recordBuilder {
	if r := o.Mine.clone(); r != nil {
		return &recordBuilder{Record: r}
	}
	return &recordBuilder{Record: NewRecord(o.Owner)}
}

// dropGone takes out of the record the objects of kind k (a kind the
// files manage, so read) that the broker no longer has: have holds the
// keys of what was read and compared. With a scope, only what lives in
// its vhosts was.
func (r *Record) dropGone(k definitions.Kind, have map[string]int, scope []string) {
	keys := r.Objects[k]
	r.Objects[k] = slices.DeleteFunc(keys, func(key string) bool {
		_, ok := have[key]
		return !ok && keyInScope(k, key, scope)
	})
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
func (o *Ownership) finishRecord(p *Plan, b *recordBuilder) {
	r := b.Record
	for k, keys := range b.added {
		r.Objects[k] = append(r.Objects[k], keys...)
	}
	if len(b.added) > 0 {
		r.sort()
	}
	for _, ch := range p.Changes {
		if ch.Action == Delete && ch.Before != nil {
			keys := r.Objects[ch.Kind]
			if i, ok := slices.BinarySearch(keys, ch.Before.Key()); ok {
				r.Objects[ch.Kind] = slices.Delete(keys, i, i+1)
			}
		}
	}
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
