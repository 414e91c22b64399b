package topology

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

// kindInfo is what the validator knows of a kind.
type kindInfo struct {
	apiVersion string
	typ        reflect.Type
}

// kinds lists every kind of the operator, and the v1 Secret.
var kinds = map[string]kindInfo{
	"Vhost":             {V1beta1, reflect.TypeOf(Vhost{})},
	"User":              {V1beta1, reflect.TypeOf(User{})},
	"Permission":        {V1beta1, reflect.TypeOf(Permission{})},
	"TopicPermission":   {V1beta1, reflect.TypeOf(TopicPermission{})},
	"Policy":            {V1beta1, reflect.TypeOf(Policy{})},
	"OperatorPolicy":    {V1beta1, reflect.TypeOf(OperatorPolicy{})},
	"Queue":             {V1beta1, reflect.TypeOf(Queue{})},
	"Exchange":          {V1beta1, reflect.TypeOf(Exchange{})},
	"Binding":           {V1beta1, reflect.TypeOf(Binding{})},
	"Federation":        {V1beta1, reflect.TypeOf(Federation{})},
	"Shovel":            {V1beta1, reflect.TypeOf(Shovel{})},
	"SchemaReplication": {V1beta1, reflect.TypeOf(SchemaReplication{})},
	"SuperStream":       {V1alpha1, reflect.TypeOf(SuperStream{})},
	"Secret":            {"v1", reflect.TypeOf(Secret{})},
}

// Kinds lists the operator's kinds (not Secret), in the order Encode writes
// them.
var Kinds = []string{"Vhost", "User", "Permission", "TopicPermission", "Policy", "OperatorPolicy",
	"Exchange", "Queue", "Binding", "Federation", "Shovel", "SchemaReplication", "SuperStream"}

// Resource is one document of a stream: a custom resource or a Secret.
type Resource struct {
	File string
	// Index is the document's place in its stream, from 0, counting the
	// documents that are not empty.
	Index int
	Kind  string
	// Object is a *Vhost, *User, …, *SuperStream or *Secret; nil when the
	// document has errors.
	Object any
	node   *yaml.Node
}

// Name is the resource's metadata.name.
func (r *Resource) Name() string {
	if n := lookup(r.node, "metadata", "name"); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// Namespace is the resource's metadata.namespace ("" when not given).
func (r *Resource) Namespace() string {
	if n := lookup(r.node, "metadata", "namespace"); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// String names the resource as messages do: Queue "orders-incoming".
func (r *Resource) String() string { return fmt.Sprintf("%s %q", r.Kind, r.Name()) }

// Pos is where the value a JSON pointer (into the document: /spec/name)
// names is in the file, or where its nearest existing parent is. The
// zero Pos means the stream had no position for it.
func (r *Resource) Pos(ptr string) schema.Pos {
	n := r.node
	for _, tok := range schema.SplitPointer(ptr) {
		next := child(n, tok)
		if next == nil {
			break
		}
		n = next
	}
	if n == nil {
		return schema.Pos{}
	}
	return schema.Pos{Line: n.Line, Col: n.Column}
}

// Has reports whether the document has a value at ptr.
func (r *Resource) Has(ptr string) bool {
	n := r.node
	for _, tok := range schema.SplitPointer(ptr) {
		if n = child(n, tok); n == nil {
			return false
		}
	}
	return true
}

func child(n *yaml.Node, tok string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

func lookup(n *yaml.Node, path ...string) *yaml.Node {
	for _, p := range path {
		if n == nil {
			return nil
		}
		n = child(n, p)
	}
	return n
}

// Stream is the resources of one file, in order.
type Stream struct {
	File      string
	Resources []*Resource
}

var (
	detectRE       = regexp.MustCompile(`(?m)(^|[{,\s])["']?apiVersion["']?\s*:\s*["']?rabbitmq\.com/`)
	detectSecretRE = regexp.MustCompile(`(?m)(^|[{,\s])["']?kind["']?\s*:\s*["']?Secret\b`)
	detectV1RE     = regexp.MustCompile(`(?m)(^|[{,\s])["']?apiVersion["']?\s*:\s*["']?v1\b`)
)

// detectSize is how much of a file Detect looks at.
const detectSize = 64 << 10

// Detect reports whether data holds Topology Operator resources: a
// document whose apiVersion is in the rabbitmq.com group, or v1 Secrets
// (which a file of resources may keep apart), within its first 64 KiB.
func Detect(data []byte) bool {
	if len(data) > detectSize {
		data = data[:detectSize]
	}
	return detectRE.Match(data) || detectSecretRE.Match(data) && detectV1RE.Match(data)
}

// Decode reads a multi-document YAML stream of resources and checks each
// document on its own: kind, names, fields, types, enums, required fields
// and the rules the operator's webhooks enforce. References between
// documents (Secrets) are Check's. Every problem is reported, with its
// position.
func Decode(file string, data []byte) (*Stream, schema.Diagnostics) {
	s := &Stream{File: file}
	var diags schema.Diagnostics
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			diags = append(diags, syntaxError(file, err))
			break
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
			continue
		}
		n := doc.Content[0]
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			continue // an empty document
		}
		r := &Resource{File: file, Index: len(s.Resources), node: n}
		s.Resources = append(s.Resources, r)
		ds := decodeResource(r)
		diags = append(diags, ds...)
	}
	return s, diags
}

var lineRE = regexp.MustCompile(`line (\d+)`)

func syntaxError(file string, err error) schema.Diagnostic {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	d := schema.Diagnostic{File: file, Severity: schema.Error, Code: schema.ESyntax, Message: msg}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.Pos = schema.Pos{Line: line, Col: 1}
	}
	return d
}

// decodeResource validates one document and, when it has no errors, fills
// r.Kind and r.Object.
func decodeResource(r *Resource) schema.Diagnostics {
	v := &validator{r: r}
	n := r.node
	if n.Kind != yaml.MappingNode {
		v.add(n, "", schema.EUnsupportedIn, "a resource must be a mapping with apiVersion, kind, metadata and spec")
		return v.diags
	}
	apiVersion, kind := lookup(n, "apiVersion"), lookup(n, "kind")
	switch {
	case kind == nil:
		v.add(n, "", schema.ERequired, "missing field kind")
		return v.diags
	case kind.Kind != yaml.ScalarNode || kind.Tag != "!!str":
		v.add(kind, "/kind", schema.EType, "kind must be a string")
		return v.diags
	}
	info, ok := kinds[kind.Value]
	if !ok {
		v.add(kind, "/kind", schema.ETopoKind, fmt.Sprintf("unknown kind %q: the Topology Operator has %s (and v1 Secret)", kind.Value, strings.Join(Kinds, ", ")))
		return v.diags
	}
	r.Kind = kind.Value
	switch {
	case apiVersion == nil:
		v.add(n, "", schema.ERequired, "missing field apiVersion")
		return v.diags
	case apiVersion.Value != info.apiVersion:
		v.add(apiVersion, "/apiVersion", schema.ETopoKind, fmt.Sprintf("%s is served at apiVersion %s, not %q", kind.Value, info.apiVersion, apiVersion.Value))
		return v.diags
	}
	v.walk(n, info.typ, "")
	if r.Kind != "Secret" && lookup(n, "spec") == nil {
		v.add(n, "", schema.ERequired, "missing field spec")
	}
	if len(v.diags) > 0 {
		return v.diags
	}
	obj := reflect.New(info.typ).Interface()
	if err := n.Decode(obj); err != nil {
		v.add(n, "", schema.ESchema, err.Error())
		return v.diags
	}
	r.Object = obj
	v.rules(obj)
	if len(v.diags) > 0 {
		r.Object = nil
	}
	return v.diags
}

// validator walks one document against its Go type.
type validator struct {
	r     *Resource
	diags schema.Diagnostics
}

func (v *validator) add(n *yaml.Node, ptr string, code schema.Code, msg string) {
	sev := schema.Error
	if code[0] == 'W' {
		sev = schema.Warning
	}
	d := schema.Diagnostic{File: v.r.File, Pointer: ptr, Severity: sev, Code: code, Message: msg}
	if n != nil {
		d.Pos = schema.Pos{Line: n.Line, Col: n.Column}
	}
	if v.r.Kind != "" {
		if name := v.r.Name(); name != "" {
			d.Message = fmt.Sprintf("%s %q: %s", v.r.Kind, name, d.Message)
		}
	}
	v.diags = append(v.diags, d)
}

// fieldTags is a struct field's topo tag.
type fieldTags struct {
	required, free, base64, name, namespace bool
	enum, items                             []string
}

func parseTags(s string) fieldTags {
	var t fieldTags
	for _, p := range strings.Split(s, ",") {
		switch {
		case p == "required":
			t.required = true
		case p == "free":
			t.free = true
		case p == "base64":
			t.base64 = true
		case p == "name":
			t.name = true
		case p == "namespace":
			t.namespace = true
		case strings.HasPrefix(p, "enum="):
			t.enum = strings.Split(strings.TrimPrefix(p, "enum="), "|")
		case strings.HasPrefix(p, "items="):
			t.items = strings.Split(strings.TrimPrefix(p, "items="), "|")
		}
	}
	return t
}

type field struct {
	name string
	typ  reflect.Type
	tags fieldTags
}

// fields lists a struct's fields by their YAML names, inline structs
// flattened.
func fields(t reflect.Type) []field {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			out = append(out, fields(f.Type)...)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, field{name: name, typ: f.Type, tags: parseTags(f.Tag.Get("topo"))})
	}
	return out
}

// credentialFields names, per struct, fields a user might write a
// credential in, and where it belongs instead.
var credentialFields = map[reflect.Type]map[string]string{
	reflect.TypeOf(UserSpec{}): {"username": "importCredentialsSecret", "password": "importCredentialsSecret",
		"passwordHash": "importCredentialsSecret", "password_hash": "importCredentialsSecret"},
	reflect.TypeOf(FederationSpec{}): {"uri": "uriSecret (key uri)", "uris": "uriSecret (key uri)"},
	reflect.TypeOf(ShovelSpec{}): {"srcUri": "uriSecret (key srcUri)", "destUri": "uriSecret (key destUri)",
		"src-uri": "uriSecret (key srcUri)", "dest-uri": "uriSecret (key destUri)"},
	reflect.TypeOf(SchemaReplicationSpec{}): {"username": "upstreamSecret", "password": "upstreamSecret"},
	reflect.TypeOf(ClusterReference{}): {"uri": "connectionSecret (key uri)", "username": "connectionSecret",
		"password": "connectionSecret"},
}

var (
	mapAny    = reflect.TypeOf(map[string]any{})
	mapString = reflect.TypeOf(map[string]string{})
)

func (v *validator) walk(n *yaml.Node, t reflect.Type, ptr string) {
	v.value(n, t, ptr, fieldTags{})
}

func (v *validator) value(n *yaml.Node, t reflect.Type, ptr string, tags fieldTags) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct:
		v.object(n, t, ptr)
	case t == mapAny:
		if n.Kind != yaml.MappingNode {
			v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be an object, not %s", last(ptr), describe(n)))
			return
		}
		v.freeForm(n, ptr)
	case t == mapString:
		if n.Kind != yaml.MappingNode {
			v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be an object of strings, not %s", last(ptr), describe(n)))
			return
		}
		v.duplicates(n, ptr)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := ptr + "/" + schema.EscapePointerToken(k.Value)
			if !isStr(val) {
				// A Secret's value is not shown: it may be a password.
				v.add(val, p, schema.EType, fmt.Sprintf("%s must be a string, not %s (quote it)", k.Value, kindOf(val)))
				continue
			}
			if tags.base64 {
				if _, err := decodeBase64(val.Value); err != nil {
					v.add(val, p, schema.EValue, fmt.Sprintf("%s is not base64 (write plain values under stringData)", k.Value))
				}
			}
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be a list of strings, not %s", last(ptr), describe(n)))
			return
		}
		for i, item := range n.Content {
			p := ptr + "/" + strconv.Itoa(i)
			if !isStr(item) {
				v.add(item, p, schema.EType, fmt.Sprintf("%s must hold strings, not %s", last(ptr), describe(item)))
				continue
			}
			if tags.items != nil && !contains(tags.items, item.Value) {
				v.add(item, p, schema.EValue, fmt.Sprintf("%q is not one of %s", item.Value, strings.Join(tags.items, ", ")))
			}
		}
	case t.Kind() == reflect.String:
		if !isStr(n) {
			v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be a string, not %s", last(ptr), describe(n)))
			return
		}
		switch {
		case tags.enum != nil && !contains(tags.enum, n.Value):
			v.add(n, ptr, schema.EValue, fmt.Sprintf("%s %q is not one of %s", last(ptr), n.Value, strings.Join(tags.enum, ", ")))
		case tags.name && !IsDNS1123Subdomain(n.Value):
			v.add(n, ptr, schema.ETopoName, fmt.Sprintf("metadata.name %q is not a DNS-1123 subdomain (1-253 of a-z, 0-9, - and ., each dot-separated part starting and ending with a letter or digit)", n.Value))
		case tags.namespace && !IsDNS1123Label(n.Value):
			v.add(n, ptr, schema.ETopoName, fmt.Sprintf("namespace %q is not a DNS-1123 label (1-63 of a-z, 0-9 and -, starting and ending with a letter or digit)", n.Value))
		}
	case t.Kind() == reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be true or false, not %s", last(ptr), describe(n)))
		}
	case t.Kind() == reflect.Int32 || t.Kind() == reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be an integer, not %s", last(ptr), describe(n)))
			return
		}
		bits := 64
		if t.Kind() == reflect.Int32 {
			bits = 32
		}
		if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, bits); err != nil {
			v.add(n, ptr, schema.EValue, fmt.Sprintf("%s %s does not fit in %d bits", last(ptr), n.Value, bits))
		}
	}
}

// object checks a mapping against a struct: unknown keys, each field's
// value, required fields.
func (v *validator) object(n *yaml.Node, t reflect.Type, ptr string) {
	if n.Kind != yaml.MappingNode {
		what := last(ptr)
		if what == "" {
			what = "a resource"
		}
		v.add(n, ptr, schema.EType, fmt.Sprintf("%s must be an object, not %s", what, describe(n)))
		return
	}
	v.duplicates(n, ptr)
	fs := fields(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := ptr + "/" + schema.EscapePointerToken(k.Value)
		idx := -1
		for j, f := range fs {
			if f.name == k.Value {
				idx = j
			}
		}
		if idx < 0 {
			switch {
			case ptr == "" && k.Value == "status":
				// Written by the operator; ignored.
			case t == reflect.TypeOf(ObjectMeta{}) && contains(serverOwnedMeta, k.Value):
			case credentialFields[t][k.Value] != "":
				v.add(k, p, schema.ETopoCredential, fmt.Sprintf("%s is a credential: the operator reads it only from a Secret named by %s", k.Value, credentialFields[t][k.Value]))
			default:
				v.add(k, p, schema.ETopoUnknownField, fmt.Sprintf("unknown field %s%s", k.Value, nearest(k.Value, fs)))
			}
			continue
		}
		seen[k.Value] = true
		v.value(val, fs[idx].typ, p, fs[idx].tags)
	}
	for _, f := range fs {
		if !f.tags.required || seen[f.name] {
			continue
		}
		if f.name == "rabbitmqClusterReference" {
			v.add(n, ptr, schema.ETopoCluster, "missing rabbitmqClusterReference: name the RabbitmqCluster (name) or a connectionSecret")
			continue
		}
		v.add(n, ptr, schema.ERequired, "missing field "+f.name)
	}
}

func (v *validator) duplicates(n *yaml.Node, ptr string) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if first, ok := seen[k.Value]; ok {
			d := schema.Diagnostic{File: v.r.File, Pos: schema.Pos{Line: k.Line, Col: k.Column}, Pointer: ptr + "/" + schema.EscapePointerToken(k.Value),
				Severity: schema.Error, Code: schema.EDuplicateKey, Message: fmt.Sprintf("key %s appears twice", k.Value),
				Also: &schema.Location{File: v.r.File, Pos: schema.Pos{Line: first.Line, Col: first.Column}}}
			v.diags = append(v.diags, d)
			continue
		}
		seen[k.Value] = k
	}
}

// freeForm checks a free-form object: string keys, no tags YAML would
// drop, nested objects checked the same way.
func (v *validator) freeForm(n *yaml.Node, ptr string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		v.duplicates(n, ptr)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !isStr(k) {
				v.add(k, ptr, schema.EType, fmt.Sprintf("key %s must be a string, not %s", k.Value, describe(k)))
				continue
			}
			v.freeForm(n.Content[i+1], ptr+"/"+schema.EscapePointerToken(k.Value))
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			v.freeForm(item, ptr+"/"+strconv.Itoa(i))
		}
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!int", "!!float", "!!bool", "!!null":
		default:
			v.add(n, ptr, schema.EYAMLTag, fmt.Sprintf("value tagged %s: write plain JSON data", n.Tag))
		}
	}
}

func isStr(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!str" }

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return n.Value
	case "!!null":
		return "null"
	}
	return n.Tag + " " + n.Value
}

// kindOf names a value's type without its value.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return "a " + strings.TrimPrefix(n.Tag, "!!")
}

func last(ptr string) string {
	toks := schema.SplitPointer(ptr)
	if len(toks) == 0 {
		return ""
	}
	return toks[len(toks)-1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nearest suggests a known field that differs from name only in case or
// punctuation.
func nearest(name string, fs []field) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s))
	}
	for _, f := range fs {
		if norm(f.name) == norm(name) {
			return fmt.Sprintf(" (did you mean %s?)", f.name)
		}
	}
	return ""
}
