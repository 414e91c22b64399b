package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/warren-tool/warren/schema"
)

func TestLocateJSON(t *testing.T) {
	data := []byte("{\n  \"a\": [1, {\"b\": \"x\\\"y\"}, [2]],\n  \"é\": {\"c/d\": true}\n}")
	li := NewLineIndex(data)
	tests := map[string]schema.Pos{
		"":           {Line: 1, Col: 1},
		"/a":         {Line: 2, Col: 3},
		"/a/1":       {Line: 2, Col: 12},
		"/a/1/b":     {Line: 2, Col: 13},
		"/a/2/0":     {Line: 2, Col: 28},
		"/é/c~1d":    {Line: 3, Col: 9},
		"/a/9":       {Line: 2, Col: 3}, // missing: the deepest existing parent
		"/nope/deep": {Line: 1, Col: 1},
	}
	var ptrs []string
	for p := range tests {
		ptrs = append(ptrs, p)
	}
	got := LocateJSON(data, ptrs)
	for p, want := range tests {
		if pos := li.Pos(got[p]); pos != want {
			t.Errorf("%q at %v, want %v", p, pos, want)
		}
	}
}

func TestDecodeJSONValues(t *testing.T) {
	v, err := JSON([]byte("\xEF\xBB\xBF{\"s\": \"a\\u00e9\\ud83d\\ude00\\n\", \"n\": -1.5e3, \"t\": true, \"z\": null, \"l\": []}"))
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if m["s"] != "aé😀\n" || string(m["n"].(json.Number)) != "-1.5e3" || m["t"] != true || m["z"] != nil || len(m["l"].([]any)) != 0 {
		t.Errorf("decoded %#v", m)
	}
	for _, bad := range []string{`{"a":1,}`, `{"a" 1}`, `[01]`, `{"a":"\x01"}`, `{"a":tru}`, `{"a":"\q"}`, "{\"a\":\"\xff\"}", `{} {}`, `{"a":1e}`, `"unterminated`} {
		if _, err := JSON([]byte(bad)); err == nil || err.Code != schema.ESyntax {
			t.Errorf("%q: want a syntax error, got %v", bad, err)
		}
	}
	deep := []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100))
	if _, err := JSON(deep); err == nil || err.Code != schema.ETooDeep {
		t.Errorf("deep nesting: got %v", err)
	}
}

// TestDuplicateKeyBeforeItsValue: a duplicate key is reported at the key,
// whatever its value holds: a value that is malformed, too deep or holds a
// duplicate of its own is not decoded first (nor, for a streamed array,
// handed over element by element).
func TestDuplicateKeyBeforeItsValue(t *testing.T) {
	for _, in := range []string{
		`{"a": 1, "a": }`,
		`{"a": 1, "a": tru}`,
		`{"a": {"b": 1}, "a": {"b": 1, "b": 2}}`,
		`{"a": 1, "a": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
		`{"a": 1, "a": "unterminated`,
	} {
		_, err := JSON([]byte(in))
		if err == nil || err.Code != schema.EDuplicateKey || err.Pointer != "/a" || err.Off < 2 || in[err.Off:err.Off+3] != `"a"` {
			t.Errorf("%s: want duplicate key /a at the second \"a\", got %+v", in, err)
		}
	}
	var items []string
	_, err := JSONStream([]byte(`{"users": [{"name": "a"}], "users": [{"name": "b"}]}`), Stream{
		Keys: func(k string) bool { return k == "users" },
		Item: func(_ string, _ int, v any) { items = append(items, v.(map[string]any)["name"].(string)) },
	})
	if err == nil || err.Code != schema.EDuplicateKey || err.Pointer != "/users" || err.Off != 27 {
		t.Errorf("want duplicate key /users at offset 27, got %+v", err)
	}
	if len(items) != 1 {
		t.Errorf("the duplicate key's array was streamed: items %v", items)
	}
}

// TestStreamSpare: maps an Item gives back are decoded into again, cleared
// first, and what Item copied out of them stays as it was.
func TestStreamSpare(t *testing.T) {
	var (
		spare Spare
		args  []map[string]any // the arguments maps Item was given
		kept  []string         // what Item copied of them
	)
	_, err := JSONStream([]byte(`{"queues": [{"arguments": {"x": "1", "y": "2"}}, {"arguments": {"z": "3"}}, {"arguments": {}}]}`), Stream{
		Keys: func(k string) bool { return k == "queues" },
		Item: func(_ string, _ int, v any) {
			a := v.(map[string]any)["arguments"].(map[string]any)
			args = append(args, a)
			kept = append(kept, fmt.Sprint(a))
			spare.Put(a)
		},
		Spare: &spare,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"map[x:1 y:2]", "map[z:3]", "map[]"}; !slices.Equal(kept, want) {
		t.Errorf("the elements' arguments decoded as %v, want %v", kept, want)
	}
	// The element's own map comes back too, so the second element's
	// arguments may land in either; by the third, one map is in use again.
	reused := false
	for i := 1; i < len(args); i++ {
		for j := range i {
			reused = reused || reflect.ValueOf(args[i]).UnsafePointer() == reflect.ValueOf(args[j]).UnsafePointer()
		}
	}
	if !reused {
		t.Error("no map given back was decoded into again")
	}
	var nilSpare *Spare
	nilSpare.Put(map[string]any{}) // takes nothing, and does not panic
}

// TestLocateMalformed: a duplicate key's first occurrence is located in a
// document that did not decode; what follows the duplicate may be
// malformed, and locating must still end (FuzzLoad found it looping on a
// ':' inside an array).
func TestLocateMalformed(t *testing.T) {
	for _, in := range []string{
		`{"a": [1 : 2], "b": 1}`,
		`{"a": [{"x": 1}, : ]}`,
		`{"a": [,,,`,
		`{"a": {"b" 1, "c": 2}}`,
		`[`,
		`{"a": [1 } ], "b": 2}`,
		`{"a": [1, 2`,
	} {
		done := make(chan map[string]int, 1)
		go func() { done <- LocateJSON([]byte(in), []string{"/a/1", "/a/2", "/b", "/a/c"}) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("LocateJSON(%s) does not end", in)
		}
	}
}

// Every YAML syntax error has a place: yaml.v3 leaves the line out when it
// is the first, and names none for bytes its reader refuses.
func TestYAMLSyntaxErrorsArePlaced(t *testing.T) {
	for _, tc := range []struct {
		in  string
		off int        // the byte, when found by warren
		pos schema.Pos // the line, when named by yaml.v3
		msg string
	}{
		{"this is : not : yaml: [\n", -1, schema.Pos{Line: 1, Col: 1}, "mapping values are not allowed"},
		{"vhosts:\n  - name: a\n  - name: b: c: d\n", -1, schema.Pos{Line: 3, Col: 1}, "mapping values are not allowed"},
		{"vhosts:\n  - name: a\n  - name: \"b\xff\"\n", 32, schema.Pos{}, "UTF-8"},
		{"vhosts:\n  - name: a\n  - name: b\x01c\n", 31, schema.Pos{}, "control characters"},
		{"\ufeffvhosts:\n  - name: a\x7f\n", 22, schema.Pos{}, "control characters"},
		{"a: b\n\nc: \xed\xa0\x80\n", 9, schema.Pos{}, "invalid Unicode character"},
		{"a: &y b\n\nc: *x\n", 12, schema.Pos{}, "unknown anchor 'x'"},
		// Not in a quoted pattern, a comment or a longer alias.
		{"p: {pattern: \"^.*base\"}\nv: *base\n", 27, schema.Pos{}, "unknown anchor 'base'"},
		{"# use *x\na: &xy 1\nb: *xy\nc: [*x]\n", 29, schema.Pos{}, "unknown anchor 'x'"},
		{"p: 'it''s *x'\nq: *x\n", 17, schema.Pos{}, "unknown anchor 'x'"},
		// The parser counts its lines from 0, the scanner from 1.
		{"a: 1\nb: 2\nc: 3\nd: [1\n", -1, schema.Pos{Line: 4, Col: 1}, "did not find expected ',' or ']'"},
		{"vhosts:\n  - {name: a}\n\n- {name: b}\n", -1, schema.Pos{Line: 4, Col: 1}, "did not find expected key"},
		{"a: 1\nb:\n\t- x\n", -1, schema.Pos{Line: 3, Col: 1}, "found character that cannot start any token"},
	} {
		_, _, err := YAML([]byte(tc.in))
		if err == nil {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		if err.Off != tc.off || err.Pos != tc.pos || !strings.Contains(err.Msg, tc.msg) {
			t.Errorf("%q: got %+v (offset %d, %v), want offset %d, position %v, %q", tc.in, err, err.Off, err.Pos, tc.off, tc.pos, tc.msg)
		}
	}
}

// TestYAMLNumberBeyondFloat: a plain number no 64-bit float holds is E110
// in YAML as in JSON (yaml.v3 alone made it the string "1e400"); quoted or
// tagged !!str, it is a string.
func TestYAMLNumberBeyondFloat(t *testing.T) {
	for _, in := range []string{"n: 1e400\n", "n: -1E+309\n", "n: [1, 1.7976931348623159e308]\n"} {
		_, _, err := YAML([]byte(in))
		if err == nil || err.Code != schema.ENumberRange {
			t.Errorf("%q: got %v, want E110", in, err)
		}
	}
	for _, in := range []string{"n: \"1e400\"\n", "n: '1e400'\n", "n: !!str 1e400\n", "n: 1e308\n", "n: 1e-400\n"} {
		if _, _, err := YAML([]byte(in)); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// Lines end at LF, CRLF or a lone CR; a byte order mark takes no column.
func TestLineIndex(t *testing.T) {
	for _, tc := range []struct {
		data string
		off  int
		want schema.Pos
	}{
		{"ab\ncd", 4, schema.Pos{Line: 2, Col: 2}},
		{"ab\r\ncd", 5, schema.Pos{Line: 2, Col: 2}},
		{"ab\rcd\ref", 7, schema.Pos{Line: 3, Col: 2}},
		{"\ufeffab", 4, schema.Pos{Line: 1, Col: 2}},
		{"\ufeffa\nb", 5, schema.Pos{Line: 2, Col: 1}},
		{"é\x01", 2, schema.Pos{Line: 1, Col: 2}},
	} {
		if got := NewLineIndex([]byte(tc.data)).Pos(tc.off); got != tc.want {
			t.Errorf("%q at %d: %v, want %v", tc.data, tc.off, got, tc.want)
		}
	}
}

// TestInternAfterUniqueNames: a file's short strings are shared even
// after more unique ones than the table holds (a file's users' names):
// the vhosts' names its later objects repeat are stored once, not once
// per object. A Values decoder keeps its small table as it is.
func TestInternAfterUniqueNames(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"users":[`)
	for i := range maxInterned + 100 {
		fmt.Fprintf(&b, `{"name":"user-%d"},`, i)
	}
	b.WriteString(`{"name":"last"}],"queues":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"q-%d","vhost":"vhost-%d"}`, i, i%3)
	}
	b.WriteString(`]}`)
	vhosts := map[string]map[*byte]bool{} // a vhost's name: where its copies are
	_, err := JSONStream([]byte(b.String()), Stream{
		Keys: func(k string) bool { return k == "queues" || k == "users" },
		Item: func(key string, _ int, v any) {
			if s, ok := v.(map[string]any)["vhost"].(string); ok {
				if vhosts[s] == nil {
					vhosts[s] = map[*byte]bool{}
				}
				vhosts[s][unsafe.StringData(s)] = true
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, copies := range vhosts {
		if len(copies) != 1 {
			t.Errorf("%d copies of %q, want 1", len(copies), name)
		}
	}
	if len(vhosts) != 3 {
		t.Errorf("%d vhosts seen, want 3", len(vhosts))
	}
}

// One index asked many offsets, in any order, answers each as a fresh
// index does: the column carried from the previous answer is the same.
func TestLineIndexReused(t *testing.T) {
	data := []byte("\ufeff{\"é\": [\"añb\", 1],\r\n \"ü\": \"x\"}\n\"€€\"")
	li := NewLineIndex(data)
	var offs []int
	for off := range len(data) + 2 {
		offs = append(offs, off)
	}
	for i := len(data) + 1; i >= 0; i -= 3 {
		offs = append(offs, i) // backwards too
	}
	offs = append(offs, 5, 6, 30, 7, 0, 8)
	for _, off := range offs {
		if got, want := li.Pos(off), NewLineIndex(data).Pos(off); got != want {
			t.Errorf("at %d: %v after other answers, %v fresh", off, got, want)
		}
	}
}

// TestLocateJSONPrefix: the offsets LocateJSONPrefix finds depend on the
// prefix it reports alone: whatever follows it, they are the same; a
// pointer it does not find makes the prefix the whole document.
func TestLocateJSONPrefix(t *testing.T) {
	data := []byte(`{"users": [{"name": "a"}, {"name": "b"}], "permissions": [{"user": "a"}, {"user": "b"}], "queues": [{"name": "q"}]}`)
	for _, ptrs := range [][]string{{"/users/1"}, {"/users/0/name", "/permissions/0"}, {"/permissions/1/user"}, {"/queues/0"}} {
		want, prefix := LocateJSONPrefix(data, ptrs)
		if prefix >= len(data) {
			t.Errorf("%v: prefix %d, the whole document", ptrs, prefix)
		}
		for i := prefix; i < len(data); i++ {
			changed := bytes.Clone(data)
			changed[i] = '"'
			if got, _ := LocateJSONPrefix(changed, ptrs); !maps.Equal(got, want) {
				t.Fatalf("%v: byte %d past the prefix %d changed, offsets %v, want %v", ptrs, i, prefix, got, want)
			}
		}
	}
	if _, prefix := LocateJSONPrefix(data, []string{"/users/0", "/users/7"}); prefix != len(data) {
		t.Errorf("a pointer not found: prefix %d, want the whole document (%d)", prefix, len(data))
	}
}

// TestPositionsAsLineIndex: Positions, one pass released as it goes, gives
// what LineIndex.Pos gives, for data with every kind of line break,
// characters of several bytes, bytes that are none and a byte order mark,
// its lines longer than its 64 KiB steps or not; and it is told how far it
// got in increasing order, never past an offset asked.
func TestPositionsAsLineIndex(t *testing.T) {
	pieces := []string{"a", "\n", "\r", "\r\n", "é", "€", "𝄞", "\xff", "\x80", "\xe2\x82", "{\"k\": 1}", strings.Repeat("x", 70<<10)}
	rnd := uint64(1)
	next := func(n int) int {
		rnd = rnd*6364136223846793005 + 1442695040888963407
		return int(rnd>>33) % n
	}
	for round := range 300 {
		var b []byte
		if round%3 == 0 {
			b = append(b, "\ufeff"...)
		}
		for range 1 + next(40) {
			p := pieces[next(len(pieces))]
			if len(p) > 1000 && next(4) != 0 {
				continue
			}
			b = append(b, p...)
		}
		var offs []int
		for range next(12) {
			offs = append(offs, next(len(b)+1))
		}
		slices.Sort(offs)
		li := NewLineIndex(b)
		last := 0
		got := Positions(b, offs, func(off int) {
			if off < last || len(offs) > 0 && off > offs[len(offs)-1] {
				t.Fatalf("released to %d after %d (offsets %v)", off, last, offs)
			}
			last = off
		})
		for i, off := range offs {
			if want := li.Pos(off); got[i] != want {
				t.Fatalf("data %q offset %d: %v, LineIndex says %v", b[:min(len(b), 200)], off, got[i], want)
			}
		}
	}
}

// TestLocateJSONReleasing: LocateJSONReleasing finds what LocateJSON
// finds, in well-formed and malformed documents alike, and is told how far
// it got in increasing order, never past what it read.
func TestLocateJSONReleasing(t *testing.T) {
	docs := []string{
		`{"users": [{"name": "a"}, {"name": "b"}], "permissions": [[1, [2, 3]], {"user": "b"}], "queues": [{"name": "q"}]}`,
		`{"a": [1 : 2], "b": 1}`, `{"a": [{"x": 1}, : ]}`, `{"a": [,,,`, `{"a": {"b" 1, "c": 2}}`, `[`, `{"a": [1 } ], "b": 2}`, `{"a": [1, 2`,
	}
	for _, in := range docs {
		for _, ptrs := range [][]string{{"/permissions/1"}, {"/queues/0/name", "/users/1"}, {"/a/1", "/b"}, {"/nothing"}} {
			want := LocateJSON([]byte(in), ptrs)
			last := 0
			offs, prefix := LocateJSONReleasing([]byte(in), ptrs, func(off int) {
				if off < last {
					t.Fatalf("%s %v: released to %d after %d", in, ptrs, off, last)
				}
				last = off
			})
			got := map[string]int{}
			for i, p := range ptrs {
				got[p] = offs[i]
			}
			if !maps.Equal(got, want) || last > prefix {
				t.Errorf("%s %v: %v (released to %d, prefix %d), LocateJSON finds %v", in, ptrs, got, last, prefix, want)
			}
		}
	}
}

// Pointers located together are where each is located alone: pointers
// that share tokens, that are prefixes of others, that sort between a
// parent and its children (1-b between 1 and 1/x), escaped ones, the
// root, repeated ones and ones that do not exist.
func TestLocateJSONTogetherAsAlone(t *testing.T) {
	data := []byte(`{"a": {"1": {"x": 1, "y": [5, 6]}, "1-b": 2, "10": {"x": 3}, "a/b": 4, "~": 5, "": 6},
"l": [{"x": 0}, {"x": 1}, [7, 8], {"x": 3}, {}, {}, {}, {}, {}, {}, {"x": 10}, {"x": 11}]}`)
	ptrs := []string{"", "/", "/a", "/a/1", "/a/1/x", "/a/1-b", "/a/10/x", "/a/1/y/1", "/a/a~1b", "/a/~0",
		"/a/", "/l/1/x", "/l/10/x", "/l/11", "/l/2/0", "/l/1/x", "/missing/3", "/l/12", "/a/1/z", "/l/0"}
	together := LocateJSON(data, ptrs)
	for _, p := range ptrs {
		if alone := LocateJSON(data, []string{p})[p]; together[p] != alone {
			t.Errorf("%q: at %d with the others, at %d alone", p, together[p], alone)
		}
	}
	if len(together) != len(slices.Compact(slices.Sorted(slices.Values(ptrs)))) {
		t.Errorf("%d offsets for %d pointers", len(together), len(ptrs))
	}
	if off := together["/l/10/x"]; !bytes.HasPrefix(data[off:], []byte(`"x": 10`)) {
		t.Errorf("/l/10/x at %q", data[off:off+8])
	}
}
