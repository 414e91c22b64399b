package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// The JSON Schema library explains precisely what is wrong with a document,
// but it allocates its way through every value, which makes validating a
// large file (150,000 objects) take seconds. Almost every file is valid, so
// Validate first asks this small interpreter of the keywords
// definitions.schema.json uses whether the document is valid at all; only
// when it is not does the library run, to produce the diagnostics.
//
// The interpreter refuses to compile a schema that uses any other keyword,
// so the schema cannot grow past what it understands unnoticed, and tests
// (TestFastPathAgrees, FuzzFastPathAgrees) check that both always agree.

type fastNode struct {
	types      []string
	props      map[string]*fastNode
	required   []string
	noExtra    bool
	items      *fastNode
	enum       []string
	constant   *string
	minLen     int
	maxLen     int // -1: none
	minimum    *big.Float
	minProps   int
	maxProps   int // -1: none
	ref        string
	resolved   *fastNode
	allOf      []*fastNode
	ifNode     *fastNode
	thenNode   *fastNode
	acceptsAll bool // {} with no constraint
}

// ignoredKeywords carry no constraint.
var ignoredKeywords = []string{"$schema", "$id", "$defs", "title", "description", "examples"}

// fastSchema is the compiled schema: the top level and each of $defs.
type fastSchema struct {
	root *fastNode
	defs map[string]*fastNode
}

var fastCompiled = sync.OnceValues(func() (*fastSchema, error) {
	var raw map[string]any
	if err := json.Unmarshal(JSON, &raw); err != nil {
		return nil, err
	}
	defs := map[string]*fastNode{}
	var compile func(m map[string]any) (*fastNode, error)
	compile = func(m map[string]any) (*fastNode, error) {
		n := &fastNode{maxLen: -1, maxProps: -1, acceptsAll: true}
		for k, v := range m {
			if slices.Contains(ignoredKeywords, k) {
				continue
			}
			n.acceptsAll = false
			var err error
			switch k {
			case "type":
				switch t := v.(type) {
				case string:
					n.types = []string{t}
				case []any:
					for _, e := range t {
						n.types = append(n.types, e.(string))
					}
				}
			case "properties":
				n.props = map[string]*fastNode{}
				for name, sub := range v.(map[string]any) {
					if n.props[name], err = compile(sub.(map[string]any)); err != nil {
						return nil, err
					}
				}
			case "required":
				for _, e := range v.([]any) {
					n.required = append(n.required, e.(string))
				}
			case "additionalProperties":
				b, ok := v.(bool)
				if !ok || b {
					return nil, fmt.Errorf("additionalProperties must be false")
				}
				n.noExtra = true
			case "items":
				if n.items, err = compile(v.(map[string]any)); err != nil {
					return nil, err
				}
			case "enum":
				for _, e := range v.([]any) {
					n.enum = append(n.enum, e.(string))
				}
			case "const":
				s := v.(string)
				n.constant = &s
			case "minLength":
				n.minLen = int(v.(float64))
			case "maxLength":
				n.maxLen = int(v.(float64))
			case "minimum":
				n.minimum = big.NewFloat(v.(float64))
			case "minProperties":
				n.minProps = int(v.(float64))
			case "maxProperties":
				n.maxProps = int(v.(float64))
			case "$ref":
				ref := v.(string)
				if !strings.HasPrefix(ref, "#/$defs/") {
					return nil, fmt.Errorf("unsupported $ref %q", ref)
				}
				n.ref = strings.TrimPrefix(ref, "#/$defs/")
			case "allOf":
				for _, sub := range v.([]any) {
					c, err := compile(sub.(map[string]any))
					if err != nil {
						return nil, err
					}
					n.allOf = append(n.allOf, c)
				}
			case "if":
				if n.ifNode, err = compile(v.(map[string]any)); err != nil {
					return nil, err
				}
			case "then":
				if n.thenNode, err = compile(v.(map[string]any)); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("keyword %q is not supported by the fast path", k)
			}
		}
		return n, nil
	}
	root, err := compile(raw)
	if err != nil {
		return nil, err
	}
	if _, ok := raw["$defs"].(map[string]any); !ok {
		return nil, fmt.Errorf("no $defs")
	}
	for name, d := range raw["$defs"].(map[string]any) {
		if defs[name], err = compile(d.(map[string]any)); err != nil {
			return nil, fmt.Errorf("$defs/%s: %w", name, err)
		}
	}
	var resolve func(n *fastNode) error
	seen := map[*fastNode]bool{}
	resolve = func(n *fastNode) error {
		if n == nil || seen[n] {
			return nil
		}
		seen[n] = true
		if n.ref != "" {
			if n.resolved = defs[n.ref]; n.resolved == nil {
				return fmt.Errorf("unknown $ref %q", n.ref)
			}
		}
		for _, c := range n.props {
			if err := resolve(c); err != nil {
				return err
			}
		}
		for _, c := range append(slices.Clone(n.allOf), n.items, n.ifNode, n.thenNode) {
			if err := resolve(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range defs {
		if err := resolve(d); err != nil {
			return nil, err
		}
	}
	return &fastSchema{root: root, defs: defs}, resolve(root)
})

// fastValid reports whether v satisfies the schema's definition def ("" for
// the whole document).
func fastValid(def string, v any) bool {
	fs, err := fastCompiled()
	if err != nil {
		panic(fmt.Sprintf("schema: fast path cannot compile the embedded schema: %v", err))
	}
	n := fs.root
	if def != "" {
		if n = fs.defs[def]; n == nil {
			panic(fmt.Sprintf("schema: no $defs/%s", def))
		}
	}
	return n.valid(v)
}

func (n *fastNode) valid(v any) bool {
	if n.acceptsAll {
		return true
	}
	if n.resolved != nil && !n.resolved.valid(v) {
		return false
	}
	if n.types != nil && !slices.ContainsFunc(n.types, func(t string) bool { return hasType(v, t) }) {
		return false
	}
	switch v := v.(type) {
	case string:
		if n.enum != nil && !slices.Contains(n.enum, v) {
			return false
		}
		if n.constant != nil && v != *n.constant {
			return false
		}
		if n.minLen > 0 || n.maxLen >= 0 {
			l := utf8.RuneCountInString(v)
			if l < n.minLen || (n.maxLen >= 0 && l > n.maxLen) {
				return false
			}
		}
	case json.Number:
		if n.enum != nil || n.constant != nil {
			return false
		}
		if n.minimum != nil {
			f, ok := new(big.Float).SetString(string(v))
			if !ok || f.Cmp(n.minimum) < 0 {
				return false
			}
		}
	case map[string]any:
		if n.enum != nil || n.constant != nil {
			return false
		}
		if len(v) < n.minProps || (n.maxProps >= 0 && len(v) > n.maxProps) {
			return false
		}
		for _, r := range n.required {
			if _, ok := v[r]; !ok {
				return false
			}
		}
		for k, e := range v {
			sub, ok := n.props[k]
			if !ok {
				if n.noExtra {
					return false
				}
				continue
			}
			if !sub.valid(e) {
				return false
			}
		}
	case []any:
		if n.enum != nil || n.constant != nil {
			return false
		}
		if n.items != nil {
			for _, e := range v {
				if !n.items.valid(e) {
					return false
				}
			}
		}
	default:
		if n.enum != nil || n.constant != nil {
			return false
		}
	}
	for _, a := range n.allOf {
		if !a.valid(v) {
			return false
		}
	}
	if n.ifNode != nil && n.thenNode != nil && n.ifNode.valid(v) && !n.thenNode.valid(v) {
		return false
	}
	return true
}

func hasType(v any, t string) bool {
	switch v := v.(type) {
	case string:
		return t == "string"
	case bool:
		return t == "boolean"
	case nil:
		return t == "null"
	case map[string]any:
		return t == "object"
	case []any:
		return t == "array"
	case json.Number:
		if t == "number" {
			return true
		}
		if t != "integer" {
			return false
		}
		f, ok := new(big.Float).SetString(string(v))
		return ok && f.IsInt() && !math.IsInf(mustFloat(f), 0)
	}
	return false
}

func mustFloat(f *big.Float) float64 {
	x, _ := f.Float64()
	return x
}
