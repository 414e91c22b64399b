package decode

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/warren-tool/warren/schema"
)

// maxDepth bounds how deeply objects and arrays may nest. Real definitions
// files nest five or six levels (a shovel's value in a parameter); the bound
// keeps hostile input from exhausting the stack.
const maxDepth = 64

// Error is a problem found while decoding, at a byte offset or (for
// YAML) at a line and column.
type Error struct {
	Code    schema.Code
	Off     int // byte offset, or -1 when Pos is set
	Pos     schema.Pos
	Pointer string
	Msg     string
	// First is where a duplicate key was first seen, for YAML.
	First *schema.Pos
}

func (e *Error) Error() string { return e.Msg }

// jsonDecoder decodes JSON into plain values (map[string]any, []any, string,
// json.Number, bool, nil). Unlike encoding/json it refuses duplicate keys and
// bounds nesting, and it reports byte offsets.
type jsonDecoder struct {
	data []byte
	pos  int
	path []step // keys and indexes of the value being decoded

	stream Stream // what goes to a callback instead of into the result
	// spare holds maps to decode objects into: the element stream.Item was
	// given last, and what Item gave back (stream.Spare). 150,000 objects
	// then cost a few maps, not 150,000 and their arguments' 150,000.
	spare *Spare

	// interned holds the short strings seen so far (keys, vhost names,
	// types), so a file's thousands of repeats of "vhost" or "/" share one
	// copy instead of each being allocated and kept by the model.
	interned map[string]any
	// recent is a direct-mapped cache in front of interned: the keys and
	// values a file repeats thousands of times are found by comparing
	// bytes, without hashing them (hashing was a tenth of validate's time).
	recent [recentSize]any
	// boxed is the interned value of the string string() decoded last, or
	// nil: a value shares its interface value too, not only its bytes.
	boxed any
	// internLimit is how many distinct strings interned may hold; 0 is
	// maxInterned.
	internLimit int
}

// step is one key (index < 0) or array index of a pointer.
type step struct {
	key   string
	index int
}

// Interning bounds: strings up to maxInternLen bytes are shared. A file's
// table holds maxInterned distinct ones, and starts again when full: a
// table that stopped taking strings once full held the first 8,192 users'
// names, and none of the vhosts' names that every later object repeats:
// starting again took the model of 150,000 objects from 34 MB to 29 MB. A
// Values decoder's table stops taking strings once full.
const (
	maxInternLen = 32
	maxInterned  = 8192
	recentSize   = 512 // a power of two
)

// recentSlot is where b goes in the recent cache: a cheap mix of its
// length and three of its bytes (b is not empty).
func recentSlot(b []byte) int {
	n := len(b)
	return (n*131 + int(b[0])*31 + int(b[n/2])*7 + int(b[n-1])) & (recentSize - 1)
}

// JSON decodes one JSON document.
func JSON(data []byte) (any, *Error) {
	return JSONStream(data, Stream{})
}

// Stream says which top-level arrays JSONStream hands over element by
// element, and to what.
type Stream struct {
	// Keys names the top-level keys whose array elements go to Item one by
	// one instead of into the result, which then holds an empty array for
	// that key. This keeps a large file's values from all being alive at
	// once.
	Keys func(key string) bool
	// Item is given each element. An element that is an object is cleared
	// and reused for the next one once Item returns: Item may keep the
	// values in it, never the map itself.
	Item func(key string, i int, v any)
	// Consumed, when set, is told after each element handed to Item that
	// the decoder is done with the bytes before off: it reads them again
	// only to report an error.
	Consumed func(off int)
	// Spare, when set, takes back the maps inside an element that Item did
	// not keep (it copied what it needed): the decoder decodes later
	// objects into them.
	Spare *Spare
}

// Spare holds maps that nothing refers to any more, for a decoder to
// decode objects into. The zero Spare is empty and ready; a nil *Spare
// takes nothing.
type Spare struct{ maps []map[string]any }

// maxSpare bounds what a Spare holds: an element has few maps.
const maxSpare = 16

// Put gives m back: nothing may use it afterwards.
func (s *Spare) Put(m map[string]any) {
	if s != nil && m != nil && len(s.maps) < maxSpare {
		s.maps = append(s.maps, m)
	}
}

// get returns an empty map, a spare one when there is one.
func (s *Spare) get() map[string]any {
	if s == nil || len(s.maps) == 0 {
		return make(map[string]any)
	}
	m := s.maps[len(s.maps)-1]
	s.maps = s.maps[:len(s.maps)-1]
	clear(m)
	return m
}

// JSONStream decodes one JSON document, streaming the elements of the
// top-level arrays that stream names.
func JSONStream(data []byte, stream Stream) (any, *Error) {
	d := &jsonDecoder{data: data, stream: stream, spare: stream.Spare}
	if d.spare == nil && stream.Item != nil {
		d.spare = &Spare{}
	}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		d.pos = 3 // a UTF-8 byte order mark
	}
	return d.document()
}

// document decodes the one value d.data holds from d.pos on.
func (d *jsonDecoder) document() (any, *Error) {
	d.skipSpace()
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.errorf("unexpected %s after the document", d.describe())
	}
	return v, nil
}

func (d *jsonDecoder) pointer() string {
	var b strings.Builder
	for _, p := range d.path {
		b.WriteByte('/')
		if p.index < 0 {
			b.WriteString(schema.EscapePointerToken(p.key))
		} else {
			b.WriteString(strconv.Itoa(p.index))
		}
	}
	return b.String()
}

func (d *jsonDecoder) errorf(format string, args ...any) *Error {
	return &Error{Code: schema.ESyntax, Off: d.pos, Pointer: d.pointer(), Msg: fmt.Sprintf(format, args...)}
}

// describe names the input at the current offset for an error message.
func (d *jsonDecoder) describe() string {
	if d.pos >= len(d.data) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(d.data[d.pos:])
	return strconv.QuoteRune(r)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value() (any, *Error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input, expected a value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		s, err := d.string()
		if err != nil {
			return nil, err
		}
		if d.boxed != nil {
			return d.boxed, nil
		}
		return s, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.errorf("unexpected %s, expected a value", d.describe())
}

func (d *jsonDecoder) literal(word string) *Error {
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return nil
	}
	return d.errorf("unexpected %s, expected a value", d.describe())
}

func (d *jsonDecoder) object() (any, *Error) {
	if len(d.path) >= maxDepth {
		e := d.errorf("objects and arrays nest more than %d levels deep", maxDepth)
		e.Code = schema.ETooDeep
		return nil, e
	}
	d.pos++ // {
	m := d.spare.get()
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("unexpected %s, expected a string key", d.describe())
		}
		keyOff := d.pos
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		// A duplicate is reported at the key before its value is decoded:
		// a malformed value must not hide it (nor a streamed array be
		// handed over twice).
		if _, dup := m[key]; dup {
			d.pos = keyOff
			d.path = append(d.path, step{key, -1})
			e := d.errorf("duplicate key %q", key)
			e.Code = schema.EDuplicateKey
			return nil, e
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("unexpected %s, expected ':' after key %q", d.describe(), key)
		}
		d.pos++
		d.skipSpace()
		d.path = append(d.path, step{key, -1})
		var v any
		if len(d.path) == 1 && d.stream.Keys != nil && d.stream.Keys(key) && d.pos < len(d.data) && d.data[d.pos] == '[' {
			v, err = d.streamArray(key)
		} else {
			v, err = d.value()
		}
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		m[key] = v
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input, expected ',' or '}'")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.errorf("unexpected %s, expected ',' or '}'", d.describe())
		}
	}
}

func (d *jsonDecoder) array() (any, *Error) {
	var a []any
	err := d.elements(func(_ int, v any) { a = append(a, v) })
	if a == nil {
		a = []any{}
	}
	return a, err
}

// streamArray hands each element of the array at d.pos to stream.Item.
func (d *jsonDecoder) streamArray(key string) (any, *Error) {
	err := d.elements(func(i int, v any) {
		d.stream.Item(key, i, v)
		if m, ok := v.(map[string]any); ok {
			d.spare.Put(m)
		}
		if d.stream.Consumed != nil {
			d.stream.Consumed(d.pos)
		}
	})
	return []any{}, err
}

// elements decodes the array at d.pos, passing each element to use.
func (d *jsonDecoder) elements(use func(i int, v any)) *Error {
	if len(d.path) >= maxDepth {
		e := d.errorf("objects and arrays nest more than %d levels deep", maxDepth)
		e.Code = schema.ETooDeep
		return e
	}
	d.pos++ // [
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return nil
	}
	for i := 0; ; i++ {
		d.skipSpace()
		d.path = append(d.path, step{index: i})
		v, err := d.value()
		if err != nil {
			return err
		}
		d.path = d.path[:len(d.path)-1]
		use(i, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return d.errorf("unexpected end of input, expected ',' or ']'")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.errorf("unexpected %s, expected ',' or ']'", d.describe())
		}
	}
}

func (d *jsonDecoder) string() (string, *Error) {
	d.boxed = nil
	start := d.pos + 1
	i := start
	ascii := true
	for i < len(d.data) {
		c := d.data[i]
		if c == '"' {
			s := d.data[start:i]
			if !ascii && !utf8.Valid(s) {
				d.pos = start
				return "", d.errorf("invalid UTF-8 in string")
			}
			d.pos = i + 1
			var str string
			str, d.boxed = d.intern(s)
			return str, nil
		}
		if c == '\\' {
			return d.escapedString(start)
		}
		if c < 0x20 {
			d.pos = i
			return "", d.errorf("control character %U in string (escape it)", rune(c))
		}
		if c >= 0x80 {
			ascii = false
		}
		i++
	}
	d.pos = i
	return "", d.errorf("unexpected end of input in string")
}

// escapedString decodes a string with escapes; start is after the quote.
func (d *jsonDecoder) escapedString(start int) (string, *Error) {
	var b []byte
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				d.pos = start
				return "", d.errorf("invalid UTF-8 in string")
			}
			d.pos = i + 1
			return string(b), nil
		case c < 0x20:
			d.pos = i
			return "", d.errorf("control character %U in string (escape it)", rune(c))
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(d.data) {
			break
		}
		e := d.data[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d.data, i)
			if !ok {
				d.pos = i - 2
				return "", d.errorf(`invalid \u escape`)
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+6 <= len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
					r2, ok = hex4(d.data, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			b = utf8.AppendRune(b, r)
		default:
			d.pos = i - 2
			return "", d.errorf("invalid escape \\%c in string", e)
		}
	}
	d.pos = len(d.data)
	return "", d.errorf("unexpected end of input in string")
}

// text returns b as a string. It copies (sharing the file's bytes through
// unsafe.String gained no time and saved about 16 MB of 170 MB peak on a
// 150,000-object file, not worth a string that aliases mutable memory),
// except that a short string seen before is returned as that one.
func (d *jsonDecoder) text(b []byte) string {
	s, _ := d.intern(b)
	return s
}

// intern returns b as a string, and, when b is short, as an interface
// value holding it, both shared with the equal strings decoded before.
func (d *jsonDecoder) intern(b []byte) (string, any) {
	if len(b) > maxInternLen {
		return string(b), nil
	}
	if len(b) == 0 {
		return "", emptyString
	}
	slot := recentSlot(b)
	if v := d.recent[slot]; v != nil {
		if s := v.(string); s == string(b) { // no allocation for the comparison
			return s, v
		}
	}
	if v, ok := d.interned[string(b)]; ok { // nor for the lookup
		d.recent[slot] = v
		return v.(string), v
	}
	s := string(b)
	if limit := cmp.Or(d.internLimit, maxInterned); len(d.interned) >= limit {
		if d.internLimit != 0 {
			return s, nil
		}
		// A file's table starts again: the strings its next part repeats
		// (the vhosts' names, after the users' thousands of unique names)
		// are shared too.
		clear(d.interned)
	}
	if d.interned == nil {
		d.interned = make(map[string]any, 256)
	}
	v := any(s)
	d.interned[s] = v
	d.recent[slot] = v
	return s, v
}

var emptyString any = ""

func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (d *jsonDecoder) number() (any, *Error) {
	start := d.pos
	end := scanNumber(d.data, start)
	if end < 0 {
		return nil, d.errorf("invalid number")
	}
	if tooLarge(d.data[start:end]) {
		return nil, &Error{Code: schema.ENumberRange, Off: start, Pointer: d.pointer(),
			Msg: fmt.Sprintf("%s is beyond what a 64-bit float holds; RabbitMQ refuses the file (failed_to_parse_json)", d.data[start:end])}
	}
	d.pos = end
	return json.Number(d.text(d.data[start:end])), nil
}

// tooLarge reports whether a JSON number with a fraction or an exponent
// is beyond a float64: RabbitMQ reads it as a float, and refuses the
// whole document. An integer of any size is one to RabbitMQ (Erlang's
// integers have no bound).
func tooLarge(num []byte) bool {
	if !bytes.ContainsAny(num, ".eE") {
		return false
	}
	f, err := strconv.ParseFloat(string(num), 64)
	return err != nil && math.IsInf(f, 0)
}

// scanNumber returns the end of the JSON number at start, or -1.
func scanNumber(data []byte, i int) int {
	digits := func() bool {
		s := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i < len(data) && data[i] == '0' {
		i++
	} else if !digits() {
		return -1
	}
	if i < len(data) && data[i] == '.' {
		i++
		if !digits() {
			return -1
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return -1
		}
	}
	return i
}

// isJSONNumber reports whether s is a number in JSON's grammar.
func isJSONNumber(s string) bool {
	return s != "" && scanNumber([]byte(s), 0) == len(s)
}

// Values decodes many JSON values one after another (the elements of a
// broker's listing, each decoded as it arrives), sharing between them the
// strings it interned and the maps given back to its Spare. It interns
// fewer strings than a file's decoder: the keys every element repeats and
// a few values, not a listing's thousands of names (a table of them cost
// more than it saved).
type Values struct {
	d jsonDecoder
}

// valuesInterned is how many distinct strings a Values interns.
const valuesInterned = 256

// Decode decodes data, which holds one JSON value. Its strings are copies:
// data may be reused once Decode returns.
func (vs *Values) Decode(data []byte) (any, *Error) {
	d := &vs.d
	if d.spare == nil {
		d.spare, d.internLimit = &Spare{}, valuesInterned
	}
	d.data, d.pos, d.path = data, 0, d.path[:0]
	defer func() { d.data = nil }()
	return d.document()
}

// Spare takes back the maps of a decoded value that nothing uses any
// more, for the next values.
func (vs *Values) Spare() *Spare {
	if vs.d.spare == nil {
		vs.d.spare, vs.d.internLimit = &Spare{}, valuesInterned
	}
	return vs.d.spare
}
