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

// ptrSet is the pointers to find, sorted by their tokens: the pointers
// that share their first d tokens are a run of the order, and the run's
// pointers with more tokens are, by their next token, runs in turn. It is
// a trie with no nodes of its own: a node is a run and its depth. (A node
// of its own with a map of its children took 450 bytes a pointer: 4.5 MB
// to place 10,000 diagnostics.) Where each pointer's deepest node found
// is, is kept by pointer.
type ptrSet struct {
	ptrs  []string
	order []int32 // indices in ptrs, sorted by tokens
	// By place in order: how many tokens the pointer has, how many of
	// them were found, and where the last found is.
	ntok, depth []int32
	off         []int
}

// ptrNode is the node of the pointers order[lo:hi], which share their
// first d tokens: the node those tokens lead to.
type ptrNode struct{ lo, hi, d int32 }

// newPtrSet sorts ptrs by their tokens; a node's offset, until found, is
// root's: the root's offset for pointers that name the document itself,
// and 0 for others.
func newPtrSet(ptrs []string) *ptrSet {
	n := len(ptrs)
	s := &ptrSet{ptrs: ptrs, order: make([]int32, n), ntok: make([]int32, n), depth: make([]int32, n), off: make([]int, n)}
	for i := range s.order {
		s.order[i] = int32(i)
	}
	slices.SortFunc(s.order, func(a, b int32) int { return compareTokens(ptrs[a], ptrs[b]) })
	for k, i := range s.order {
		r := newTokenReader(ptrs[i])
		for {
			if _, ok := r.next(); !ok {
				break
			}
			s.ntok[k]++
		}
	}
	return s
}

// nodes is how many nodes the pointers lead to, the root not counted.
func (s *ptrSet) nodes() int {
	total := 0
	for k := range s.order {
		total += int(s.ntok[k])
		if k > 0 {
			total -= sharedTokens(s.ptrs[s.order[k-1]], s.ptrs[s.order[k]])
		}
	}
	return total
}

// token is the d-th token (from 0) of the k-th pointer in order.
func (s *ptrSet) token(k, d int32) string {
	r := newTokenReader(s.ptrs[s.order[k]])
	for range d {
		r.next()
	}
	tok, _ := r.next()
	return tok
}

// kids says whether n has children: whether its last pointer (the
// longest sort last) has more tokens than n's.
func (s *ptrSet) kids(n ptrNode) bool { return n.hi > n.lo && s.ntok[n.hi-1] > n.d }

// child is n's child at tok.
func (s *ptrSet) child(n ptrNode, tok string) (ptrNode, bool) {
	// Those that end at n come first.
	a := n.lo + int32(sort.Search(int(n.hi-n.lo), func(j int) bool { return s.ntok[n.lo+int32(j)] > n.d }))
	first := a + int32(sort.Search(int(n.hi-a), func(j int) bool { return s.token(a+int32(j), n.d) >= tok }))
	if first == n.hi || s.token(first, n.d) != tok {
		return ptrNode{}, false
	}
	end := first + int32(sort.Search(int(n.hi-first), func(j int) bool { return s.token(first+int32(j), n.d) > tok }))
	return ptrNode{first, end, n.d + 1}, true
}

// seen says whether n was found.
func (s *ptrSet) seen(n ptrNode) bool { return s.depth[n.lo] >= n.d }

// found records where n is: for each of its pointers, the deepest found.
func (s *ptrSet) found(n ptrNode, off int) {
	for k := n.lo; k < n.hi; k++ {
		s.depth[k], s.off[k] = n.d, off
	}
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
	set := newPtrSet(ptrs)
	d := &jsonDecoder{data: data}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		d.pos = 3
	}
	d.skipSpace()
	root := ptrNode{0, int32(len(ptrs)), 0}
	if len(ptrs) > 0 && set.ntok[0] == 0 { // a pointer to the document
		set.found(root, d.pos)
	}
	l := locator{d: d, s: set, left: set.nodes(), read: len(data), release: release}
	l.locate(root)
	// Every requested pointer's offset: its own, or its deepest parent
	// found's (a node is looked into only once found, so its parents
	// are).
	out := make([]int, len(ptrs))
	for k, i := range set.order {
		out[i] = set.off[k]
	}
	return out, l.read
}

// locator finds a ptrSet's nodes in a JSON document (each records where it
// is), and stops reading once it has found them all (left is how many it
// has not).
type locator struct {
	d    *jsonDecoder
	s    *ptrSet
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
func (l *locator) saw(c ptrNode, off int) {
	if l.s.seen(c) { // a duplicate key: the first wins
		return
	}
	l.s.found(c, off)
	if l.left--; l.left == 0 {
		l.read = min(l.d.pos, len(l.d.data))
		l.d.pos = len(l.d.data)
	}
}

// locate walks the value at d.pos, recording each child of n it meets,
// and skips everything else.
func (l *locator) locate(n ptrNode) {
	d := l.d
	d.skipSpace()
	if d.pos >= len(d.data) {
		return
	}
	if !l.s.kids(n) {
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
			if c, ok := l.s.child(n, k); ok {
				seen := l.s.seen(c)
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
			if c, ok := l.s.child(n, string(strconv.AppendInt(index[:0], int64(i), 10))); ok {
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
	PositionsEach(data, len(offs), func(k int) int { return offs[k] }, release, func(k int, p schema.Pos) { out[k] = p })
	return out
}

// PositionsEach is Positions of n offsets, the k-th offset(k), each
// handed to set rather than put in a list.
func PositionsEach(data []byte, n int, offset func(k int) int, release func(off int), set func(k int, p schema.Pos)) {
	const step = 64 << 10
	line, lineStart := 0, 0
	// colPos is how far the current line's characters are counted, col
	// the column there; on the first line a byte order mark is none.
	colPos, col := 0, 1
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		colPos = 3
	}
	scanned := 0 // line breaks before it are counted
	for i := range n {
		off := offset(i)
		if off < 0 {
			set(i, schema.Pos{})
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
			set(i, schema.Pos{Line: line + 1, Col: 1 + utf8.RuneCount(data[lineStart:off])})
			continue
		}
		set(i, schema.Pos{Line: line + 1, Col: col + utf8.RuneCount(data[colPos:off])})
	}
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
