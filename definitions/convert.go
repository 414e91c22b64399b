package definitions

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/warren-tool/warren/internal/decode"
	"github.com/warren-tool/warren/schema"
)

// converter builds a Document from decoded values, one object at a time,
// checking each against its schema definition first. The schema's
// complaints are recorded; convert skips what it cannot use instead of
// failing, so that one run reports every problem. Fields the schema does not
// list are kept in Extra and reported as W101.
type converter struct {
	file  *File
	diags *schema.Diagnostics
	doc   *Document
	// spare takes back the decoded maps the model copied (arguments,
	// limits), for the decoder to reuse.
	spare decode.Spare
}

func newConverter(f *File, diags *schema.Diagnostics) *converter {
	return &converter{file: f, diags: diags, doc: &Document{files: []*File{f}}}
}

// table is the Table of a decoded value (nil unless it is an object), whose
// map goes back to the decoder.
func (c *converter) table(v any) Table {
	m, _ := v.(map[string]any)
	t := TableOf(m)
	c.spare.Put(m)
	return t
}

// isKind reports whether a top-level key holds a list of objects.
func isKind(key string) bool {
	_, ok := InfoOf(Kind(key))
	return ok
}

// top reads the top level. Its lists of objects have been handed to item
// already and are empty here.
func (c *converter) top(top map[string]any) {
	d, f := c.doc, c.file
	for _, d := range schema.Validate(top) {
		d.File = f.Name
		*c.diags = append(*c.diags, d)
	}
	d.RabbitVersion = str(top, "rabbit_version")
	f.rabbitVersion = d.RabbitVersion
	d.RabbitMQVersion = str(top, "rabbitmq_version")
	d.ProductName = str(top, "product_name")
	d.ProductVersion = str(top, "product_version")
	d.Explanation = str(top, "explanation")
	d.OriginalClusterName = str(top, "original_cluster_name")
	d.Format = str(top, "rabbitmq_definition_format")
	d.OriginalVhostName = str(top, "original_vhost_name")
	d.Extra = c.extra(top, "", itemPtr{})
	d.Settings = c.settings(top["warren"])
	for _, k := range Kinds {
		if _, ok := top[string(k)].([]any); ok {
			d.markPresent(k)
		}
	}
}

// item checks one object of a top-level list against the schema and adds
// it to the document.
func (c *converter) item(kind string, i int, v any) {
	k := Kind(kind)
	base := itemPtr{kind: kind, i: i}
	for _, d := range schema.ValidateDef(info(k).Schema, v) {
		d.File = c.file.Name
		d.Pointer = base.String() + d.Pointer
		*c.diags = append(*c.diags, d)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return // the schema reported it
	}
	og := Origin{File: c.file, Index: i}
	d := c.doc
	r := info(k)
	r.list.add(d, r.read(c, m, og, base))
}

// itemPtr is the JSON pointer of an object in a file (/users/3), made
// only when a diagnostic needs it: 150,000 objects made as many strings.
type itemPtr struct {
	kind string
	i    int
	s    string // the pointer itself, when given whole
}

func (p itemPtr) String() string {
	if p.s != "" || p.kind == "" {
		return p.s
	}
	return "/" + p.kind + "/" + strconv.Itoa(p.i)
}

// markPresent makes the list of a kind non-nil: the file names the kind,
// even if it lists no object of it.
func (d *Document) markPresent(k Kind) { info(k).list.markPresent(d) }

// typedTop lists the top-level keys the Document has fields for.
var typedTop = []string{
	"rabbit_version", "rabbitmq_version", "product_name", "product_version",
	"explanation", "original_cluster_name", "rabbitmq_definition_format", "original_vhost_name",
	"users", "vhosts", "permissions", "topic_permissions", "parameters",
	"global_parameters", "policies", "queues", "exchanges", "bindings",
}

// typed lists, per schema definition, the fields the model has typed
// fields for; the schema's other properties stay in Extra without warning.
var typed = map[string][]string{
	"user":             {"name", "password", "password_hash", "hashing_algorithm", "tags", "limits", "activemq"},
	"vhost":            {"name", "description", "tags", "default_queue_type", "metadata", "tracing"},
	"permission":       {"user", "vhost", "configure", "write", "read"},
	"topic_permission": {"user", "vhost", "exchange", "write", "read"},
	"parameter":        {"vhost", "component", "name", "value"},
	"global_parameter": {"name", "value"},
	"policy":           {"vhost", "name", "pattern", "apply-to", "priority", "definition"},
	"queue":            {"vhost", "name", "type", "durable", "auto_delete", "arguments"},
	"exchange":         {"vhost", "name", "type", "durable", "auto_delete", "internal", "arguments"},
	"binding":          {"vhost", "source", "destination", "destination_type", "routing_key", "arguments"},
}

// fieldSets holds, per schema definition, which fields are typed and which
// the schema knows.
type fieldSet struct {
	known map[string]bool
	// names lists the typed fields: seven at most, so scanning it costs
	// less than hashing the key (extra runs for every field of every
	// object).
	names []string
}

// isTyped reports whether k is a typed field.
func (fs *fieldSet) isTyped(k string) bool {
	for _, n := range fs.names {
		if n == k {
			return true
		}
	}
	return false
}

var fieldSets = sync.OnceValue(func() map[string]fieldSet {
	out := map[string]fieldSet{}
	for _, def := range append([]string{""}, "user", "vhost", "permission", "topic_permission", "parameter",
		"global_parameter", "policy", "queue", "exchange", "binding") {
		fs := fieldSet{known: map[string]bool{}}
		names := typed[def]
		if def == "" {
			names = typedTop
		}
		fs.names = names
		for _, n := range schema.Properties(def) {
			fs.known[n] = true
		}
		out[def] = fs
	}
	return out
})

// extra collects the fields of m that have no typed field, warning about
// those the schema does not know. base is the object's pointer.
func (c *converter) extra(m map[string]any, def string, base itemPtr) map[string]any {
	fs := fieldSets()[def]
	var out map[string]any
	for k, v := range m {
		if fs.isTyped(k) {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[k] = v
		if !fs.known[k] {
			*c.diags = append(*c.diags, schema.Diagnostic{
				File: c.file.Name, Pointer: base.String() + "/" + schema.EscapePointerToken(k), Severity: schema.Warning,
				Code: schema.WUnknownField, Message: fmt.Sprintf("unknown field %q (kept as written)", k)})
		}
	}
	return out
}

func (c *converter) meta(m map[string]any, og Origin, def string, base itemPtr) Meta {
	return Meta{Origin: og, Extra: c.extra(m, def, base)}
}

func (c *converter) user(m map[string]any, og Origin, base itemPtr) *User {
	u := &User{
		Name:             str(m, "name"),
		Password:         secret(m["password"]),
		PasswordHash:     strp(m, "password_hash"),
		HashingAlgorithm: str(m, "hashing_algorithm"),
		Tags:             tags(m, "tags"),
		Meta:             c.meta(m, og, "user", base),
	}
	if lim, ok := m["limits"].(map[string]any); ok {
		u.Limits = noLimits // every user's empty limits: a model's maps are never changed in place
		if len(lim) > 0 {
			u.Limits = make(map[string]int64, len(lim))
		}
		for k, v := range lim {
			if n, ok := integer(v); ok {
				u.Limits[k] = n
			} else if _, whole := wholeNumber(v); whole {
				// The schema takes 10.0 for an integer; the broker does not.
				*c.diags = append(*c.diags, schema.Diagnostic{
					File: c.file.Name, Pointer: base.String() + "/limits/" + schema.EscapePointerToken(k), Severity: schema.Error,
					Code: schema.ELimit, Message: fmt.Sprintf("%s must be written as an integer (RabbitMQ refuses %s: \"should be a number, actually was %s\")", k, v, v)})
			}
		}
		c.spare.Put(lim)
	}
	if a, ok := m["activemq"].(map[string]any); ok {
		u.ActiveMQ = &ActiveMQUser{Groups: tags(a, "groups"), ConsoleAccess: boolp(a, "console_access"), ReplicationUser: boolp(a, "replication_user")}
		if _, isString := a["groups"].(string); isString {
			u.ActiveMQ.Groups = nil
		}
	}
	return u
}

func (c *converter) vhost(m map[string]any, og Origin, base itemPtr) *Vhost {
	v := &Vhost{
		Name:             str(m, "name"),
		Description:      strp(m, "description"),
		Tags:             tags(m, "tags"),
		DefaultQueueType: str(m, "default_queue_type"),
		Tracing:          boolp(m, "tracing"),
		Meta:             c.meta(m, og, "vhost", base),
	}
	v.Metadata, _ = m["metadata"].(map[string]any)
	return v
}

func (c *converter) permission(m map[string]any, og Origin, base itemPtr) *Permission {
	return &Permission{User: str(m, "user"), Vhost: str(m, "vhost"),
		Configure: str(m, "configure"), Write: str(m, "write"), Read: str(m, "read"),
		Meta: c.meta(m, og, "permission", base)}
}

func (c *converter) topicPermission(m map[string]any, og Origin, base itemPtr) *TopicPermission {
	return &TopicPermission{User: str(m, "user"), Vhost: str(m, "vhost"), Exchange: str(m, "exchange"),
		Write: str(m, "write"), Read: str(m, "read"),
		Meta: c.meta(m, og, "topic_permission", base)}
}

func (c *converter) parameter(m map[string]any, og Origin, base itemPtr) *Parameter {
	return &Parameter{Vhost: str(m, "vhost"), Component: str(m, "component"), Name: str(m, "name"),
		Value: m["value"], Meta: c.meta(m, og, "parameter", base)}
}

func (c *converter) globalParameter(m map[string]any, og Origin, base itemPtr) *GlobalParameter {
	return &GlobalParameter{Name: str(m, "name"), Value: m["value"], Meta: c.meta(m, og, "global_parameter", base)}
}

func (c *converter) policy(m map[string]any, og Origin, base itemPtr) *Policy {
	p := &Policy{Vhost: str(m, "vhost"), Name: str(m, "name"), Pattern: str(m, "pattern"),
		ApplyTo: str(m, "apply-to"), Meta: c.meta(m, og, "policy", base)}
	if n, ok := wholeNumber(m["priority"]); ok {
		p.Priority = &n // the broker takes 2.0 for a priority (and keeps it so)
	}
	p.Definition, _ = m["definition"].(map[string]any)
	return p
}

func (c *converter) queue(m map[string]any, og Origin, base itemPtr) *Queue {
	q := &Queue{Vhost: str(m, "vhost"), Name: str(m, "name"), Type: str(m, "type"),
		Durable: boolp(m, "durable"), AutoDelete: boolp(m, "auto_delete"), Meta: c.meta(m, og, "queue", base)}
	q.Arguments = c.table(m["arguments"])
	return q
}

func (c *converter) exchange(m map[string]any, og Origin, base itemPtr) *Exchange {
	e := &Exchange{Vhost: str(m, "vhost"), Name: str(m, "name"), Type: str(m, "type"),
		Durable: boolp(m, "durable"), AutoDelete: boolp(m, "auto_delete"), Internal: boolp(m, "internal"),
		Meta: c.meta(m, og, "exchange", base)}
	e.Arguments = c.table(m["arguments"])
	return e
}

func (c *converter) binding(m map[string]any, og Origin, base itemPtr) *Binding {
	b := &Binding{Vhost: str(m, "vhost"), Source: str(m, "source"), Destination: str(m, "destination"),
		DestinationType: str(m, "destination_type"), RoutingKey: str(m, "routing_key"),
		Meta: c.meta(m, og, "binding", base)}
	b.Arguments = c.table(m["arguments"])
	return b
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func strp(m map[string]any, k string) *string {
	if s, ok := m[k].(string); ok {
		return &s
	}
	return nil
}

// boolp reads a boolean field; nil when it is absent. The pointer is one
// of two shared by every object (a model's values are never changed in
// place): 1,500,000 objects made a million allocations of one byte.
func boolp(m map[string]any, k string) *bool {
	if b, ok := m[k].(bool); ok {
		if b {
			return &sharedTrue
		}
		return &sharedFalse
	}
	return nil
}

var sharedTrue, sharedFalse = true, false

// tags reads a list of strings or RabbitMQ's comma-separated form.
func tags(m map[string]any, k string) []string {
	switch v := m[k].(type) {
	case string:
		return SplitTags(v)
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// SplitTags splits RabbitMQ's comma-separated tag string.
func SplitTags(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func secret(v any) *Secret {
	switch v := v.(type) {
	case string:
		return &Secret{Literal: &v}
	case map[string]any:
		if e, ok := v["env"].(string); ok {
			return &Secret{Env: e}
		}
		if f, ok := v["file"].(string); ok {
			return &Secret{File: f}
		}
	}
	return nil
}

// wholeNumber reads a whole number, 1 and 1.0 alike.
func wholeNumber(v any) (int64, bool) {
	if i, ok := integer(v); ok {
		return i, true
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// atLeast reports whether v is an integer written as one and at least min.
// RabbitMQ's integers have no bound, so an integer beyond int64 is still
// one: at least min when positive.
func atLeast(v any, min int64) bool {
	if n, ok := integer(v); ok {
		return n >= min
	}
	s, ok := v.(json.Number)
	return ok && bigIntegerLiteral.MatchString(string(s)) && s[0] != '-'
}

// bigIntegerLiteral is an integer literal, of any size.
var bigIntegerLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// integer reads an integer written as one. 1000.0 and 1e3 are not: the
// broker's JSON decoder reads them as floats, and every place that wants
// an integer refuses a float (seen on 3.10.8 and 4.0.5: "1.0e3 is not a
// valid message TTL", "expected integer, got double").
func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}
