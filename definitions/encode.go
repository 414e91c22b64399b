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

// addExtra appends unknown fields, sorted by name.
func (m *omap) addExtra(extra map[string]any) {
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		m.add(k, extra[k])
	}
}

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
	for _, f := range []struct{ k, v string }{
		{"rabbit_version", d.RabbitVersion}, {"rabbitmq_version", d.RabbitMQVersion},
		{"product_name", d.ProductName}, {"product_version", d.ProductVersion},
		{"explanation", d.Explanation}, {"original_cluster_name", d.OriginalClusterName},
		{"rabbitmq_definition_format", d.Format}, {"original_vhost_name", d.OriginalVhostName},
	} {
		if f.v != "" {
			m.add(f.k, f.v)
		}
	}
	m.addExtra(d.Extra)
	addList(&m, "users", d.Users, (*User).tree)
	addList(&m, "vhosts", d.Vhosts, (*Vhost).tree)
	addList(&m, "permissions", d.Permissions, (*Permission).tree)
	addList(&m, "topic_permissions", d.TopicPermissions, (*TopicPermission).tree)
	addList(&m, "parameters", d.Parameters, (*Parameter).tree)
	addList(&m, "global_parameters", d.GlobalParameters, (*GlobalParameter).tree)
	addList(&m, "policies", d.Policies, (*Policy).tree)
	addList(&m, "queues", d.Queues, (*Queue).tree)
	addList(&m, "exchanges", d.Exchanges, (*Exchange).tree)
	addList(&m, "bindings", d.Bindings, (*Binding).tree)
	return m
}

func addList[T any](m *omap, k string, list []T, tree func(T) omap) {
	if list == nil {
		return
	}
	out := make([]any, len(list))
	for i, o := range list {
		out[i] = tree(o)
	}
	m.add(k, out)
}

func addString(m *omap, k, v string) {
	if v != "" {
		m.add(k, v)
	}
}

func addBool(m *omap, k string, v *bool) {
	if v != nil {
		m.add(k, *v)
	}
}

func addMap(m *omap, k string, v map[string]any) {
	if v != nil {
		m.add(k, v)
	}
}

func addTable(m *omap, k string, v Table) {
	if v != nil {
		m.add(k, v)
	}
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

func (u *User) tree() omap {
	m := append(make(omap, 0, 8), member{"name", u.Name})
	if u.Password != nil {
		m.add("password", u.Password.tree())
	}
	if u.PasswordHash != nil {
		m.add("password_hash", *u.PasswordHash)
	}
	addString(&m, "hashing_algorithm", u.HashingAlgorithm)
	if u.Tags != nil {
		m.add("tags", tagList(u.Tags))
	}
	if u.Limits != nil {
		lim := omap{}
		for _, k := range slices.Sorted(maps.Keys(u.Limits)) {
			lim.add(k, json.Number(strconv.FormatInt(u.Limits[k], 10)))
		}
		m.add("limits", lim)
	}
	if a := u.ActiveMQ; a != nil {
		am := omap{}
		if a.Groups != nil {
			am.add("groups", tagList(a.Groups))
		}
		addBool(&am, "console_access", a.ConsoleAccess)
		addBool(&am, "replication_user", a.ReplicationUser)
		m.add("activemq", am)
	}
	m.addExtra(u.Extra)
	return m
}

func (v *Vhost) tree() omap {
	m := append(make(omap, 0, 8), member{"name", v.Name})
	if v.Description != nil {
		m.add("description", *v.Description)
	}
	if v.Tags != nil {
		m.add("tags", tagList(v.Tags))
	}
	addString(&m, "default_queue_type", v.DefaultQueueType)
	addBool(&m, "tracing", v.Tracing)
	addMap(&m, "metadata", v.Metadata)
	m.addExtra(v.Extra)
	return m
}

func (p *Permission) tree() omap {
	m := omap{{"user", p.User}, {"vhost", p.Vhost}, {"configure", p.Configure}, {"write", p.Write}, {"read", p.Read}}
	m.addExtra(p.Extra)
	return m
}

func (p *TopicPermission) tree() omap {
	m := omap{{"user", p.User}, {"vhost", p.Vhost}, {"exchange", p.Exchange}, {"write", p.Write}, {"read", p.Read}}
	m.addExtra(p.Extra)
	return m
}

func (p *Parameter) tree() omap {
	m := make(omap, 0, 8)
	addString(&m, "vhost", p.Vhost)
	m.add("component", p.Component)
	m.add("name", p.Name)
	m.add("value", p.Value)
	m.addExtra(p.Extra)
	return m
}

func (p *GlobalParameter) tree() omap {
	m := omap{{"name", p.Name}, {"value", p.Value}}
	m.addExtra(p.Extra)
	return m
}

func (p *Policy) tree() omap {
	m := append(make(omap, 0, 8), member{"name", p.Name})
	addString(&m, "vhost", p.Vhost)
	m.add("pattern", p.Pattern)
	addString(&m, "apply-to", p.ApplyTo)
	if p.Priority != nil {
		m.add("priority", json.Number(strconv.FormatInt(*p.Priority, 10)))
	}
	addMap(&m, "definition", p.Definition)
	m.addExtra(p.Extra)
	return m
}

func (q *Queue) tree() omap {
	m := append(make(omap, 0, 8), member{"name", q.Name})
	addString(&m, "vhost", q.Vhost)
	addString(&m, "type", q.Type)
	addBool(&m, "durable", q.Durable)
	addBool(&m, "auto_delete", q.AutoDelete)
	addTable(&m, "arguments", q.Arguments)
	m.addExtra(q.Extra)
	return m
}

func (e *Exchange) tree() omap {
	m := append(make(omap, 0, 8), member{"name", e.Name})
	addString(&m, "vhost", e.Vhost)
	m.add("type", e.Type)
	addBool(&m, "durable", e.Durable)
	addBool(&m, "auto_delete", e.AutoDelete)
	addBool(&m, "internal", e.Internal)
	addTable(&m, "arguments", e.Arguments)
	m.addExtra(e.Extra)
	return m
}

func (b *Binding) tree() omap {
	m := make(omap, 0, 8)
	addString(&m, "vhost", b.Vhost)
	m.add("source", b.Source)
	m.add("destination_type", b.DestinationType)
	m.add("destination", b.Destination)
	m.add("routing_key", b.RoutingKey)
	addTable(&m, "arguments", b.Arguments)
	m.addExtra(b.Extra)
	return m
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
	writeCompactAs(&b, d.tree(), false)
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
