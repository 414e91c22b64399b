package decode

import (
	"bytes"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

// Positions are found only when there is something to report: decoding keeps
// no offsets, and locating walks the file once for all the pointers that
// diagnostics name.

// ptrTrie holds the pointers to find, one level per reference token: its
// nodes in one slice, and each node's children, sorted by token, in
// another. (A node of its own with a map of its children took 450 bytes a
// pointer: 4.5 MB to place 10,000 diagnostics; a map of all children, 2.5
// MB.)
type ptrTrie struct {
	nodes []ptrNode // the root first
	edges []ptrEdge // node n's children are edges[n.first : n.first+n.kids]
}

// ptrNode is one node of a ptrTrie.
type ptrNode struct {
	off         int // where the node is, once seen
	parent      int32
	first, kids int32
	want        bool // a pointer ends here
	seen        bool
}

// ptrEdge leads to a child by its token.
type ptrEdge struct {
	tok   string
	child int32
}

// child is n's child at tok, or -1.
func (t *ptrTrie) child(n int32, tok string) int32 {
	nd := &t.nodes[n]
	es := t.edges[nd.first : nd.first+nd.kids]
	i, ok := slices.BinarySearchFunc(es, tok, func(e ptrEdge, tok string) int { return strings.Compare(e.tok, tok) })
	if !ok {
		return -1
	}
	return es[i].child
}

// newPtrTrie makes the trie of ptrs, and the node where each ends. The
// pointers are put in the order of their tokens, so that each shares its
// path with the one before as far as they agree, and each node's children
// are made in order.
func newPtrTrie(ptrs []string) (t *ptrTrie, ends []int32) {
	order := make([]int32, len(ptrs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareTokens(ptrs[a], ptrs[b]) })
	// Three times, making the same nodes: to count them, to count each
	// one's children, then to put them in place.
	build := func(add func(parent int32, tok string) int32, end func(i, n int32)) {
		path := []int32{0} // the nodes of the pointer before, the root first
		for k, i := range order {
			p := ptrs[i]
			shared := 0
			if k > 0 {
				shared = sharedTokens(ptrs[order[k-1]], p)
			}
			path = path[:shared+1]
			r := newTokenReader(p)
			for j := 0; ; j++ {
				tok, ok := r.next()
				if !ok {
					break
				}
				if j >= shared {
					path = append(path, add(path[len(path)-1], tok))
				}
			}
			end(i, path[len(path)-1])
		}
	}
	count := int32(0)
	build(func(int32, string) int32 { count++; return count }, func(int32, int32) {})
	t = &ptrTrie{nodes: make([]ptrNode, 1+count), edges: make([]ptrEdge, count)}
	made := int32(0)
	build(func(parent int32, _ string) int32 {
		made++
		t.nodes[parent].kids++
		return made
	}, func(int32, int32) {})
	next := int32(0)
	for n := range t.nodes {
		t.nodes[n].first = next
		next += t.nodes[n].kids
	}
	t.nodes[0].parent = -1
	ends = make([]int32, len(ptrs))
	made = 0
	build(func(parent int32, tok string) int32 {
		made++
		t.nodes[made].parent = parent
		// first counts on while the children are put, and is set back
		// below.
		t.edges[t.nodes[parent].first] = ptrEdge{tok, made}
		t.nodes[parent].first++
		return made
	}, func(i, n int32) {
		t.nodes[n].want = true
		ends[i] = n
	})
	for n := range t.nodes {
		t.nodes[n].first -= t.nodes[n].kids
	}
	return t, ends
}

// tokenReader reads a pointer's reference tokens, unescaped, as
// schema.SplitPointer gives them ("" has none).
type tokenReader struct {
	rest string
	done bool
}

func newTokenReader(p string) tokenReader {
	return tokenReader{rest: strings.TrimPrefix(p, "/"), done: p == ""}
}

func (r *tokenReader) next() (string, bool) {
	if r.done {
		return "", false
	}
	tok := r.rest
	if i := strings.IndexByte(r.rest, '/'); i >= 0 {
		tok, r.rest = r.rest[:i], r.rest[i+1:]
	} else {
		r.done = true
	}
	if strings.Contains(tok, "~") {
		tok = pointerUnescape.Replace(tok)
	}
	return tok, true
}

// compareTokens orders pointers by their tokens: a pointer before its
// children, and they together.
func compareTokens(a, b string) int {
	ra, rb := newTokenReader(a), newTokenReader(b)
	for {
		ta, oka := ra.next()
		tb, okb := rb.next()
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
	}
}

// sharedTokens is how many leading tokens a and b have in common.
func sharedTokens(a, b string) int {
	ra, rb := newTokenReader(a), newTokenReader(b)
	n := 0
	for {
		ta, oka := ra.next()
		tb, okb := rb.next()
		if !oka || !okb || ta != tb {
			return n
		}
		n++
	}
}

// pointerUnescape undoes a reference token's escapes, as
// schema.SplitPointer does.
var pointerUnescape = strings.NewReplacer("~1", "/", "~0", "~")

// LocateJSON finds the byte offsets of pointers in a JSON document. A
// member of an object is located at its key, an element of an array at its
// value. Pointers that do not exist resolve to the deepest existing parent.
// The document need not have decoded (a duplicate key's first occurrence
// is located in one that did not): past what is malformed, nothing is
// found.
func LocateJSON(data []byte, ptrs []string) map[string]int {
	out, _ := LocateJSONPrefix(data, ptrs)
	return out
}

// LocateJSONPrefix is LocateJSON, and the length of the prefix of data the
// offsets depend on: what it read before it found the last pointer
// (len(data) when it did not find them all). A file that is the same up
// to there gives the same offsets.
func LocateJSONPrefix(data []byte, ptrs []string) (offsets map[string]int, prefix int) {
	offs, prefix := LocateJSONReleasing(data, ptrs, nil)
	out := make(map[string]int, len(ptrs))
	for i, p := range ptrs {
		out[p] = offs[i]
	}
	return out, prefix
}

// LocateJSONReleasing is LocateJSONPrefix, with the offsets in the order
// of ptrs (no map of many pointers), that tells release, as it moves on
// from one array element or object member to the next, the offset before
// which it will not read data again (containers it skips are passed
// element by element): a caller that mapped data can release the pages
// behind.
func LocateJSONReleasing(data []byte, ptrs []string, release func(off int)) (offsets []int, prefix int) {
	trie, ends := newPtrTrie(ptrs)
	d := &jsonDecoder{data: data}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		d.pos = 3
	}
	d.skipSpace()
	if trie.nodes[0].want {
		trie.nodes[0].off = d.pos
	}
	l := locator{d: d, t: trie, left: len(trie.nodes) - 1, read: len(data), release: release}
	l.locate(0)
	// Every requested pointer's offset, falling back to the deepest
	// parent found (a node is looked into only once found, so its
	// parents are). ends becomes the offsets.
	out := make([]int, len(ptrs))
	for i := range ptrs {
		n := ends[i]
		for n != 0 && !trie.nodes[n].seen {
			n = trie.nodes[n].parent
		}
		out[i] = trie.nodes[n].off
	}
	return out, l.read
}

// locator finds a trie's nodes in a JSON document (each records where it
// is), and stops reading once it has found them all (left is how many it
// has not).
type locator struct {
	d    *jsonDecoder
	t    *ptrTrie
	left int
	read int // how far it read when it found the last node
	// release, when set, is told how far the locator got after each
	// element or member (LocateJSONReleasing).
	release func(off int)
}

// moved tells release how far the locator got, while it reads on.
func (l *locator) moved() {
	if l.release != nil && l.left > 0 {
		l.release(min(l.d.pos, len(l.d.data)))
	}
}

// pass skips the value at d.pos: with release set, an array element by
// element, telling release as it goes (an object is skipped whole).
func (l *locator) pass() {
	d := l.d
	if l.release == nil || d.pos >= len(d.data) || d.data[d.pos] != '[' {
		d.skip()
		return
	}
	d.pos++
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] == ']' {
			d.pos++
			return
		}
		start := d.pos
		l.pass()
		d.skipSpace()
		if d.pos < len(d.data) && d.data[d.pos] == ',' {
			d.pos++
		}
		l.moved()
		if d.pos == start {
			return // malformed: nothing moves past it
		}
	}
}

// saw records where node c is, the first time; with the last node found,
// nothing more is read.
func (l *locator) saw(c int32, off int) {
	n := &l.t.nodes[c]
	if n.seen { // a duplicate key: the first wins
		return
	}
	n.seen, n.off = true, off
	if l.left--; l.left == 0 {
		l.read = min(l.d.pos, len(l.d.data))
		l.d.pos = len(l.d.data)
	}
}

// locate walks the value at d.pos, recording each trie child it meets,
// and skips everything else.
func (l *locator) locate(n int32) {
	d := l.d
	d.skipSpace()
	if d.pos >= len(d.data) {
		return
	}
	if l.t.nodes[n].kids == 0 {
		d.skip()
		return
	}
	switch d.data[d.pos] {
	case '{':
		d.pos++
		for {
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] == '}' {
				d.pos++
				return
			}
			keyOff := d.pos
			k, err := d.string()
			if err != nil {
				return
			}
			d.skipSpace()
			d.pos++ // :
			if c := l.t.child(n, k); c >= 0 {
				seen := l.t.nodes[c].seen
				l.saw(c, keyOff)
				if !seen {
					l.locate(c)
				} else {
					d.skipSpace()
					l.pass()
				}
			} else {
				d.skipSpace()
				l.pass()
			}
			d.skipSpace()
			if d.pos < len(d.data) && d.data[d.pos] == ',' {
				d.pos++
			}
			l.moved()
		}
	case '[':
		d.pos++
		var index [20]byte // the element's index as a key, not allocated
		for i := 0; ; i++ {
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] == ']' {
				d.pos++
				return
			}
			start := d.pos
			if c := l.t.child(n, string(strconv.AppendInt(index[:0], int64(i), 10))); c >= 0 {
				l.saw(c, d.pos)
				l.locate(c)
			} else {
				l.pass()
			}
			d.skipSpace()
			if d.pos < len(d.data) && d.data[d.pos] == ',' {
				d.pos++
			}
			l.moved()
			if d.pos == start {
				return // malformed (a ':' or '}' where a value goes): nothing moves past it
			}
		}
	default:
		d.skip()
	}
}

// skip moves past the value at d.pos without building it, checking
// nothing; at a ',' or ':' where a value should be, it does not move.
func (d *jsonDecoder) skip() {
	depth := 0
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch c {
		case '"':
			d.pos++
			for d.pos < len(d.data) && d.data[d.pos] != '"' {
				if d.data[d.pos] == '\\' {
					d.pos++
				}
				d.pos++
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return // the parent's end: a scalar just ended
			}
			depth--
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return
			}
		}
		d.pos++
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return
		}
	}
}

// LineIndex converts byte offsets into line and column numbers.
type LineIndex struct {
	data   []byte
	starts []int // offset of the first byte of each line
	// last is the previous answer: the next offset on the same line counts
	// its column from there, so positions asked in increasing order cost
	// one pass over a line however long (a compact JSON file is one line).
	last struct{ line, off, col int }
}

// NewLineIndex indexes data's lines: a line ends at LF, CRLF or a lone CR
// (YAML 1.2's line breaks; yaml.v3 also breaks at NEL, U+2028 and U+2029,
// which warren does not).
func NewLineIndex(data []byte) *LineIndex {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' || c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			starts = append(starts, i+1)
		}
	}
	return &LineIndex{data: data, starts: starts}
}

// Pos returns the line and column (in characters) of off. A byte order
// mark is no character: editors do not show it. Offsets asked in
// increasing order are fastest.
func (li *LineIndex) Pos(off int) schema.Pos {
	if off < 0 {
		return schema.Pos{}
	}
	off = min(off, len(li.data))
	line := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	start := li.starts[line]
	if line == 0 && off >= 3 && bytes.HasPrefix(li.data, []byte("\ufeff")) {
		start = 3
	}
	col := 1
	if l := li.last; l.col > 0 && l.line == line && l.off >= start && l.off <= off {
		start, col = l.off, l.col
	}
	col += utf8.RuneCount(li.data[start:off])
	if off == len(li.data) || utf8.RuneStart(li.data[off]) {
		// Counting on from inside a character would count it twice.
		li.last.line, li.last.off, li.last.col = line, off, col
	}
	return schema.Pos{Line: line + 1, Col: col}
}

// Positions are the positions of offs, in increasing order, in data, as
// LineIndex.Pos gives them, found in one pass over data up to the last
// offset, 64 KiB at a time: release, when set, is told after each how far
// the pass got, before which it reads nothing again, so that a caller that
// mapped data can release the pages behind.
func Positions(data []byte, offs []int, release func(off int)) []schema.Pos {
	out := make([]schema.Pos, len(offs))
	const step = 64 << 10
	line, lineStart := 0, 0
	// colPos is how far the current line's characters are counted, col
	// the column there; on the first line a byte order mark is none.
	colPos, col := 0, 1
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		colPos = 3
	}
	scanned := 0 // line breaks before it are counted
	for i, off := range offs {
		if off < 0 {
			continue
		}
		off = min(off, len(data))
		for scanned < off {
			end := min(off, scanned+step)
			for j := scanned; j < end; j++ {
				if c := data[j]; c == '\n' || c == '\r' && (j+1 == len(data) || data[j+1] != '\n') {
					line, lineStart, colPos, col = line+1, j+1, j+1, 1
				}
			}
			scanned = end
			// Count on to a character's start: counting on from inside
			// one would count it twice.
			cut := end
			for cut > colPos && cut < len(data) && !utf8.RuneStart(data[cut]) {
				cut--
			}
			if cut > colPos {
				col += utf8.RuneCount(data[colPos:cut])
				colPos = cut
			}
			if release != nil {
				release(min(colPos, scanned))
			}
		}
		if off < colPos { // before a byte order mark's end
			out[i] = schema.Pos{Line: line + 1, Col: 1 + utf8.RuneCount(data[lineStart:off])}
			continue
		}
		out[i] = schema.Pos{Line: line + 1, Col: col + utf8.RuneCount(data[colPos:off])}
	}
	return out
}

// LocateYAML finds the position of pointers in a decoded YAML tree. A member
// of a mapping is located at its key.
func LocateYAML(root *yaml.Node, ptrs []string) map[string]schema.Pos {
	out := make(map[string]schema.Pos, len(ptrs))
	for _, p := range ptrs {
		n := root
		if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
			n = n.Content[0]
		}
		at := schema.Pos{Line: n.Line, Col: n.Column}
		for _, tok := range schema.SplitPointer(p) {
			key, val := yamlChild(n, tok)
			if val == nil {
				break
			}
			at = schema.Pos{Line: key.Line, Col: key.Column}
			n = val
		}
		out[p] = at
	}
	return out
}

// yamlChild returns the key node (the element itself in a sequence) and the
// value node that tok names under n, following aliases and merge keys.
func yamlChild(n *yaml.Node, tok string) (key, val *yaml.Node) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := len(n.Content) - 2; i >= 0; i -= 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == tok && k.Tag != "!!merge" {
				return k, n.Content[i+1]
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Tag == "!!merge" {
				for _, m := range mergeSources(n.Content[i+1]) {
					if k, v := yamlChild(m, tok); v != nil {
						return k, v
					}
				}
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(tok)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i]
		}
	}
	return nil, nil
}
