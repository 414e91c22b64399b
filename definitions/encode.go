package definitions

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The canonical form: objects sorted by identity, fields in a fixed order
// (identity first, unknown fields last, sorted), two-space indentation. The
// same document always encodes to the same bytes, so a review of a change
// to a definitions file shows only what changed.

// member is one field of an ordered object.
type member = Field

// omap is an object whose fields are written in the order given. A Table
// is one whose order is by name.
type omap []member

func (m *omap) add(k string, v any) { *m = append(*m, member{k, v}) }

// Sort puts every list of d in canonical order (by each object's Key).
func (d *Document) Sort() {
	sortByKey(d.Users)
	sortByKey(d.Vhosts)
	sortByKey(d.Permissions)
	sortByKey(d.TopicPermissions)
	sortByKey(d.Parameters)
	sortByKey(d.GlobalParameters)
	sortByKey(d.Policies)
	sortByKey(d.Queues)
	sortByKey(d.Exchanges)
	sortByKey(d.Bindings)
}

func sortByKey[T Object](s []T) {
	type keyed struct {
		key string
		obj T
	}
	ks := make([]keyed, len(s))
	for i, o := range s {
		ks[i] = keyed{o.Key(), o}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for i, k := range ks {
		s[i] = k.obj
	}
}

// tree builds the ordered form of d. Lists that are nil are left out; an
// empty list that the file had is kept, because it says the file manages
// that kind.
func (d *Document) tree() omap {
	var m omap
	d.topFields(&treeWriter{&m})
	for _, k := range documentOrder {
		r := info(k)
		list := r.list.objects(d)
		if list == nil {
			continue
		}
		out := make([]any, len(list))
		for i, o := range list {
			out[i] = r.tree(o)
		}
		m.add(string(k), out)
	}
	return m
}

// documentOrder is the order of the lists in a document, as RabbitMQ's
// export writes them.
var documentOrder = []Kind{KindUser, KindVhost, KindPermission, KindTopicPermission, KindParameter,
	KindGlobalParameter, KindPolicy, KindQueue, KindExchange, KindBinding}

// topFields gives d's fields other than its lists of objects.
func (d *Document) topFields(w fieldWriter) {
	for _, f := range []struct{ k, v string }{
		{"rabbit_version", d.RabbitVersion}, {"rabbitmq_version", d.RabbitMQVersion},
		{"product_name", d.ProductName}, {"product_version", d.ProductVersion},
		{"explanation", d.Explanation}, {"original_cluster_name", d.OriginalClusterName},
		{"rabbitmq_definition_format", d.Format}, {"original_vhost_name", d.OriginalVhostName},
	} {
		if f.v != "" {
			w.str(f.k, f.v)
		}
	}
	extra(w, d.Extra)
}

// A fieldWriter takes an object's fields in canonical order. Each kind
// gives its fields once (its fields method), to either writer: treeWriter
// builds the ordered tree (fmt, export, plans, YAML), compactWriter writes
// compact JSON straight into a buffer (digests and imports of 40,000
// objects, without a tree of them or a boxed value for every field).
type fieldWriter interface {
	str(k, v string)
	tags(k string, v []string)
	limits(k string, v map[string]int64)
	val(k string, v any) // bools, numbers, Tables, maps, lists, any value
}

// extra gives unknown fields, sorted by name.
func extra(w fieldWriter, extra map[string]any) {
	if len(extra) == 0 {
		return
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		w.val(k, extra[k])
	}
}

func strField(w fieldWriter, k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func boolField(w fieldWriter, k string, v *bool) {
	if v != nil {
		w.val(k, *v)
	}
}

// treeWriter builds an omap.
type treeWriter struct{ m *omap }

func (t *treeWriter) str(k, v string)           { t.m.add(k, v) }
func (t *treeWriter) val(k string, v any)       { t.m.add(k, v) }
func (t *treeWriter) tags(k string, v []string) { t.m.add(k, tagList(v)) }
func (t *treeWriter) limits(k string, v map[string]int64) {
	lim := omap{}
	for _, n := range slices.Sorted(maps.Keys(v)) {
		lim.add(n, json.Number(strconv.FormatInt(v[n], 10)))
	}
	t.m.add(k, lim)
}

// compactWriter writes fields as writeCompactAs writes an omap's (with
// canonical numbers when canonical), without the braces.
type compactWriter struct {
	b         *bytes.Buffer
	canonical bool
	n         int // fields written
}

func (c *compactWriter) key(k string) {
	if c.n > 0 {
		c.b.WriteByte(',')
	}
	c.n++
	writeJSONString(c.b, k)
	c.b.WriteByte(':')
}

func (c *compactWriter) str(k, v string) { c.key(k); writeJSONString(c.b, v) }
func (c *compactWriter) val(k string, v any) {
	c.key(k)
	writeCompactAs(c.b, v, c.canonical)
}
func (c *compactWriter) tags(k string, v []string) {
	c.key(k)
	c.b.WriteByte('[')
	for i, t := range v {
		if i > 0 {
			c.b.WriteByte(',')
		}
		writeJSONString(c.b, t)
	}
	c.b.WriteByte(']')
}
func (c *compactWriter) limits(k string, v map[string]int64) {
	c.key(k)
	if len(v) == 0 { // most users: no list of no names
		c.b.WriteString("{}")
		return
	}
	c.b.WriteByte('{')
	for i, n := range slices.Sorted(maps.Keys(v)) {
		if i > 0 {
			c.b.WriteByte(',')
		}
		writeJSONString(c.b, n)
		c.b.WriteByte(':')
		c.b.WriteString(strconv.FormatInt(v[n], 10))
	}
	c.b.WriteByte('}')
}

// object writes o as compact JSON (writeCompactAs of its tree, without
// the tree): one compactWriter writes any number of objects.
func (c *compactWriter) object(o Object) {
	c.b.WriteByte('{')
	c.n = 0
	info(o.Kind()).fields(o, c)
	c.b.WriteByte('}')
}

func tagList(tags []string) []any {
	out := make([]any, len(tags))
	for i, t := range tags {
		out[i] = t
	}
	return out
}

func (s *Secret) tree() any {
	switch {
	case s.Literal != nil:
		return *s.Literal
	case s.Env != "":
		return omap{{"env", s.Env}}
	default:
		return omap{{"file", s.File}}
	}
}

func (u *User) fields(w fieldWriter) {
	w.str("name", u.Name)
	if u.Password != nil {
		w.val("password", u.Password.tree())
	}
	if u.PasswordHash != nil {
		w.str("password_hash", *u.PasswordHash)
	}
	strField(w, "hashing_algorithm", u.HashingAlgorithm)
	if u.Tags != nil {
		w.tags("tags", u.Tags)
	}
	if u.Limits != nil {
		w.limits("limits", u.Limits)
	}
	if a := u.ActiveMQ; a != nil {
		am := omap{}
		if a.Groups != nil {
			am.add("groups", tagList(a.Groups))
		}
		if a.ConsoleAccess != nil {
			am.add("console_access", *a.ConsoleAccess)
		}
		if a.ReplicationUser != nil {
			am.add("replication_user", *a.ReplicationUser)
		}
		w.val("activemq", am)
	}
	extra(w, u.Extra)
}

func (v *Vhost) fields(w fieldWriter) {
	w.str("name", v.Name)
	if v.Description != nil {
		w.str("description", *v.Description)
	}
	if v.Tags != nil {
		w.tags("tags", v.Tags)
	}
	strField(w, "default_queue_type", v.DefaultQueueType)
	boolField(w, "tracing", v.Tracing)
	md := v.Metadata
	if _, ok := md["protected_from_deletion"]; v.Protected != nil && !ok {
		// A normalized vhost holds it as a field; RabbitMQ reads it only
		// from metadata.
		md = maps.Clone(md)
		if md == nil {
			md = map[string]any{}
		}
		md["protected_from_deletion"] = *v.Protected
	}
	if md != nil {
		w.val("metadata", md)
	}
	extra(w, v.Extra)
}

func (p *Permission) fields(w fieldWriter) {
	w.str("user", p.User)
	w.str("vhost", p.Vhost)
	w.str("configure", p.Configure)
	w.str("write", p.Write)
	w.str("read", p.Read)
	extra(w, p.Extra)
}

func (p *TopicPermission) fields(w fieldWriter) {
	w.str("user", p.User)
	w.str("vhost", p.Vhost)
	w.str("exchange", p.Exchange)
	w.str("write", p.Write)
	w.str("read", p.Read)
	extra(w, p.Extra)
}

func (p *Parameter) fields(w fieldWriter) {
	strField(w, "vhost", p.Vhost)
	w.str("component", p.Component)
	w.str("name", p.Name)
	w.val("value", p.Value)
	extra(w, p.Extra)
}

func (p *GlobalParameter) fields(w fieldWriter) {
	w.str("name", p.Name)
	w.val("value", p.Value)
	extra(w, p.Extra)
}

func (p *Policy) fields(w fieldWriter) {
	w.str("name", p.Name)
	strField(w, "vhost", p.Vhost)
	w.str("pattern", p.Pattern)
	strField(w, "apply-to", p.ApplyTo)
	if p.Priority != nil {
		w.val("priority", json.Number(strconv.FormatInt(*p.Priority, 10)))
	}
	if p.Definition != nil {
		w.val("definition", p.Definition)
	}
	extra(w, p.Extra)
}

func (q *Queue) fields(w fieldWriter) {
	w.str("name", q.Name)
	strField(w, "vhost", q.Vhost)
	strField(w, "type", q.Type)
	boolField(w, "durable", q.Durable)
	boolField(w, "auto_delete", q.AutoDelete)
	if q.Arguments != nil {
		w.val("arguments", q.Arguments)
	}
	extra(w, q.Extra)
}

func (e *Exchange) fields(w fieldWriter) {
	w.str("name", e.Name)
	strField(w, "vhost", e.Vhost)
	w.str("type", e.Type)
	boolField(w, "durable", e.Durable)
	boolField(w, "auto_delete", e.AutoDelete)
	boolField(w, "internal", e.Internal)
	if e.Arguments != nil {
		w.val("arguments", e.Arguments)
	}
	extra(w, e.Extra)
}

func (b *Binding) fields(w fieldWriter) {
	strField(w, "vhost", b.Vhost)
	w.str("source", b.Source)
	w.str("destination_type", b.DestinationType)
	w.str("destination", b.Destination)
	w.str("routing_key", b.RoutingKey)
	if b.Arguments != nil {
		w.val("arguments", b.Arguments)
	}
	extra(w, b.Extra)
}

// EncodeJSON writes d in canonical JSON. It does not sort d; call Sort
// first for the canonical order of objects.
func (d *Document) EncodeJSON() []byte {
	var b bytes.Buffer
	writeJSON(&b, d.tree(), "\n")
	b.WriteByte('\n')
	return b.Bytes()
}

// EncodeCompactJSON writes d as EncodeJSON does, without the whitespace:
// the same keys in the same order, the same values, numbers as written.
// It is for machines (a broker's import parses a third fewer bytes).
func (d *Document) EncodeCompactJSON() []byte {
	var b bytes.Buffer
	top, objects := &compactWriter{b: &b}, &compactWriter{b: &b}
	b.WriteByte('{')
	d.topFields(top)
	for _, k := range documentOrder {
		r := info(k)
		if !r.list.present(d) {
			continue
		}
		top.key(string(k))
		b.WriteByte('[')
		i := 0
		for o := range r.list.all(d) {
			if i > 0 {
				b.WriteByte(',')
			}
			objects.object(o)
			i++
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// EncodeYAML writes d in canonical YAML, starting with a comment that tells
// editors where the schema is.
func (d *Document) EncodeYAML(schemaComment string) []byte {
	var b bytes.Buffer
	if schemaComment != "" {
		b.WriteString(schemaComment)
		b.WriteByte('\n')
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(yamlNode(d.tree())); err != nil {
		// yamlNode builds only nodes the encoder accepts.
		panic(fmt.Sprintf("definitions: encoding YAML: %v", err))
	}
	enc.Close()
	return b.Bytes()
}

// writeJSON writes v indented; nl is the newline plus current indentation.
func writeJSON(b *bytes.Buffer, v any, nl string) {
	switch v := v.(type) {
	case omap:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + "  ")
			writeJSONString(b, m.Name)
			b.WriteString(": ")
			writeJSON(b, m.Value, nl+"  ")
		}
		b.WriteString(nl + "}")
	case Table:
		writeJSON(b, omap(v), nl)
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		om := make(omap, len(keys))
		for i, k := range keys {
			om[i] = member{k, v[k]}
		}
		writeJSON(b, om, nl)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(nl + "  ")
			writeJSON(b, e, nl+"  ")
		}
		b.WriteString(nl + "]")
	default:
		writeJSONScalar(b, v)
	}
}

func writeJSONScalar(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		writeJSONString(b, v)
	case json.Number:
		b.WriteString(string(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	default:
		panic(fmt.Sprintf("definitions: cannot encode %T", v))
	}
}

// CanonicalJSON writes v compactly with sorted keys: equal values give equal
// strings. It is used in identities (a binding's arguments).
func CanonicalJSON(v any) string {
	if v == nil {
		return ""
	}
	var b bytes.Buffer
	writeCompact(&b, v)
	return b.String()
}

func writeCompact(b *bytes.Buffer, v any) { writeCompactAs(b, v, true) }

// writeCompactAs writes v without whitespace, maps with sorted keys;
// canonical also writes numbers in normal form (1.0 as 1), for comparing.
func writeCompactAs(b *bytes.Buffer, v any, canonical bool) {
	switch v := v.(type) {
	case Table: // sorted by name already
		writeCompactAs(b, omap(v), canonical)
	case omap: // already in a fixed order
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, m.Name)
			b.WriteByte(':')
			writeCompactAs(b, m.Value, canonical)
		}
		b.WriteByte('}')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeCompactAs(b, v[k], canonical)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCompactAs(b, e, canonical)
		}
		b.WriteByte(']')
	case json.Number:
		if canonical {
			b.WriteString(normalizeNumber(v))
		} else {
			writeJSONScalar(b, v)
		}
	case []string:
		writeCompactAs(b, tagList(v), canonical)
	case map[string]int64:
		m := make(map[string]any, len(v))
		for k, n := range v {
			m[k] = n
		}
		writeCompactAs(b, m, canonical)
	default:
		writeJSONScalar(b, v)
	}
}

// normalizeNumber writes integers in plain form so that 1.0, 1e0 and 1
// compare equal, as they do for the broker, and keeps every number exact:
// no value goes through float64, so 2^53+1 stays itself.
func normalizeNumber(n json.Number) string {
	if i, err := n.Int64(); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, _, err := big.ParseFloat(string(n), 10, 4096, big.ToNearestEven)
	if err != nil {
		return string(n)
	}
	if f.IsInt() {
		i, _ := f.Int(nil)
		return i.String()
	}
	return f.Text('g', -1)
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string. Unlike encoding/json it does
// not escape <, > and &, which keeps patterns readable.
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == '\u2028' || r == '\u2029' {
				b.WriteString(s[start:i])
				fmt.Fprintf(b, `\u%04x`, r)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// yamlNode builds a YAML node for an ordered tree.
func yamlNode(v any) *yaml.Node {
	switch v := v.(type) {
	case omap:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, m := range v {
			n.Content = append(n.Content, yamlScalar("!!str", m.Name), yamlNode(m.Value))
		}
		return n
	case Table:
		return yamlNode(omap(v))
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n.Content = append(n.Content, yamlScalar("!!str", k), yamlNode(v[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if len(v) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, e := range v {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case nil:
		return yamlScalar("!!null", "null")
	case bool:
		return yamlScalar("!!bool", strconv.FormatBool(v))
	case string:
		return yamlScalar("!!str", v)
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return yamlScalar("!!int", string(v))
		}
		return yamlScalar("!!float", string(v))
	}
	var b bytes.Buffer
	writeJSONScalar(&b, v)
	return yamlScalar("!!int", b.String())
}

func yamlScalar(tag, value string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
	if tag == "!!str" && value == "" {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}
