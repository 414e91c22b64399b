package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

// yamlDecoder turns a yaml.Node tree into the same plain values as
// JSON, refusing duplicate keys and bounding nesting and alias
// expansion.
type yamlDecoder struct {
	budget int // values left to produce; aliases spend it too
	path   []string
}

// YAML decodes one YAML document. It returns the node tree too, for
// locating positions later.
func YAML(data []byte) (v any, root *yaml.Node, derr *Error) {
	// yaml.v3 has panicked on some malformed input in the past; a file must
	// never crash warren.
	defer func() {
		if r := recover(); r != nil {
			v, root, derr = nil, nil, &Error{Code: schema.ESyntax, Off: -1, Msg: fmt.Sprintf("the YAML decoder failed on this file: %v", r)}
		}
	}()
	return decodeYAMLNodes(data)
}

func decodeYAMLNodes(data []byte) (any, *yaml.Node, *Error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, &Error{Code: schema.EUnsupportedIn, Off: -1, Msg: "empty document"}
		}
		return nil, nil, yamlSyntaxError(err, data)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, nil, &Error{Code: schema.EUnsupportedIn, Off: -1, Pos: schema.Pos{Line: extra.Line, Col: extra.Column},
			Msg: "more than one YAML document in the file; put each in its own file"}
	} else if !errors.Is(err, io.EOF) {
		return nil, nil, yamlSyntaxError(err, data)
	}
	// A document without aliases produces at most one value per node, and a
	// node takes at least one byte: the budget allows generous reuse through
	// aliases but stops exponential expansion (a "billion laughs" file).
	d := &yamlDecoder{budget: 4*len(data) + 10000}
	v, derr := d.value(&root)
	if derr != nil {
		return nil, nil, derr
	}
	return v, &root, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlSyntaxError(err error, data []byte) *Error {
	msg := err.Error()
	e := &Error{Code: schema.ESyntax, Off: -1, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		// The line where the construct that failed began (no column).
		// yaml.v3 counts a scanner error's line from 1 and a parser
		// error's from 0.
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(yamlParserProblems, m[2]) {
			line++
		}
		e.Pos = schema.Pos{Line: line, Col: 1}
		e.Msg = m[2]
		return e
	}
	utf16 := bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff})
	switch {
	case utf16: // decoded by yaml.v3: offsets in data are not its
	case strings.Contains(e.Msg, "UTF-8") || strings.Contains(e.Msg, "control characters") || strings.Contains(e.Msg, "invalid Unicode"):
		// The reader's errors name no line: warren finds the byte.
		if off := unreadableAt(data); off >= 0 {
			e.Off = off
		}
	case strings.HasPrefix(e.Msg, "unknown anchor '"):
		// An alias without its anchor: the first *name in the file.
		name := strings.TrimSuffix(strings.TrimPrefix(e.Msg, "unknown anchor '"), "' referenced")
		if off := aliasAt(data, name); off >= 0 {
			e.Off = off
		}
	case strings.Contains(e.Msg, "anchor") || strings.Contains(e.Msg, "alias") || strings.HasPrefix(e.Msg, "attempted") || strings.HasPrefix(e.Msg, "cannot decode"):
		// yaml.v3's own checks, which know no place.
	default:
		// The parser's and scanner's: yaml.v3 leaves the line out only when
		// it is the first (its marks count from 0, and 0 is left out).
		e.Pos = schema.Pos{Line: 1, Col: 1}
	}
	return e
}

// yamlParserProblems are the problems yaml.v3's parser (not its scanner)
// reports (parserc.go), whose line it counts from 0.
var yamlParserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"did not find expected node content", "did not find expected key", "did not find expected '-' indicator",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"found duplicate %YAML directive", "found incompatible YAML document", "found duplicate %TAG directive",
	"found undefined tag handle",
}

// aliasAt is the offset of the first alias *name in data, outside quoted
// text and comments, or -1.
func aliasAt(data []byte, name string) int {
	var quote byte // the quote a scalar opened, or 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case quote == '"' && c == '\\':
			i++ // an escaped character
		case quote != 0:
			if c == quote {
				if quote == '\'' && i+1 < len(data) && data[i+1] == '\'' {
					i++ // '' in a single-quoted scalar
				} else {
					quote = 0
				}
			}
		case c == '#' && (i == 0 || isYAMLSpace(data[i-1])):
			for i < len(data) && data[i] != '\n' && data[i] != '\r' {
				i++
			}
		case (c == '"' || c == '\'') && (i == 0 || isYAMLSpace(data[i-1]) || strings.IndexByte("[{,:-", data[i-1]) >= 0):
			quote = c
		case c == '*' && (i == 0 || isYAMLSpace(data[i-1]) || strings.IndexByte("[{,:-", data[i-1]) >= 0) &&
			bytes.HasPrefix(data[i+1:], []byte(name)):
			end := i + 1 + len(name)
			if end == len(data) || isYAMLSpace(data[end]) || strings.IndexByte(",]}", data[end]) >= 0 {
				return i
			}
		}
	}
	return -1
}

func isYAMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// unreadableAt is the offset of the first byte YAML's reader refuses: one
// that is not UTF-8, or a character outside YAML's printable set; or -1.
func unreadableAt(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		printable := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 ||
			r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r <= 0x10ffff
		if r == utf8.RuneError && size <= 1 || !printable {
			return i
		}
		i += size
	}
	return -1
}

func (d *yamlDecoder) pointer() string {
	var b strings.Builder
	for _, p := range d.path {
		b.WriteByte('/')
		b.WriteString(schema.EscapePointerToken(p))
	}
	return b.String()
}

func (d *yamlDecoder) errorAt(n *yaml.Node, code schema.Code, format string, args ...any) *Error {
	return &Error{Code: code, Off: -1, Pos: schema.Pos{Line: n.Line, Col: n.Column},
		Pointer: d.pointer(), Msg: fmt.Sprintf(format, args...)}
}

func (d *yamlDecoder) value(n *yaml.Node) (any, *Error) {
	d.budget--
	if d.budget < 0 {
		return nil, d.errorAt(n, schema.EAliasLimit, "YAML aliases expand to far more values than the file holds")
	}
	if len(d.path) > maxDepth {
		return nil, d.errorAt(n, schema.ETooDeep, "mappings and sequences nest more than %d levels deep", maxDepth)
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.ShortTag() {
		case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!map", "!!seq":
		default:
			// !!binary, !!set, !!timestamp, !foo: JSON has no such type, and
			// keeping the text would drop the tag silently.
			return nil, d.errorAt(n, schema.EYAMLTag, "YAML tag %s is not supported: definitions are JSON data; write the plain value", n.Tag)
		}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, d.errorAt(n, schema.EUnsupportedIn, "empty document")
		}
		return d.value(n.Content[0])
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, d.errorAt(n, schema.ESyntax, "unknown alias")
		}
		return d.value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			d.path = append(d.path, strconv.Itoa(i))
			v, err := d.value(c)
			if err != nil {
				return nil, err
			}
			d.path = d.path[:len(d.path)-1]
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		return d.mapping(n)
	case yaml.ScalarNode:
		return d.scalar(n)
	}
	return nil, d.errorAt(n, schema.EUnsupportedIn, "unsupported YAML node")
}

func (d *yamlDecoder) mapping(n *yaml.Node) (any, *Error) {
	out := make(map[string]any, len(n.Content)/2)
	keyNodes := make(map[string]*yaml.Node, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return nil, d.errorAt(k, schema.EUnsupportedIn, "a mapping key must be a plain value")
		}
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if first, dup := keyNodes[k.Value]; dup {
			d.path = append(d.path, k.Value)
			e := d.errorAt(n.Content[i], schema.EDuplicateKey, "duplicate key %q", k.Value)
			e.First = &schema.Pos{Line: first.Line, Col: first.Column}
			return nil, e
		}
		keyNodes[k.Value] = k
		d.path = append(d.path, k.Value)
		val, err := d.value(v)
		if err != nil {
			return nil, err
		}
		d.path = d.path[:len(d.path)-1]
		out[k.Value] = val
	}
	// Merge keys (<<: *base) fill in what the mapping does not set itself.
	for _, m := range merges {
		for _, src := range mergeSources(m) {
			if src.Kind != yaml.MappingNode {
				return nil, d.errorAt(m, schema.EUnsupportedIn, "a merge key needs a mapping or a list of mappings")
			}
			v, err := d.mapping(src)
			if err != nil {
				return nil, err
			}
			for key, val := range v.(map[string]any) {
				if _, set := out[key]; !set {
					out[key] = val
				}
			}
		}
	}
	return out, nil
}

// mergeSources lists the mappings a merge key's value names.
func mergeSources(v *yaml.Node) []*yaml.Node {
	for v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.SequenceNode {
		return []*yaml.Node{v}
	}
	var out []*yaml.Node
	for _, c := range v.Content {
		for c.Kind == yaml.AliasNode && c.Alias != nil {
			c = c.Alias
		}
		out = append(out, c)
	}
	return out
}

func (d *yamlDecoder) scalar(n *yaml.Node) (any, *Error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, d.errorAt(n, schema.ESyntax, "invalid boolean %q", n.Value)
		}
		return b, nil
	case "!!int":
		if isJSONNumber(n.Value) {
			return json.Number(n.Value), nil
		}
		s := strings.ReplaceAll(n.Value, "_", "")
		var z big.Int
		if _, ok := z.SetString(s, 0); ok {
			return json.Number(z.String()), nil
		}
		return nil, d.errorAt(n, schema.ESyntax, "invalid integer %q", n.Value)
	case "!!float":
		if isJSONNumber(n.Value) {
			if tooLarge([]byte(n.Value)) {
				return nil, d.errorAt(n, schema.ENumberRange, "%s is beyond what a 64-bit float holds; RabbitMQ refuses the file (failed_to_parse_json)", n.Value)
			}
			return json.Number(n.Value), nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, d.errorAt(n, schema.ESyntax, "invalid number %q", n.Value)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, d.errorAt(n, schema.EUnsupportedIn, "%s cannot be written in JSON; quote it to make it a string", n.Value)
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	}
	if n.Style == 0 && isJSONNumber(n.Value) && tooLarge([]byte(n.Value)) {
		// A plain 1e400 is a float to YAML 1.2 (as .inf is), but yaml.v3
		// makes a string of a float it cannot hold: refused as the JSON
		// number is, not sent as a string the file did not write.
		return nil, d.errorAt(n, schema.ENumberRange, "%s is beyond what a 64-bit float holds; RabbitMQ refuses the file (failed_to_parse_json)", n.Value)
	}
	// Strings, and everything JSON has no type for (timestamps, binary,
	// custom tags), keep their text.
	return n.Value, nil
}
