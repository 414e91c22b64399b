package definitions

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/warren-tool/warren/definitions/topology"
	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

// TopologyOptions tune Topology.
type TopologyOptions struct {
	// Cluster is the RabbitmqCluster every resource's
	// rabbitmqClusterReference names.
	Cluster string
	// Namespace is every resource's metadata.namespace; "" leaves it out
	// (kubectl's current namespace).
	Namespace string
	// Secrets asks for the Secrets' values: passwords, hashes and URIs.
	// Without it TopologyOutput.Secrets is nil and nothing is resolved.
	Secrets bool
	// Resolve finds a password's or URI's value ({env}, {file}); nil means
	// ResolveSecret.
	Resolve func(*Secret) (string, error)
}

// TopologyOutput is what Topology writes.
type TopologyOutput struct {
	// Resources is a multi-document YAML stream: one resource per object.
	Resources []byte
	// Secrets holds the Secrets the resources reference (passwords,
	// hashes, URIs with credentials), when asked for; write it 0600.
	Secrets []byte
	// Count is how many resources there are, by kind.
	Count map[string]int
}

// Topology converts d to Messaging Topology Operator resources, one per
// object, each with a metadata.name made by topology.Name from its
// identity (stable from one export to the next). What the operator
// cannot express is reported as W180 at the object, and left out or
// written without it as the message says; nothing is dropped without a
// word. Credentials go only into Secrets, which resources reference by
// name.
func Topology(d *Document, opts TopologyOptions) (*TopologyOutput, schema.Diagnostics) {
	if opts.Resolve == nil {
		opts.Resolve = ResolveSecret
	}
	t := &topoWriter{doc: d, opts: opts, names: map[string]map[string]bool{}, count: map[string]int{}}
	n := Normalize(d)
	n.Sort()
	t.write(n)
	out := &TopologyOutput{Resources: topology.Encode(t.resources...), Count: t.count}
	if opts.Secrets && len(t.secrets) > 0 {
		out.Secrets = topology.Encode(t.secrets...)
	}
	d.Resolve(t.diags)
	t.diags.Sort()
	return out, t.diags
}

type topoWriter struct {
	doc       *Document
	opts      TopologyOptions
	resources []any
	secrets   []any
	names     map[string]map[string]bool // kind → metadata.names taken
	count     map[string]int
	diags     schema.Diagnostics
}

func (t *topoWriter) warn(o Object, field, format string, args ...any) {
	loc := Location(o)
	if loc.Pointer != "" && field != "" {
		loc.Pointer += "/" + field
	}
	t.diags = append(t.diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: schema.Warning, Code: schema.WTopoNotExpressed,
		Message: o.Addr() + ": " + fmt.Sprintf(format, args...)})
}

func (t *topoWriter) fail(o Object, field string, code schema.Code, format string, args ...any) {
	loc := Location(o)
	if loc.Pointer != "" && field != "" {
		loc.Pointer += "/" + field
	}
	t.diags = append(t.diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: schema.Error, Code: code,
		Message: o.Addr() + ": " + fmt.Sprintf(format, args...)})
}

// name gives the object of a kind a metadata.name no other of the kind
// has: topology.Name of its identity, or for the rare clash (a name made
// with a hash that another object's readable name equals) the name with
// a counter.
func (t *topoWriter) name(kind, name string) string {
	taken := t.names[kind]
	if taken == nil {
		taken = map[string]bool{}
		t.names[kind] = taken
	}
	out := name
	for i := 2; taken[out]; i++ {
		out = fmt.Sprintf("%s-%d", name, i)
	}
	taken[out] = true
	return out
}

func (t *topoWriter) meta(kind, name string) topology.ObjectMeta {
	return topology.ObjectMeta{Name: t.name(kind, name), Namespace: t.opts.Namespace}
}

// vhost is the vhost an object's resource names: its own, or for an
// object without one (a per-vhost export's, a binding written without
// vhost) "/", the operator's default, with a warning.
func (t *topoWriter) vhost(o Object, v string) string {
	if v == "" {
		t.warn(o, "", "it names no vhost, and the resource goes to vhost \"/\" (the operator's default); check that this is where it belongs")
		return "/"
	}
	return v
}

func (t *topoWriter) ref() topology.ClusterReference {
	return topology.ClusterReference{Name: t.opts.Cluster}
}

func (t *topoWriter) add(kind string, r any) {
	t.resources = append(t.resources, r)
	t.count[kind]++
}

func (t *topoWriter) secret(name string, data map[string]string) {
	t.secrets = append(t.secrets, &topology.Secret{
		TypeMeta:   topology.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		Metadata:   topology.ObjectMeta{Name: name, Namespace: t.opts.Namespace, Labels: map[string]string{topology.SecretLabel: "true"}},
		Type:       "Opaque",
		StringData: data,
	})
	t.count["Secret"]++
}

func tm(kind string) topology.TypeMeta {
	v := topology.V1beta1
	if kind == "SuperStream" {
		v = topology.V1alpha1
	}
	return topology.TypeMeta{APIVersion: v, Kind: kind}
}

func (t *topoWriter) write(d *Document) {
	limits := map[string]map[string]any{}
	for _, p := range append(slices.Clone(d.Parameters), VhostLimitParameters(d)...) {
		if p.Component == ComponentVhostLimits && p.Name == vhostLimitsName {
			if m, ok := p.Value.(map[string]any); ok {
				limits[p.Vhost] = m
			}
		}
	}
	vhosts := map[string]bool{}
	for _, v := range d.Vhosts {
		vhosts[v.Name] = true
		t.vhostResource(v, limits[v.Name])
	}
	for _, u := range d.Users {
		t.user(u)
	}
	for _, p := range d.Permissions {
		t.add("Permission", &topology.Permission{TypeMeta: tm("Permission"), Metadata: t.meta("Permission", topology.Name(p.User, p.Vhost)),
			Spec: topology.PermissionSpec{User: p.User, Vhost: t.vhost(p, p.Vhost), RabbitmqClusterReference: t.ref(),
				Permissions: topology.VhostPermissions{Configure: p.Configure, Write: p.Write, Read: p.Read}}})
	}
	for _, p := range d.TopicPermissions {
		t.add("TopicPermission", &topology.TopicPermission{TypeMeta: tm("TopicPermission"), Metadata: t.meta("TopicPermission", topology.Name(p.User, p.Vhost, p.Exchange)),
			Spec: topology.TopicPermissionSpec{User: p.User, Vhost: t.vhost(p, p.Vhost), RabbitmqClusterReference: t.ref(),
				Permissions: topology.TopicPermissionConfig{Exchange: p.Exchange, Write: p.Write, Read: p.Read}}})
	}
	for _, p := range d.Policies {
		t.policy(p)
	}
	for _, e := range d.Exchanges {
		t.exchange(e)
	}
	for _, q := range d.Queues {
		t.queue(q)
	}
	for _, b := range d.Bindings {
		t.binding(b)
	}
	for _, p := range d.Parameters {
		switch p.Component {
		case ComponentVhostLimits:
			if p.Name != vhostLimitsName {
				t.warn(p, "", "a vhost-limits parameter not named limits has no resource; left out")
			} else if !vhosts[p.Vhost] {
				t.warn(p, "", "vhost limits are a field of the Vhost resource, and the files define no vhost %q; left out", p.Vhost)
			}
		case ComponentOperatorPolicy:
			t.operatorPolicy(p)
		case ComponentFederationUpstream:
			t.federation(p)
		case ComponentShovel:
			t.shovel(p)
		default:
			t.warn(p, "", "the Topology Operator has no kind for parameters of component %s; left out", p.Component)
		}
	}
	for _, g := range d.GlobalParameters {
		if g.Name == "schema_definition_sync_upstream" {
			t.schemaReplication(g)
			continue
		}
		t.warn(g, "", "the Topology Operator has no kind for global parameters other than schema_definition_sync_upstream; left out")
	}
}

// int32Of reads a limit's value.
func int32Of(v any) (int32, bool) {
	n, ok := intOf(v)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, false
	}
	return int32(n), true
}

func intOf(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	}
	return 0, false
}

func (t *topoWriter) vhostResource(v *Vhost, limits map[string]any) {
	spec := topology.VhostSpec{Name: v.Name, Tags: v.Tags, RabbitmqClusterReference: t.ref()}
	if len(spec.Tags) == 0 {
		spec.Tags = nil
	}
	if v.DefaultQueueType != "" {
		if slices.Contains([]string{"quorum", "classic", "stream"}, v.DefaultQueueType) {
			spec.DefaultQueueType = v.DefaultQueueType
		} else {
			t.warn(v, "default_queue_type", "default queue type %q is not one the Vhost resource takes; left out", v.DefaultQueueType)
		}
	}
	if v.Tracing != nil {
		spec.Tracing = *v.Tracing
	}
	if v.Description != nil && *v.Description != "" {
		t.warn(v, "description", "the Vhost resource has no description (the operator resets it to \"\"); left out")
	}
	if v.Protected != nil && *v.Protected {
		t.warn(v, "metadata", "the Vhost resource has no deletion protection; left out")
	}
	for k := range v.Extra {
		t.warn(v, schema.EscapePointerToken(k), "the Vhost resource has no field for %s; left out", k)
	}
	if len(limits) > 0 {
		spec.Limits = &topology.VhostLimits{}
		for _, k := range slices.Sorted(maps.Keys(limits)) {
			n, ok := int32Of(limits[k])
			switch {
			case ok && k == "max-connections":
				spec.Limits.Connections = &n
			case ok && k == "max-queues":
				spec.Limits.Queues = &n
			default:
				t.warn(v, "", "vhost limit %s is not one the Vhost resource takes (connections, queues as 32-bit integers); left out", k)
			}
		}
	}
	t.add("Vhost", &topology.Vhost{TypeMeta: tm("Vhost"), Metadata: t.meta("Vhost", topology.Name(v.Name)), Spec: spec})
}

func (t *topoWriter) user(u *User) {
	meta := t.meta("User", topology.Name(u.Name))
	secretName := meta.Name + "-credentials"
	spec := topology.UserSpec{ImportCredentialsSecret: &topology.SecretRef{Name: secretName}, RabbitmqClusterReference: t.ref()}
	for _, tag := range u.Tags {
		if slices.Contains(topology.UserTags, tag) {
			spec.Tags = append(spec.Tags, tag)
		} else {
			t.warn(u, "tags", "the User resource takes only the tags %s; tag %q left out", strings.Join(topology.UserTags, ", "), tag)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(u.Limits)) {
		n, ok := int32Of(u.Limits[k])
		if spec.Limits == nil {
			spec.Limits = &topology.UserLimits{}
		}
		switch {
		case ok && k == "max-connections":
			spec.Limits.Connections = &n
		case ok && k == "max-channels":
			spec.Limits.Channels = &n
		default:
			t.warn(u, "limits", "user limit %s is not one the User resource takes; left out", k)
		}
	}
	if u.ActiveMQ != nil {
		t.warn(u, "activemq", "ActiveMQ settings have no field in the User resource; left out")
	}
	data := map[string]string{"username": u.Name}
	switch {
	case !t.opts.Secrets:
		// The Secret is the user's to write: nothing to read or warn about.
	case u.Password != nil:
		pw, err := t.opts.Resolve(u.Password)
		if err != nil {
			t.fail(u, "password", schema.ESecretSource, "cannot read the password for the Secret: %v", err)
		}
		data["password"] = pw
	case u.PasswordHash != nil && (*u.PasswordHash == "" || u.HashingAlgorithm == HashSHA512):
		data["passwordHash"] = *u.PasswordHash
	case u.PasswordHash != nil:
		t.warn(u, "password_hash", "the operator declares every password hash as SHA-512, and this one is %s: the Secret %s gets an empty passwordHash (the user cannot log in with a password) until you give it password", strings.TrimPrefix(u.HashingAlgorithm, "rabbit_password_hashing_"), secretName)
		data["passwordHash"] = ""
	default:
		t.warn(u, "", "the user has no password or hash here: the Secret %s gets an empty passwordHash (the user cannot log in with a password) until you give it password", secretName)
		data["passwordHash"] = ""
	}
	t.add("User", &topology.User{TypeMeta: tm("User"), Metadata: meta, Spec: spec})
	if t.opts.Secrets {
		t.secret(secretName, data)
	}
}

func (t *topoWriter) policy(p *Policy) {
	spec := topology.PolicySpec{Name: p.Name, Vhost: t.vhost(p, p.Vhost), Pattern: p.Pattern, Priority: p.Priority,
		Definition: plainMap(p.Definition), RabbitmqClusterReference: t.ref()}
	if p.ApplyTo != "all" {
		spec.ApplyTo = p.ApplyTo
	}
	if spec.Definition == nil {
		spec.Definition = map[string]any{}
	}
	for k := range p.Extra {
		t.warn(p, schema.EscapePointerToken(k), "the Policy resource has no field for %s; left out", k)
	}
	t.add("Policy", &topology.Policy{TypeMeta: tm("Policy"), Metadata: t.meta("Policy", topology.Name(p.Vhost, p.Name)), Spec: spec})
}

func (t *topoWriter) operatorPolicy(p *Parameter) {
	m, ok := p.Value.(map[string]any)
	if !ok {
		t.warn(p, "value", "an operator policy's value must be an object; left out")
		return
	}
	spec := topology.OperatorPolicySpec{Name: p.Name, Vhost: t.vhost(p, p.Vhost), RabbitmqClusterReference: t.ref()}
	for k, v := range m {
		switch k {
		case "pattern":
			spec.Pattern, _ = v.(string)
		case "apply-to":
			s, _ := v.(string)
			if s != "queues" {
				spec.ApplyTo = s
			}
		case "priority":
			if n, ok := intOf(v); ok {
				spec.Priority = &n
			}
		case "definition":
			d, _ := v.(map[string]any)
			spec.Definition = plainMap(d)
		default:
			t.warn(p, "value/"+schema.EscapePointerToken(k), "the OperatorPolicy resource has no field for %s; left out", k)
		}
	}
	if spec.Definition == nil {
		spec.Definition = map[string]any{}
	}
	t.add("OperatorPolicy", &topology.OperatorPolicy{TypeMeta: tm("OperatorPolicy"), Metadata: t.meta("OperatorPolicy", topology.Name(p.Vhost, p.Name)), Spec: spec})
}

func (t *topoWriter) queue(q *Queue) {
	durable := q.Durable == nil || *q.Durable
	spec := topology.QueueSpec{Name: q.Name, Vhost: t.vhost(q, q.Vhost), Durable: &durable, RabbitmqClusterReference: t.ref()}
	if q.AutoDelete != nil {
		spec.AutoDelete = *q.AutoDelete
	}
	args := q.Arguments
	qt := q.Type
	if s, ok := args.Get("x-queue-type").(string); ok {
		qt = s
	}
	args = args.Without("x-queue-type")
	if qt != "" {
		spec.Type = qt
	}
	if len(args) > 0 {
		spec.Arguments = plainMap(args.Map())
	}
	for k := range q.Extra {
		t.warn(q, schema.EscapePointerToken(k), "the Queue resource has no field for %s; left out", k)
	}
	t.add("Queue", &topology.Queue{TypeMeta: tm("Queue"), Metadata: t.meta("Queue", topology.Name(q.Vhost, q.Name)), Spec: spec})
}

func (t *topoWriter) exchange(e *Exchange) {
	spec := topology.ExchangeSpec{Name: e.Name, Vhost: t.vhost(e, e.Vhost), Type: e.Type, RabbitmqClusterReference: t.ref()}
	if e.Durable != nil {
		spec.Durable = *e.Durable
	}
	if e.AutoDelete != nil {
		spec.AutoDelete = *e.AutoDelete
	}
	if len(e.Arguments) > 0 {
		spec.Arguments = plainMap(e.Arguments.Map())
	}
	if e.Internal != nil && *e.Internal {
		t.warn(e, "internal", "the Exchange resource has no internal field: the exchange is written, and the operator would declare it not internal")
	}
	for k := range e.Extra {
		t.warn(e, schema.EscapePointerToken(k), "the Exchange resource has no field for %s; left out", k)
	}
	t.add("Exchange", &topology.Exchange{TypeMeta: tm("Exchange"), Metadata: t.meta("Exchange", topology.Name(e.Vhost, e.Name)), Spec: spec})
}

func (t *topoWriter) binding(b *Binding) {
	spec := topology.BindingSpec{Vhost: t.vhost(b, b.Vhost), Source: b.Source, Destination: b.Destination, DestinationType: b.DestinationType,
		RoutingKey: b.RoutingKey, RabbitmqClusterReference: t.ref()}
	if len(b.Arguments) > 0 {
		spec.Arguments = plainMap(b.Arguments.Map())
	}
	name := topology.HashName([]string{b.Vhost, b.Source, b.Destination}, b.Vhost, b.Source, b.DestinationType, b.Destination, b.RoutingKey, CanonicalJSON(b.Arguments.Map()))
	t.add("Binding", &topology.Binding{TypeMeta: tm("Binding"), Metadata: t.meta("Binding", name), Spec: spec})
}

// federationFields maps a federation-upstream value's keys to the
// Federation resource's fields.
var federationFields = map[string]string{
	"prefetch-count": "prefetch-count", "expires": "expires", "message-ttl": "messageTTL", "max-hops": "maxHops",
	"reconnect-delay": "reconnectDelay", "ack-mode": "ackMode", "trust-user-id": "trustUserId", "exchange": "exchange",
	"queue": "queue", "queue-type": "queueType", "resource-cleanup-mode": "resourceCleanupMode",
}

// shovelFields maps a shovel value's keys to the Shovel resource's
// fields.
var shovelFields = map[string]string{
	"ack-mode": "ackMode", "add-forward-headers": "addForwardHeaders", "delete-after": "deleteAfter",
	"src-delete-after": "srcDeleteAfter", "prefetch-count": "prefetchCount", "src-prefetch-count": "srcPrefetchCount",
	"reconnect-delay": "reconnectDelay", "src-protocol": "srcProtocol", "dest-protocol": "destProtocol",
	"src-queue": "srcQueue", "src-exchange": "srcExchange", "src-exchange-key": "srcExchangeKey", "src-address": "srcAddress",
	"dest-queue": "destQueue", "dest-exchange": "destExchange", "dest-exchange-key": "destExchangeKey", "dest-address": "destAddress",
	"dest-add-forward-headers": "destAddForwardHeaders", "dest-add-timestamp-header": "destAddTimestampHeader",
	"src-queue-args": "srcQueueArgs", "src-consumer-args": "srcConsumerArgs", "dest-queue-args": "destQueueArgs",
	"dest-publish-properties": "destPublishProperties", "dest-application-properties": "destApplicationProperties",
	"dest-properties": "destProperties", "dest-message-annotations": "destMessageAnnotations",
}

// alwaysSent are the federation keys the operator sends even when the
// resource leaves them out (as 0 and false).
var alwaysSent = map[string]any{"reconnect-delay": int64(0), "trust-user-id": false}

// paramSpec fills a resource's spec (as a map, decoded into its type by
// the caller) from a parameter value's keys, by fields; uri keys are left
// to the caller. What does not fit is reported.
func (t *topoWriter) paramSpec(p *Parameter, value map[string]any, fields map[string]string, uriKeys []string, kind string, spec any) bool {
	m := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(value)) {
		v := value[k]
		f, ok := fields[k]
		if slices.Contains(uriKeys, k) {
			continue
		}
		if !ok {
			t.warn(p, "value/"+schema.EscapePointerToken(k), "the %s resource has no field for %s; left out", kind, k)
			continue
		}
		if err := setField(m, f, v, spec); err != "" {
			t.warn(p, "value/"+schema.EscapePointerToken(k), "%s cannot hold %s: %s; left out", kind, k, err)
			continue
		}
		if isZero(m[f]) && kind == "Federation" && alwaysSent[k] == nil || isZero(m[f]) && kind == "Shovel" {
			t.warn(p, "value/"+schema.EscapePointerToken(k), "the operator leaves %s out when it is %v (the resource cannot say it); left out", k, m[f])
			delete(m, f)
		}
	}
	if kind == "Federation" {
		if _, ok := value["reconnect-delay"]; !ok {
			t.warn(p, "value", "the operator sends reconnect-delay 0 when the resource does not give it, not the plugin's default; the upstream's reconnect-delay becomes 0")
		}
	}
	return decodeInto(m, spec)
}

// setField puts v, converted to what the field of spec named f takes, in m.
func setField(m map[string]any, f string, v any, spec any) string {
	typ := fieldKind(spec, f)
	switch typ {
	case "string":
		switch s := v.(type) {
		case string:
			m[f] = s
		case json.Number:
			if f == "deleteAfter" || f == "srcDeleteAfter" {
				m[f] = string(s) // the operator sends a decimal string as a number
				return ""
			}
			return "not a string"
		default:
			return "not a string"
		}
	case "int":
		n, ok := intOf(v)
		if !ok {
			return "not an integer"
		}
		m[f] = n
	case "bool":
		b, ok := v.(bool)
		if !ok {
			return "not true or false"
		}
		m[f] = b
	case "map":
		mv, ok := v.(map[string]any)
		if !ok {
			return "not an object"
		}
		m[f] = plainMap(mv)
	default:
		return "unknown field"
	}
	return ""
}

func isZero(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case int64:
		return x == 0
	case bool:
		return !x
	}
	return false
}

func (t *topoWriter) uris(p *Parameter, key string, v any) (string, bool) {
	if !t.opts.Secrets {
		return "", true
	}
	resolved, err := ResolveValue(v, t.opts.Resolve)
	if err != nil {
		t.fail(p, "value/"+key, schema.EParamSecret, "cannot read %s for the Secret: %v", key, err)
		return "", false
	}
	switch u := resolved.(type) {
	case string:
		return u, true
	case []any:
		var parts []string
		for _, x := range u {
			s, ok := x.(string)
			if !ok || strings.Contains(s, ",") {
				t.warn(p, "value/"+key, "the operator splits the Secret's %s on commas: a URI with a comma cannot be written; left out", key)
				return "", false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), true
	}
	t.warn(p, "value/"+key, "%s is neither a URI nor a list of URIs; left out", key)
	return "", false
}

func (t *topoWriter) federation(p *Parameter) {
	value, ok := p.Value.(map[string]any)
	if !ok {
		t.warn(p, "value", "a federation upstream's value must be an object; left out")
		return
	}
	meta := t.meta("Federation", topology.Name(p.Vhost, p.Name))
	spec := topology.FederationSpec{}
	if !t.paramSpec(p, value, federationFields, []string{"uri"}, "Federation", &spec) {
		return
	}
	spec.Name, spec.Vhost, spec.RabbitmqClusterReference = p.Name, t.vhost(p, p.Vhost), t.ref()
	secretName := meta.Name + "-uri"
	spec.URISecret = &topology.SecretRef{Name: secretName}
	t.add("Federation", &topology.Federation{TypeMeta: tm("Federation"), Metadata: meta, Spec: spec})
	if uri, ok := t.uris(p, "uri", value["uri"]); ok && t.opts.Secrets {
		t.secret(secretName, map[string]string{"uri": uri})
	}
}

func (t *topoWriter) shovel(p *Parameter) {
	value, ok := p.Value.(map[string]any)
	if !ok {
		t.warn(p, "value", "a shovel's value must be an object; left out")
		return
	}
	meta := t.meta("Shovel", topology.Name(p.Vhost, p.Name))
	spec := topology.ShovelSpec{}
	if !t.paramSpec(p, value, shovelFields, []string{"src-uri", "dest-uri"}, "Shovel", &spec) {
		return
	}
	spec.Name, spec.Vhost, spec.RabbitmqClusterReference = p.Name, t.vhost(p, p.Vhost), t.ref()
	if spec.SrcProtocol == "amqp10" && spec.SrcAddress == "" || spec.DestProtocol == "amqp10" && spec.DestAddress == "" {
		t.warn(p, "value", "the operator refuses a Shovel with protocol amqp10 and no src-address or dest-address (this one names queues); left out")
		return
	}
	secretName := meta.Name + "-uris"
	spec.URISecret = &topology.SecretRef{Name: secretName}
	t.add("Shovel", &topology.Shovel{TypeMeta: tm("Shovel"), Metadata: meta, Spec: spec})
	src, ok1 := t.uris(p, "src-uri", value["src-uri"])
	dest, ok2 := t.uris(p, "dest-uri", value["dest-uri"])
	if ok1 && ok2 && t.opts.Secrets {
		t.secret(secretName, map[string]string{"srcUri": src, "destUri": dest})
	}
}

func (t *topoWriter) schemaReplication(g *GlobalParameter) {
	value, _ := g.Value.(map[string]any)
	meta := t.meta("SchemaReplication", "schema-replication")
	secretName := meta.Name + "-upstream"
	spec := topology.SchemaReplicationSpec{UpstreamSecret: &topology.SecretRef{Name: secretName}, RabbitmqClusterReference: t.ref()}
	data := map[string]string{}
	for k, v := range value {
		switch k {
		case "username", "password":
			s, _ := v.(string)
			data[k] = s
		case "endpoints":
			var eps []string
			list, _ := v.([]any)
			for _, e := range list {
				if s, ok := e.(string); ok {
					eps = append(eps, s)
				}
			}
			spec.Endpoints = strings.Join(eps, ",")
		default:
			t.warn(g, "value/"+schema.EscapePointerToken(k), "the SchemaReplication resource has no field for %s; left out", k)
		}
	}
	t.add("SchemaReplication", &topology.SchemaReplication{TypeMeta: tm("SchemaReplication"), Metadata: meta, Spec: spec})
	if t.opts.Secrets {
		t.secret(secretName, data)
	}
}

// plainMap turns the model's numbers (json.Number) into int64 or float64,
// which YAML writes as numbers.
func plainMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		return plainMap(x)
	case Table:
		return plainMap(x.Map())
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	}
	return v
}

// fieldKind is the kind of value (string, int, bool, map) the field of a
// spec struct with YAML name f takes, "" when it has none.
func fieldKind(spec any, f string) string {
	t := reflect.TypeOf(spec).Elem()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != f {
			continue
		}
		switch t.Field(i).Type.Kind() {
		case reflect.String:
			return "string"
		case reflect.Int, reflect.Int32, reflect.Int64:
			return "int"
		case reflect.Bool:
			return "bool"
		case reflect.Map:
			return "map"
		}
	}
	return ""
}

// decodeInto fills spec from m, keyed by spec's YAML names.
func decodeInto(m map[string]any, spec any) bool {
	data, err := yaml.Marshal(m)
	if err != nil {
		return false
	}
	return yaml.Unmarshal(data, spec) == nil
}
