package rabbitmq

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/decode"
)

// The broker's listings of the large kinds (users, permissions, policies,
// queues, exchanges, bindings), and those kinds' lists in its export
// (decodeDefinitions), are decoded straight into the model: no
// tree of maps, no second encoding, no schema pass over 40,000 objects.
// The fast path takes only answers it understands completely: every field
// one it knows, of the type it expects, and every field that names the
// object present. Anything else (a field a newer broker adds, a value of
// another type, a missing name) makes it give up, and the answer goes the
// way of every other: into a definitions document, through the schema and
// the converter, whose diagnostics answerErrors turns into errors. So the
// fast path gives the Document the slow one would (TestLiveDecodeAgrees),
// and refuses nothing the slow path takes.

// slowDecodes counts answers the fast path gave up on (tests read it: on
// RabbitMQ 3.10 and 4.0 none should).
var slowDecodes atomic.Int64

// errNotFast says that the fast path does not take an answer.
var errNotFast = errors.New("rabbitmq: the answer is not one the fast decoder takes")

// fastKinds are the kinds the fast path decodes.
var fastKinds = map[definitions.Kind]bool{
	definitions.KindUser: true, definitions.KindPermission: true, definitions.KindPolicy: true,
	definitions.KindQueue: true, definitions.KindExchange: true, definitions.KindBinding: true,
}

// elements reads a JSON array of objects from r one element at a time, as
// the answer arrives, and gives each element, decoded, to each (numbers as
// encoding/json writes the float64 it reads them as: the slow path decodes
// so, encodes again and parses, and both paths must agree to the digit).
// Neither the whole answer nor every element is held: each element's bytes
// are cut out in a buffer reused for the next and decoded (decode.Values),
// and the element's map, with what each puts in spare, is decoded into
// again. Anything but an array of objects that warren's decoder takes, and
// anything after the array, is errNotFast (the slow path decides what
// those are).
func elements(r io.Reader, each func(m map[string]any, spare *decode.Spare) error) error {
	er := newElementReader(r)
	var vs decode.Values
	if c, err := er.skipSpace(); err != nil || c != '[' {
		return notFast(err)
	}
	if err := er.array(&vs, each); err != nil {
		return err
	}
	if _, err := er.skipSpace(); err != io.EOF {
		return notFast(err) // more than one value
	}
	return nil
}

// array reads the array of objects at buf[start] (a '['), giving each
// element to each, as elements does.
func (er *elementReader) array(vs *decode.Values, each func(m map[string]any, spare *decode.Spare) error) error {
	er.start++
	for first := true; ; first = false {
		c, err := er.skipSpace()
		if err != nil {
			return notFast(err)
		}
		if c == ']' {
			er.start++
			return nil
		}
		if !first {
			if c != ',' {
				return errNotFast
			}
			er.start++
			if c, err = er.skipSpace(); err != nil {
				return notFast(err)
			}
		}
		if c != '{' {
			return errNotFast
		}
		elem, err := er.object()
		if err != nil {
			return notFast(err)
		}
		v, derr := vs.Decode(elem)
		if derr != nil {
			return notFast(derr)
		}
		m := v.(map[string]any)
		if !floatNumbers(m) {
			return errNotFast
		}
		if err := each(m, vs.Spare()); err != nil {
			return err
		}
		vs.Spare().Put(m)
	}
}

// maxFastElement bounds one element of a listing the fast path reads: a
// broker's objects are at most a few KiB (a queue with many arguments).
const maxFastElement = MaxObjectAnswer

// elementReader reads a JSON array's elements from r: buf[start:] holds
// what was read and not yet taken.
type elementReader struct {
	r     io.Reader
	buf   []byte
	start int
	err   error // the reader's, once it has one
}

func newElementReader(r io.Reader) *elementReader {
	return &elementReader{r: r, buf: make([]byte, 0, 32<<10)}
}

// fill reads more, keeping buf[start:]; it fails once the reader has.
func (er *elementReader) fill() error {
	if er.err != nil {
		return er.err
	}
	if er.start > 0 {
		n := copy(er.buf, er.buf[er.start:])
		er.buf, er.start = er.buf[:n], 0
	}
	if len(er.buf) == cap(er.buf) {
		if cap(er.buf) >= maxFastElement {
			// An element this large is left to the slow path, which
			// reads the answer in bounded chunks: doubling this buffer
			// took an endless element to 970 MiB within 512 MiB read.
			return errNotFast
		}
		er.buf = slices.Grow(er.buf, cap(er.buf))
	}
	n, err := er.r.Read(er.buf[len(er.buf):cap(er.buf)])
	er.buf = er.buf[:len(er.buf)+n]
	if err != nil && n == 0 {
		er.err = err
		return err
	}
	return nil
}

// skipSpace moves past whitespace to the next byte, which it returns
// without taking it; io.EOF at the end.
func (er *elementReader) skipSpace() (byte, error) {
	for {
		for er.start < len(er.buf) {
			switch c := er.buf[er.start]; c {
			case ' ', '\t', '\n', '\r':
				er.start++
			default:
				return c, nil
			}
		}
		if err := er.fill(); err != nil {
			return 0, err
		}
	}
}

// object takes the object at buf[start] (a '{'), returning its bytes: its
// braces matched outside strings. It checks nothing else (the decoder does).
func (er *elementReader) object() ([]byte, error) {
	depth, inString, escaped := 0, false, false
	for i := er.start; ; i++ {
		if i == len(er.buf) {
			off := i - er.start
			if err := er.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			i = er.start + off
		}
		c := er.buf[i]
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped, inString = c == '\\', c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				out := er.buf[er.start : i+1]
				er.start = i + 1
				return out, nil
			}
		}
	}
}

// notFast is errNotFast, wrapping what made the fast path give up.
func notFast(err error) error {
	if err == nil || err == io.EOF {
		return errNotFast
	}
	return fmt.Errorf("%w: %w", errNotFast, err)
}

// floatNumbers turns the numbers of a decoded value, in place, into what
// encoding/json gives for them: the float64 it reads, written as it writes
// one. false: a number no float64 holds (encoding/json refuses it too).
func floatNumbers(v any) bool {
	var ok bool
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if v[k], ok = floatNumber(e); !ok {
				return false
			}
		}
	case []any:
		for i, e := range v {
			if v[i], ok = floatNumber(e); !ok {
				return false
			}
		}
	}
	return true
}

// floatNumber is floatNumbers for one value, which it returns.
func floatNumber(v any) (any, bool) {
	n, isNumber := v.(json.Number)
	if !isNumber {
		return v, floatNumbers(v)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, false
	}
	return number(f), true
}

// An object is one element of a listing, read field by field as the fast
// path takes them: a field that is absent or null is absent; one of
// another type, or one the kind does not have, makes the fast path give
// up (ok turns false).
type object struct {
	m  map[string]any
	ok bool
}

// known reports whether every field of o is one of names.
func (o *object) known(names ...string) bool {
	for k := range o.m {
		if !slices.Contains(names, k) {
			o.ok = false
		}
	}
	return o.ok
}

// str is a string field, and whether it is there.
func (o *object) str(k string) (string, bool) {
	switch v := o.m[k].(type) {
	case nil:
		return "", false
	case string:
		return v, true
	}
	o.ok = false
	return "", false
}

// vhost is the vhost field of an object of a vhost: absent is "" (a
// per-vhost answer's), but null is no vhost at all, which the slow path
// refuses (an identity field).
func (o *object) vhost() string {
	v, ok := o.m["vhost"]
	if ok && v == nil {
		o.ok = false
	}
	s, _ := o.str("vhost")
	return s
}

// boolean is a boolean field, nil when absent: one of two pointers the
// listing shares (its objects are read-only).
func (o *object) boolean(k string) *bool {
	switch v := o.m[k].(type) {
	case nil:
		return nil
	case bool:
		if v {
			return &yes
		}
		return &no
	}
	o.ok = false
	return nil
}

// The booleans of the model objects the fast path makes.
var yes, no = true, false

// obj is an object field, nil when absent.
func (o *object) obj(k string) map[string]any {
	switch v := o.m[k].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	}
	o.ok = false
	return nil
}

var (
	userFields       = []string{"name", "password_hash", "hashing_algorithm", "tags", "limits"}
	permissionFields = []string{"user", "vhost", "configure", "write", "read"}
	policyFields     = []string{"vhost", "name", "pattern", "apply-to", "priority", "definition"}
	queueFields      = []string{"name", "vhost", "type", "durable", "auto_delete", "exclusive", "arguments"}
	exchangeFields   = []string{"name", "vhost", "type", "durable", "auto_delete", "internal", "arguments"}
	bindingFields    = []string{"source", "vhost", "destination", "destination_type", "routing_key", "arguments", "properties_key"}
)

// elementCost is what one decoded element keeps in memory at least, past
// its own strings: the model's struct (104 to 128 bytes), its pointer in
// the list, and the list's spare capacity.
const elementCost = 160

// decodeFast decodes one kind's listing from r into doc as it arrives,
// keeping what ReadKinds keeps (no exclusive queue, built-in exchange or
// implicit binding). It returns an error wrapping errNotFast when the slow
// path must decide; doc is then left as it was.
func decodeFast(doc *definitions.Document, k definitions.Kind, r io.Reader) error {
	d, ok := newFastDecoder(k)
	if !ok {
		return errNotFast
	}
	if err := elements(r, d.element(chargeOf(r))); err != nil {
		return err
	}
	d.commit(doc)
	return nil
}

// A fastDecoder takes the elements of one kind's list into the model:
// each adds one element, commit puts what was taken in a Document once
// the whole list is.
type fastDecoder struct {
	each   func(o *object) error
	commit func(doc *definitions.Document)
}

// newFastDecoder is the fast decoder of kind k, if the fast path takes k.
func newFastDecoder(k definitions.Kind) (fastDecoder, bool) {
	sh := newSharer()
	var (
		each   func(o *object) error
		commit func(doc *definitions.Document)
	)
	switch k {
	case definitions.KindUser:
		out := []*definitions.User{}
		commit = func(doc *definitions.Document) { doc.Users = out }
		each = func(o *object) error {
			name, named := o.str("name")
			algorithm, _ := o.str("hashing_algorithm")
			var hash *string
			if h, ok := o.str("password_hash"); ok {
				hash = &h
			}
			if !o.known(userFields...) || !named {
				return errNotFast
			}
			tags, ok := liveTags(o.m["tags"], sh)
			if !ok {
				return errNotFast
			}
			limits, ok := liveLimits(o.m["limits"])
			if !ok {
				return errNotFast
			}
			if limits != nil && len(limits) == 0 {
				limits = sh.noLimits
			}
			out = append(out, &definitions.User{Name: name, PasswordHash: hash,
				HashingAlgorithm: sh.str(algorithm), Tags: tags, Limits: limits})
			return nil
		}
	case definitions.KindPermission:
		out := []*definitions.Permission{}
		commit = func(doc *definitions.Document) { doc.Permissions = out }
		each = func(o *object) error {
			user, u := o.str("user")
			vhost, v := o.str("vhost")
			configure, c := o.str("configure")
			write, w := o.str("write")
			read, r := o.str("read")
			if !o.known(permissionFields...) || !u || !v || !c || !w || !r {
				return errNotFast
			}
			out = append(out, &definitions.Permission{User: user, Vhost: sh.str(vhost),
				Configure: sh.str(configure), Write: sh.str(write), Read: sh.str(read)})
			return nil
		}
	case definitions.KindPolicy:
		out := []*definitions.Policy{}
		commit = func(doc *definitions.Document) { doc.Policies = out }
		each = func(o *object) error {
			vhost := o.vhost()
			name, named := o.str("name")
			pattern, patterned := o.str("pattern")
			applyTo, _ := o.str("apply-to")
			def := o.obj("definition")
			if !o.known(policyFields...) || !named || !patterned || def == nil {
				return errNotFast
			}
			pol := &definitions.Policy{Vhost: vhost, Name: name, Pattern: pattern, ApplyTo: applyTo, Definition: def}
			if p := o.m["priority"]; p != nil {
				n, ok := wholeNumber(p)
				if !ok {
					return errNotFast
				}
				pol.Priority = &n
			}
			out = append(out, pol)
			return nil
		}
	case definitions.KindQueue:
		out := []*definitions.Queue{}
		commit = func(doc *definitions.Document) { doc.Queues = out }
		each = func(o *object) error {
			name, named := o.str("name")
			vhost := o.vhost()
			typ, _ := o.str("type")
			durable, autoDelete, exclusive, args := o.boolean("durable"), o.boolean("auto_delete"), o.boolean("exclusive"), o.obj("arguments")
			if !o.known(queueFields...) || !named {
				return errNotFast
			}
			if exclusive != nil && *exclusive {
				return nil
			}
			out = append(out, &definitions.Queue{Vhost: sh.str(vhost), Name: name, Type: sh.str(typ),
				Durable: durable, AutoDelete: autoDelete, Arguments: sh.args(args)})
			return nil
		}
	case definitions.KindExchange:
		out := []*definitions.Exchange{}
		commit = func(doc *definitions.Document) { doc.Exchanges = out }
		each = func(o *object) error {
			name, named := o.str("name")
			vhost := o.vhost()
			typ, typed := o.str("type")
			durable, autoDelete, internal, args := o.boolean("durable"), o.boolean("auto_delete"), o.boolean("internal"), o.obj("arguments")
			if !o.known(exchangeFields...) || !named {
				return errNotFast
			}
			if name == "" || strings.HasPrefix(name, "amq.") {
				return nil
			}
			if !typed {
				return errNotFast
			}
			out = append(out, &definitions.Exchange{Vhost: sh.str(vhost), Name: name, Type: sh.str(typ),
				Durable: durable, AutoDelete: autoDelete, Internal: internal, Arguments: sh.args(args)})
			return nil
		}
	case definitions.KindBinding:
		out := []*definitions.Binding{}
		commit = func(doc *definitions.Document) { doc.Bindings = out }
		each = func(o *object) error {
			source, sourced := o.str("source")
			vhost := o.vhost()
			destination, destined := o.str("destination")
			destinationType, destTyped := o.str("destination_type")
			routingKey, _ := o.str("routing_key")
			args := o.obj("arguments")
			if !o.known(bindingFields...) || !sourced {
				return errNotFast
			}
			if source == "" {
				return nil
			}
			if !destined || !destTyped {
				return errNotFast
			}
			out = append(out, &definitions.Binding{Vhost: sh.str(vhost), Source: sh.str(source), Destination: destination,
				DestinationType: sh.str(destinationType), RoutingKey: routingKey, Arguments: sh.args(args)})
			return nil
		}
	default:
		return fastDecoder{}, false
	}
	return fastDecoder{each: each, commit: commit}, true
}

// element is what elements calls with each element of the list: charge
// counts what keeping it costs against the answer's limit.
func (d fastDecoder) element(charge func(int64)) func(m map[string]any, spare *decode.Spare) error {
	var o object // one for every element
	return func(m map[string]any, spare *decode.Spare) error {
		charge(elementCost)
		o = object{m: m, ok: true}
		if err := d.each(&o); err != nil {
			return err
		}
		if !o.ok {
			return errNotFast
		}
		// What the model copied goes back to the decoder: arguments (a
		// Table now) and limits.
		for _, k := range []string{"arguments", "limits"} {
			if a, ok := m[k].(map[string]any); ok {
				spare.Put(a)
			}
		}
		return nil
	}
}

// chargeOf is how an answer read from r counts what its decoded elements
// keep in memory: each element kept costs memory beyond its bytes, and a
// bounded answer counts it against its limit (a never-ending list of
// {"name":"u"} otherwise grew 1.9 GB of users within 512 MiB of answer).
func chargeOf(r io.Reader) func(int64) {
	if b, ok := r.(interface{ charge(int64) }); ok {
		return b.charge
	}
	return func(int64) {}
}

// A sharer makes equal values of one listing share memory, which the live
// definitions hold all through a diff: the vhost of 10,000 queues is one
// string, their equal arguments ({"x-queue-type":"classic"} on RabbitMQ
// 4.0) one Table, every user's empty limits one map. So the objects
// ReadKinds returns must be taken as read-only: a map is copied before it
// is changed (Normalize and the planner do), and a Table is never changed.
type sharer struct {
	strings  map[string]string
	tables   map[string]definitions.Table
	noLimits map[string]int64
}

func newSharer() *sharer {
	return &sharer{strings: map[string]string{}, tables: map[string]definitions.Table{}, noLimits: map[string]int64{}}
}

// str is the first string equal to s the listing had.
func (sh *sharer) str(s string) string {
	if shared, ok := sh.strings[s]; ok {
		return shared
	}
	sh.strings[s] = s
	return s
}

// args is m as a Table, the first equal one the listing had: equal Tables
// encode alike (sorted keys, numbers as written, and written one way by
// number). An empty Table shares nothing to begin with.
func (sh *sharer) args(m map[string]any) definitions.Table {
	t := definitions.TableOf(m)
	if len(t) == 0 {
		return t
	}
	key, err := t.MarshalJSON()
	if err != nil {
		return t
	}
	if shared, ok := sh.tables[string(key)]; ok {
		return shared
	}
	sh.tables[string(key)] = t
	return t
}

// numbers turns the float64s of a decoded value into json.Number, as the
// model holds them, in place.
func numbers(v any) any {
	switch v := v.(type) {
	case float64:
		return number(v)
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// number writes a float64 as encoding/json does.
func number(f float64) any {
	b, err := json.Marshal(f)
	if err != nil {
		return f // NaN or an infinity, which JSON cannot hold
	}
	return json.Number(b)
}

// liveTags reads a user's tags as the converter does: a list of strings
// or RabbitMQ's comma-separated string; absent or null is nil.
func liveTags(v any, sh *sharer) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return definitions.SplitTags(v), true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, sh.str(s))
		}
		return out, true
	}
	return nil, false
}

// liveLimits reads a user's limits: an object of integers (RabbitMQ 3.10
// and 4.0 write {} for none, or [] once all were cleared); absent or null
// is nil.
func liveLimits(v any) (map[string]int64, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case []any:
		if len(v) > 0 {
			return nil, false
		}
		return nil, true // not an object: the converter keeps no limits
	case map[string]any:
		out := make(map[string]int64, len(v))
		for k, e := range v {
			n, ok := numbers(e).(json.Number)
			if !ok {
				return nil, false
			}
			i, err := n.Int64()
			if err != nil {
				return nil, false
			}
			out[k] = i
		}
		return out, true
	}
	return nil, false
}

// wholeNumber reads a whole number, 1 and 1.0 alike, as the converter
// reads a policy's priority.
func wholeNumber(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// decodeDefinitions decodes GET /api/definitions from r as it arrives: the
// lists of the kinds the fast path takes (users, permissions, policies,
// queues, exchanges, bindings) straight into the model, element by element
// as decodeFast decodes a listing (the export's objects are the listings'
// less a few fields); the rest (version fields, vhosts, topic permissions,
// parameters, global parameters: a few KiB) through the schema and the
// converter, as definitions.Parse reads a whole export. It returns an
// error wrapping errNotFast when the slow path must decide: an answer
// that is not one JSON object, a key twice, one of those lists that is
// not a list or has an element the fast path does not take, or a rest the
// schema refuses (answerErrors).
func decodeDefinitions(name string, r io.Reader) (*definitions.Document, error) {
	er := newElementReader(r)
	var vs decode.Values
	charge := chargeOf(r)
	if c, err := er.skipSpace(); err != nil || c != '{' {
		return nil, notFast(err)
	}
	er.start++
	rest := []byte{'{'}
	seen := map[string]bool{}
	var fast []fastDecoder
	for first := true; ; first = false {
		c, err := er.skipSpace()
		if err != nil {
			return nil, notFast(err)
		}
		if c == '}' {
			er.start++
			break
		}
		if !first {
			if c != ',' {
				return nil, errNotFast
			}
			er.start++
			if c, err = er.skipSpace(); err != nil {
				return nil, notFast(err)
			}
		}
		if c != '"' {
			return nil, errNotFast
		}
		rawKey, err := er.str()
		if err != nil {
			return nil, notFast(err)
		}
		var key string
		if err := json.Unmarshal(rawKey, &key); err != nil || seen[key] {
			return nil, errNotFast
		}
		seen[key] = true
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = append(rest, rawKey...) // a copy: the buffer is read into again
		if c, err = er.skipSpace(); err != nil || c != ':' {
			return nil, notFast(err)
		}
		er.start++
		if c, err = er.skipSpace(); err != nil {
			return nil, notFast(err)
		}
		if d, ok := newFastDecoder(definitions.Kind(key)); ok {
			if c != '[' {
				return nil, errNotFast
			}
			if err := er.array(&vs, d.element(charge)); err != nil {
				return nil, err
			}
			fast = append(fast, d)
			rest = append(rest, ":[]"...) // the kind is there; its objects come from d
			continue
		}
		raw, err := er.value()
		if err != nil {
			return nil, notFast(err)
		}
		rest = append(rest, ':')
		rest = append(rest, raw...)
	}
	if _, err := er.skipSpace(); err != io.EOF {
		return nil, notFast(err) // more than one value
	}
	rest = append(rest, '}')
	doc, diags := definitions.Parse(name, rest)
	if answerErrors(doc, diags) != nil {
		return nil, errNotFast
	}
	for _, d := range fast {
		d.commit(doc)
	}
	return doc, nil
}

// str takes the string at buf[start] (a '"'), returning its bytes with
// the quotes; it checks nothing else.
func (er *elementReader) str() ([]byte, error) {
	escaped := false
	for i := er.start + 1; ; i++ {
		if i == len(er.buf) {
			off := i - er.start
			if err := er.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			i = er.start + off
		}
		switch c := er.buf[i]; {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			out := er.buf[er.start : i+1]
			er.start = i + 1
			return out, nil
		}
	}
}

// value takes the JSON value at buf[start], returning its bytes: an object
// or array (object), a string (str), or a number or literal, up to the
// next delimiter. It checks nothing else (the caller's decoder does).
func (er *elementReader) value() ([]byte, error) {
	switch er.buf[er.start] {
	case '{', '[':
		return er.object()
	case '"':
		return er.str()
	}
	for i := er.start; ; i++ {
		if i == len(er.buf) {
			off := i - er.start
			if err := er.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
			i = er.start + off
		}
		switch er.buf[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			out := er.buf[er.start:i]
			er.start = i
			return out, nil
		}
	}
}
