package definitions

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/warren-tool/warren/definitions/topology"
	"github.com/warren-tool/warren/schema"
)

// A file of Messaging Topology Operator resources (a document with
// apiVersion rabbitmq.com/…) is read as definitions: parse decodes and
// validates it strictly (topology.Decode), and linkTopology, once every
// file is read, checks the Secrets the resources reference across the
// files and builds the model from the resources, with the CRDs' defaults.
// Each object's pointer (/queues/2/arguments/x-max-length) leads to the
// resource it came from (/spec/arguments/x-max-length in its document):
// diagnostics found later point into the YAML.

// topoFile is what a file of resources keeps to place diagnostics.
type topoFile struct {
	stream *topology.Stream
	// objs maps an object's pointer (/queues/2) to where it came from.
	objs   map[string]topoOrigin
	next   map[Kind]int
	linked bool
}

// topoOrigin is the resource an object came from, and how the object's
// fields map to the resource's: the longest prefix of a field pointer
// ("arguments/x-queue-type") found in fields gives the resource's pointer.
type topoOrigin struct {
	r      *topology.Resource
	fields map[string]string
}

// resourcePointer maps a pointer into the model's document to one into
// the resource's, and returns the resource too.
func (t *topoFile) resourcePointer(ptr string) (*topology.Resource, string, bool) {
	toks := strings.SplitN(strings.TrimPrefix(ptr, "/"), "/", 3)
	if len(toks) < 2 {
		return nil, "", false
	}
	og, ok := t.objs["/"+toks[0]+"/"+toks[1]]
	if !ok {
		return nil, "", false
	}
	rest := ""
	if len(toks) == 3 {
		rest = toks[2]
	}
	for p := rest; ; {
		if to, ok := og.fields[p]; ok {
			return og.r, to + strings.TrimPrefix(rest, p), true
		}
		i := strings.LastIndex(p, "/")
		if p == "" {
			break
		}
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
	return og.r, "", true
}

func (t *topoFile) positions(ptrs []string) map[string]schema.Pos {
	out := make(map[string]schema.Pos, len(ptrs))
	for _, p := range ptrs {
		if r, rp, ok := t.resourcePointer(p); ok {
			out[p] = r.Pos(rp)
		}
	}
	return out
}

// pointer rewrites a model pointer as the resource's own.
func (t *topoFile) pointer(ptr string) string {
	if _, rp, ok := t.resourcePointer(ptr); ok {
		return rp
	}
	return ptr
}

// Topology reports whether f holds Topology Operator resources (and
// Secrets) rather than a definitions document.
func (f *File) Topology() bool { return f.topo != nil }

// fromTopology reports whether o was read from a file of resources, whose
// passwords are in Secrets: the operator's only way, so W102 does not
// apply.
func fromTopology(o Object) bool {
	f := o.meta().Origin.File
	return f != nil && f.topo != nil
}

// parseTopology decodes a file of resources; linkTopology builds the
// model from it.
func parseTopology(f *File) (*Document, schema.Diagnostics) {
	s, diags := topology.Decode(f.Name, f.data)
	f.topo = &topoFile{stream: s, objs: map[string]topoOrigin{}, next: map[Kind]int{}}
	f.Format = "yaml"
	return &Document{files: []*File{f}}, diags
}

// linkTopology checks the resources of every file of docs against each
// other (Secrets, names) and adds their objects to each file's document.
func linkTopology(docs []*Document) schema.Diagnostics {
	var streams []*topology.Stream
	for _, d := range docs {
		for _, f := range d.files {
			if f.topo != nil && !f.topo.linked {
				streams = append(streams, f.topo.stream)
			}
		}
	}
	if len(streams) == 0 {
		return nil
	}
	diags := topology.Check(streams...)
	secrets := topology.SecretsOf(streams...)
	users := map[[2]string]string{} // (namespace, metadata.name) → username
	for _, s := range streams {
		for _, r := range s.Resources {
			if u, ok := r.Object.(*topology.User); ok && u.Spec.ImportCredentialsSecret != nil {
				if sec := secrets.Lookup(r, u.Spec.ImportCredentialsSecret.Name); sec != nil {
					users[[2]string{r.Namespace(), r.Name()}], _ = sec.Value("username")
				}
			}
		}
	}
	for _, d := range docs {
		for _, f := range d.files {
			if f.topo == nil || f.topo.linked {
				continue
			}
			f.topo.linked = true
			var ds schema.Diagnostics
			l := &topoLinker{c: &converter{file: f, diags: &ds, doc: d}, f: f, secrets: secrets, users: users}
			for _, r := range f.topo.stream.Resources {
				l.resource(r)
			}
			f.resolve(ds)
			diags = append(diags, ds...)
		}
	}
	return diags
}

type topoLinker struct {
	c       *converter
	f       *File
	secrets topology.Secrets
	users   map[[2]string]string
}

// add hands one object, as a definitions file would hold it, to the
// converter, and records where it came from.
func (l *topoLinker) add(k Kind, r *topology.Resource, m map[string]any, fields map[string]string) {
	t := l.f.topo
	i := t.next[k]
	t.next[k]++
	t.objs["/"+string(k)+"/"+strconv.Itoa(i)] = topoOrigin{r: r, fields: fields}
	l.c.doc.markPresent(k)
	l.c.item(string(k), i, numbers(m))
}

func (l *topoLinker) errorf(r *topology.Resource, ptr string, code schema.Code, format string, args ...any) {
	*l.c.diags = append(*l.c.diags, schema.Diagnostic{File: r.File, Pos: r.Pos(ptr), Pointer: ptr, Severity: schema.Error, Code: code,
		Message: r.String() + ": " + fmt.Sprintf(format, args...)})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// The fields maps of each kind: a model field (its pointer below the
// object) to the resource's pointer.
var (
	vhostFields = map[string]string{"": "/spec", "name": "/spec/name", "tags": "/spec/tags",
		"default_queue_type": "/spec/defaultQueueType", "tracing": "/spec/tracing"}
	vhostLimitFields = map[string]string{"": "/spec/limits", "vhost": "/spec/name", "value/max-connections": "/spec/limits/connections",
		"value/max-queues": "/spec/limits/queues"}
	userFields = map[string]string{"": "/spec", "name": "/spec/importCredentialsSecret", "password": "/spec/importCredentialsSecret",
		"password_hash": "/spec/importCredentialsSecret", "hashing_algorithm": "/spec/importCredentialsSecret",
		"tags": "/spec/tags", "limits": "/spec/limits", "limits/max-connections": "/spec/limits/connections",
		"limits/max-channels": "/spec/limits/channels"}
	permissionFields = map[string]string{"": "/spec", "user": "/spec/user", "vhost": "/spec/vhost",
		"configure": "/spec/permissions/configure", "write": "/spec/permissions/write", "read": "/spec/permissions/read",
		"exchange": "/spec/permissions/exchange"}
	policyFields = map[string]string{"": "/spec", "name": "/spec/name", "vhost": "/spec/vhost", "pattern": "/spec/pattern",
		"apply-to": "/spec/applyTo", "priority": "/spec/priority", "definition": "/spec/definition",
		"value/pattern": "/spec/pattern", "value/apply-to": "/spec/applyTo", "value/priority": "/spec/priority",
		"value/definition": "/spec/definition", "component": "/kind"}
	queueFields = map[string]string{"": "/spec", "name": "/spec/name", "vhost": "/spec/vhost", "durable": "/spec/durable",
		"auto_delete": "/spec/autoDelete", "arguments": "/spec/arguments", "arguments/x-queue-type": "/spec/type",
		"type": "/spec/type"}
	bindingFields = map[string]string{"": "/spec", "vhost": "/spec/vhost", "source": "/spec/source",
		"destination": "/spec/destination", "destination_type": "/spec/destinationType",
		"routing_key": "/spec/routingKey", "arguments": "/spec/arguments"}
	superStreamFields = map[string]string{"": "/spec", "name": "/metadata/name", "vhost": "/spec/vhost",
		"source": "/metadata/name", "destination": "/spec/routingKeys", "routing_key": "/spec/routingKeys"}
)

// paramFields maps a parameter's value keys to a resource's fields.
func paramFields(keys map[string]string, uris ...string) map[string]string {
	out := map[string]string{"": "/spec", "name": "/spec/name", "vhost": "/spec/vhost", "component": "/kind", "value": "/spec"}
	for k, f := range keys {
		out["value/"+k] = "/spec/" + f
	}
	for _, u := range uris {
		out["value/"+u] = "/spec/uriSecret"
	}
	return out
}

var (
	federationPtrs = paramFields(federationFields, "uri")
	shovelPtrs     = paramFields(shovelFields, "src-uri", "dest-uri")
)

func (l *topoLinker) resource(r *topology.Resource) {
	switch o := r.Object.(type) {
	case *topology.Vhost:
		m := map[string]any{"name": o.Spec.Name}
		if o.Spec.Tags != nil {
			m["tags"] = anyList(o.Spec.Tags)
		}
		if o.Spec.DefaultQueueType != "" {
			m["default_queue_type"] = o.Spec.DefaultQueueType
			m["metadata"] = map[string]any{"default_queue_type": o.Spec.DefaultQueueType}
		}
		if o.Spec.Tracing {
			m["tracing"] = true
		}
		l.add(KindVhost, r, m, vhostFields)
		if lim := o.Spec.Limits; lim != nil && (lim.Connections != nil || lim.Queues != nil) {
			v := map[string]any{}
			if lim.Connections != nil {
				v["max-connections"] = int64(*lim.Connections)
			}
			if lim.Queues != nil {
				v["max-queues"] = int64(*lim.Queues)
			}
			l.add(KindParameter, r, map[string]any{"vhost": o.Spec.Name, "component": ComponentVhostLimits, "name": vhostLimitsName, "value": v}, vhostLimitFields)
		}
	case *topology.User:
		l.user(r, o)
	case *topology.Permission:
		user, ok := l.username(r, o.Spec.User, o.Spec.UserReference)
		if !ok {
			return
		}
		l.add(KindPermission, r, map[string]any{"user": user, "vhost": o.Spec.Vhost, "configure": o.Spec.Permissions.Configure,
			"write": o.Spec.Permissions.Write, "read": o.Spec.Permissions.Read}, permissionFields)
	case *topology.TopicPermission:
		user, ok := l.username(r, o.Spec.User, o.Spec.UserReference)
		if !ok {
			return
		}
		l.add(KindTopicPermission, r, map[string]any{"user": user, "vhost": o.Spec.Vhost, "exchange": o.Spec.Permissions.Exchange,
			"write": o.Spec.Permissions.Write, "read": o.Spec.Permissions.Read}, permissionFields)
	case *topology.Policy:
		m := map[string]any{"vhost": or(o.Spec.Vhost, "/"), "name": o.Spec.Name, "pattern": o.Spec.Pattern,
			"apply-to": or(o.Spec.ApplyTo, "all"), "priority": int64(0), "definition": o.Spec.Definition}
		if o.Spec.Priority != nil {
			m["priority"] = *o.Spec.Priority
		}
		l.add(KindPolicy, r, m, policyFields)
	case *topology.OperatorPolicy:
		v := map[string]any{"pattern": o.Spec.Pattern, "apply-to": or(o.Spec.ApplyTo, "queues"), "priority": int64(0), "definition": o.Spec.Definition}
		if o.Spec.Priority != nil {
			v["priority"] = *o.Spec.Priority
		}
		l.add(KindParameter, r, map[string]any{"vhost": or(o.Spec.Vhost, "/"), "component": ComponentOperatorPolicy, "name": o.Spec.Name, "value": v}, policyFields)
	case *topology.Queue:
		durable := o.Spec.Durable == nil || *o.Spec.Durable
		m := map[string]any{"name": o.Spec.Name, "vhost": or(o.Spec.Vhost, "/"), "durable": durable, "auto_delete": o.Spec.AutoDelete}
		args := map[string]any{}
		for k, v := range o.Spec.Arguments {
			args[k] = v
		}
		if o.Spec.Type != "" {
			args["x-queue-type"] = o.Spec.Type // the operator's client sets it over the arguments'
		}
		m["arguments"] = args
		l.add(KindQueue, r, m, queueFields)
	case *topology.Exchange:
		m := map[string]any{"name": o.Spec.Name, "vhost": or(o.Spec.Vhost, "/"), "type": or(o.Spec.Type, "direct"),
			"durable": o.Spec.Durable, "auto_delete": o.Spec.AutoDelete, "internal": false, "arguments": orEmpty(o.Spec.Arguments)}
		l.add(KindExchange, r, m, queueFields)
	case *topology.Binding:
		l.add(KindBinding, r, map[string]any{"vhost": or(o.Spec.Vhost, "/"), "source": o.Spec.Source, "destination": o.Spec.Destination,
			"destination_type": or(o.Spec.DestinationType, "exchange"), "routing_key": o.Spec.RoutingKey,
			"arguments": orEmpty(o.Spec.Arguments)}, bindingFields)
	case *topology.Federation:
		l.federation(r, o)
	case *topology.Shovel:
		l.shovel(r, o)
	case *topology.SchemaReplication:
		l.schemaReplication(r, o)
	case *topology.SuperStream:
		l.superStream(r, o)
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// username is a Permission's user: spec.user, or the username in the
// Secret of the User resource userReference names.
func (l *topoLinker) username(r *topology.Resource, user string, ref *topology.SecretRef) (string, bool) {
	if ref == nil {
		return user, true
	}
	name, ok := l.users[[2]string{r.Namespace(), ref.Name}]
	if !ok {
		l.errorf(r, "/spec/userReference/name", schema.ETopoRule, "userReference names no User %q with an import Secret in the files: its username is not known", ref.Name)
	}
	return name, ok
}

func (l *topoLinker) user(r *topology.Resource, o *topology.User) {
	if o.Spec.ImportCredentialsSecret == nil {
		l.errorf(r, "/spec", schema.ETopoSecret, "a User without importCredentialsSecret gets a random username from the operator: give it a Secret with username and password or passwordHash")
		return
	}
	sec := l.secrets.Lookup(r, o.Spec.ImportCredentialsSecret.Name)
	if sec == nil {
		return // Check reported it
	}
	name, _ := sec.Value("username")
	m := map[string]any{"name": name, "tags": anyList(o.Spec.Tags)}
	if h, ok := sec.Value("passwordHash"); ok {
		m["password_hash"] = h
		if h != "" {
			m["hashing_algorithm"] = HashSHA512
		}
	} else if pw, ok := sec.Value("password"); ok {
		m["password"] = pw
	}
	if lim := o.Spec.Limits; lim != nil {
		v := map[string]any{}
		if lim.Connections != nil {
			v["max-connections"] = int64(*lim.Connections)
		}
		if lim.Channels != nil {
			v["max-channels"] = int64(*lim.Channels)
		}
		m["limits"] = v
	}
	l.add(KindUser, r, m, userFields)
}

// uriList is a Secret's comma-separated URIs as a parameter holds them:
// one URI as a string, several as a list.
func uriList(s string) any {
	parts := strings.Split(s, ",")
	if len(parts) == 1 {
		return s
	}
	return anyList(parts)
}

func (l *topoLinker) federation(r *topology.Resource, o *topology.Federation) {
	sec := l.secrets.Lookup(r, o.Spec.URISecret.Name)
	if sec == nil {
		return
	}
	uri, _ := sec.Value("uri")
	v := specValue(&o.Spec, federationFields)
	v["uri"] = uriList(uri)
	for k, def := range alwaysSent {
		if _, ok := v[k]; !ok {
			v[k] = def
		}
	}
	l.add(KindParameter, r, map[string]any{"vhost": or(o.Spec.Vhost, "/"), "component": ComponentFederationUpstream, "name": o.Spec.Name, "value": v}, federationPtrs)
}

func (l *topoLinker) shovel(r *topology.Resource, o *topology.Shovel) {
	sec := l.secrets.Lookup(r, o.Spec.URISecret.Name)
	if sec == nil {
		return
	}
	src, _ := sec.Value("srcUri")
	dest, _ := sec.Value("destUri")
	v := specValue(&o.Spec, shovelFields)
	for _, k := range []string{"delete-after", "src-delete-after"} {
		if s, ok := v[k].(string); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				v[k] = n // the operator sends a decimal string as a number
			}
		}
	}
	v["src-uri"], v["dest-uri"] = uriList(src), uriList(dest)
	l.add(KindParameter, r, map[string]any{"vhost": or(o.Spec.Vhost, "/"), "component": ComponentShovel, "name": o.Spec.Name, "value": v}, shovelPtrs)
}

// specValue reads the fields of a spec that keys map to, leaving out the
// zero values the operator does not send.
func specValue(spec any, keys map[string]string) map[string]any {
	m := map[string]any{}
	for k, f := range keys {
		v, ok := specField(spec, f)
		if ok && !isZero(v) {
			m[k] = v
		}
	}
	return m
}

func (l *topoLinker) schemaReplication(r *topology.Resource, o *topology.SchemaReplication) {
	if o.Spec.UpstreamSecret == nil {
		l.errorf(r, "/spec/secretBackend", schema.ETopoSecret, "credentials in Vault cannot be read by warren: give upstreamSecret")
		return
	}
	sec := l.secrets.Lookup(r, o.Spec.UpstreamSecret.Name)
	if sec == nil {
		return
	}
	user, _ := sec.Value("username")
	pw, _ := sec.Value("password")
	eps := o.Spec.Endpoints
	if eps == "" {
		eps, _ = sec.Value("endpoints")
	}
	v := map[string]any{"username": user, "password": pw, "endpoints": anyList(strings.Split(eps, ","))}
	l.add(KindGlobalParameter, r, map[string]any{"name": "schema_definition_sync_upstream", "value": v},
		map[string]string{"": "/spec", "value/endpoints": "/spec/endpoints", "value": "/spec/upstreamSecret"})
}

func (l *topoLinker) superStream(r *topology.Resource, o *topology.SuperStream) {
	name, vhost := r.Name(), or(o.Spec.Vhost, "/")
	parts := int64(3)
	if o.Spec.Partitions != nil {
		parts = *o.Spec.Partitions
	}
	keys := o.Spec.RoutingKeys
	if keys == nil {
		for i := range parts {
			keys = append(keys, strconv.FormatInt(i, 10))
		}
	}
	l.add(KindExchange, r, map[string]any{"name": name, "vhost": vhost, "type": "direct", "durable": true, "auto_delete": false,
		"internal": false, "arguments": map[string]any{}}, superStreamFields)
	for i, k := range keys {
		l.add(KindQueue, r, map[string]any{"name": name + "-" + k, "vhost": vhost, "durable": true, "auto_delete": false,
			"arguments": map[string]any{"x-queue-type": "stream"}}, superStreamFields)
		l.add(KindBinding, r, map[string]any{"vhost": vhost, "source": name, "destination": name + "-" + k, "destination_type": "queue",
			"routing_key": k, "arguments": map[string]any{"x-stream-partition-order": int64(i)}}, superStreamFields)
	}
}

// numbers turns the numbers YAML decoding gives (int, int64, float64) into
// json.Number, as the definitions decoder gives them.
func numbers(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = number(x)
	}
	return out
}

func number(v any) any {
	switch x := v.(type) {
	case int:
		return json.Number(strconv.Itoa(x))
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10))
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case uint64:
		return json.Number(strconv.FormatUint(x, 10))
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return x
		}
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case map[string]any:
		return numbers(x)
	case []any:
		out := slices.Clone(x)
		for i := range out {
			out[i] = number(out[i])
		}
		return out
	}
	return v
}

// specField is the value of the field of a spec struct whose YAML name is
// f: a string, int64, bool or map.
func specField(spec any, f string) (any, bool) {
	v := reflect.ValueOf(spec).Elem()
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if name != f {
			continue
		}
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.String:
			return fv.String(), true
		case reflect.Int, reflect.Int32, reflect.Int64:
			return fv.Int(), true
		case reflect.Bool:
			return fv.Bool(), true
		case reflect.Map:
			if fv.IsNil() {
				return "", true // zero: left out
			}
			return fv.Interface(), true
		}
	}
	return nil, false
}
