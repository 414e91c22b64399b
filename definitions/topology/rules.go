package topology

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/warren-tool/warren/schema"
	"gopkg.in/yaml.v3"
)

var (
	dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

var labelValue = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)

// IsLabelValue reports whether s is a valid Kubernetes label value.
func IsLabelValue(s string) bool { return len(s) <= 63 && labelValue.MatchString(s) }

// IsDNS1123Subdomain reports whether s is a valid metadata.name.
func IsDNS1123Subdomain(s string) bool { return len(s) <= 253 && dns1123Subdomain.MatchString(s) }

// IsDNS1123Label reports whether s is a valid namespace.
func IsDNS1123Label(s string) bool { return len(s) <= 63 && dns1123Label.MatchString(s) }

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// Value returns the value of a key of the Secret: stringData's, else
// data's decoded.
func (s *Secret) Value(key string) (string, bool) {
	if v, ok := s.StringData[key]; ok {
		return v, true
	}
	if v, ok := s.Data[key]; ok {
		b, err := decodeBase64(v)
		return string(b), err == nil
	}
	return "", false
}

// rules checks what the operator's webhooks and controllers require beyond
// the CRD's schema.
func (v *validator) rules(obj any) {
	n := v.r.node
	at := func(ptr string) (*nodeAt, string) { return &nodeAt{v.r, ptr}, ptr }
	cluster := func(ref ClusterReference) {
		if (ref.Name == "") == (ref.ConnectionSecret == nil) {
			na, p := at("/spec/rabbitmqClusterReference")
			v.addAt(na, p, schema.ETopoCluster, "rabbitmqClusterReference needs exactly one of name and connectionSecret")
		}
	}
	oneUser := func(user string, ref *SecretRef) {
		if (user == "") == (ref == nil) {
			na, p := at("/spec")
			v.addAt(na, p, schema.ETopoRule, "give exactly one of user and userReference")
		}
	}
	if labels := lookup(n, "metadata", "labels"); labels != nil && labels.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(labels.Content); i += 2 {
			if val := labels.Content[i+1]; !IsLabelValue(val.Value) {
				v.add(val, "/metadata/labels/"+schema.EscapePointerToken(labels.Content[i].Value), schema.ETopoName,
					fmt.Sprintf("label value %q is not valid: at most 63 of A-Z, a-z, 0-9, -, _ and ., starting and ending with a letter or digit", val.Value))
			}
		}
	}
	switch o := obj.(type) {
	case *Vhost:
		cluster(o.Spec.RabbitmqClusterReference)
	case *User:
		cluster(o.Spec.RabbitmqClusterReference)
	case *Permission:
		cluster(o.Spec.RabbitmqClusterReference)
		oneUser(o.Spec.User, o.Spec.UserReference)
	case *TopicPermission:
		cluster(o.Spec.RabbitmqClusterReference)
		oneUser(o.Spec.User, o.Spec.UserReference)
	case *Policy:
		cluster(o.Spec.RabbitmqClusterReference)
	case *OperatorPolicy:
		cluster(o.Spec.RabbitmqClusterReference)
	case *Queue:
		cluster(o.Spec.RabbitmqClusterReference)
		// The mutating webhook sets durable true when it is absent.
		if o.Spec.Type == "quorum" && o.Spec.Durable != nil && !*o.Spec.Durable {
			na, p := at("/spec/durable")
			v.addAt(na, p, schema.ETopoRule, "a quorum queue must be durable")
		}
	case *Exchange:
		cluster(o.Spec.RabbitmqClusterReference)
	case *Binding:
		cluster(o.Spec.RabbitmqClusterReference)
	case *Federation:
		cluster(o.Spec.RabbitmqClusterReference)
	case *Shovel:
		cluster(o.Spec.RabbitmqClusterReference)
		if o.Spec.SrcProtocol == "amqp10" && o.Spec.SrcAddress == "" {
			na, p := at("/spec/srcProtocol")
			v.addAt(na, p, schema.ETopoRule, "srcProtocol amqp10 needs srcAddress")
		}
		if o.Spec.DestProtocol == "amqp10" && o.Spec.DestAddress == "" {
			na, p := at("/spec/destProtocol")
			v.addAt(na, p, schema.ETopoRule, "destProtocol amqp10 needs destAddress")
		}
	case *SchemaReplication:
		cluster(o.Spec.RabbitmqClusterReference)
		vault := o.Spec.SecretBackend != nil && o.Spec.SecretBackend.Vault != nil
		switch {
		case vault && (o.Spec.SecretBackend.Vault.SecretPath == "" || o.Spec.Endpoints == ""):
			na, p := at("/spec/secretBackend/vault")
			v.addAt(na, p, schema.ETopoRule, "secretBackend.vault needs secretPath and spec.endpoints")
		case !vault && o.Spec.UpstreamSecret == nil:
			na, p := at("/spec")
			v.addAt(na, p, schema.ETopoRule, "give upstreamSecret or secretBackend.vault")
		}
	case *SuperStream:
		if o.Spec.RabbitmqClusterReference.Name == "" {
			na, p := at("/spec/rabbitmqClusterReference")
			v.addAt(na, p, schema.ETopoCluster, "a SuperStream's rabbitmqClusterReference must name the RabbitmqCluster (its controller does not read connectionSecret)")
		} else {
			cluster(o.Spec.RabbitmqClusterReference)
		}
		parts := int64(3)
		if o.Spec.Partitions != nil {
			parts = *o.Spec.Partitions
		}
		if parts < 1 {
			na, p := at("/spec/partitions")
			v.addAt(na, p, schema.EValue, "partitions must be at least 1")
		}
		if o.Spec.RoutingKeys != nil && int64(len(o.Spec.RoutingKeys)) != parts {
			na, p := at("/spec/routingKeys")
			v.addAt(na, p, schema.ETopoRule, fmt.Sprintf("routingKeys has %d keys for %d partitions: give one per partition", len(o.Spec.RoutingKeys), parts))
		}
		for i, k := range o.Spec.RoutingKeys {
			if !IsLabelValue(k) {
				na, p := at(fmt.Sprintf("/spec/routingKeys/%d", i))
				v.addAt(na, p, schema.ETopoName, fmt.Sprintf("routing key %q is copied into a label value: at most 63 of A-Z, a-z, 0-9, -, _ and ., starting and ending with a letter or digit", k))
			}
		}
		if len(v.r.Name()) > 63 {
			na, p := at("/metadata/name")
			v.addAt(na, p, schema.ETopoName, "a SuperStream's metadata.name is copied into label values: at most 63 characters")
		}
	case *Secret:
		for k := range o.StringData {
			if _, ok := o.Data[k]; ok {
				na, p := at("/stringData/" + schema.EscapePointerToken(k))
				v.addAt(na, p, schema.EDuplicate, fmt.Sprintf("key %s is in both data and stringData", k))
			}
		}
	}
}

type nodeAt struct {
	r   *Resource
	ptr string
}

func (v *validator) addAt(na *nodeAt, ptr string, code schema.Code, msg string) {
	v.add(nil, ptr, code, msg)
	v.diags[len(v.diags)-1].Pos = na.r.Pos(na.ptr)
}

// secretUse is one reference from a resource to a Secret and the keys
// the operator reads from it.
type secretUse struct {
	ptr  string // of the reference's name
	name string
	// keys must each be present; anyOf, when set, needs one of them.
	keys, anyOf []string
	nonEmpty    []string
}

func secretUses(obj any) []secretUse {
	var out []secretUse
	ref := func(c ClusterReference) {
		if c.ConnectionSecret != nil {
			out = append(out, secretUse{ptr: "/spec/rabbitmqClusterReference/connectionSecret/name", name: c.ConnectionSecret.Name, keys: []string{"uri"}})
		}
	}
	switch o := obj.(type) {
	case *Vhost:
		ref(o.Spec.RabbitmqClusterReference)
	case *User:
		ref(o.Spec.RabbitmqClusterReference)
		if s := o.Spec.ImportCredentialsSecret; s != nil {
			out = append(out, secretUse{ptr: "/spec/importCredentialsSecret/name", name: s.Name, keys: []string{"username"},
				anyOf: []string{"passwordHash", "password"}, nonEmpty: []string{"username"}})
		}
	case *Permission:
		ref(o.Spec.RabbitmqClusterReference)
	case *TopicPermission:
		ref(o.Spec.RabbitmqClusterReference)
	case *Policy:
		ref(o.Spec.RabbitmqClusterReference)
	case *OperatorPolicy:
		ref(o.Spec.RabbitmqClusterReference)
	case *Queue:
		ref(o.Spec.RabbitmqClusterReference)
	case *Exchange:
		ref(o.Spec.RabbitmqClusterReference)
	case *Binding:
		ref(o.Spec.RabbitmqClusterReference)
	case *Federation:
		ref(o.Spec.RabbitmqClusterReference)
		if s := o.Spec.URISecret; s != nil {
			out = append(out, secretUse{ptr: "/spec/uriSecret/name", name: s.Name, keys: []string{"uri"}, nonEmpty: []string{"uri"}})
		}
	case *Shovel:
		ref(o.Spec.RabbitmqClusterReference)
		if s := o.Spec.URISecret; s != nil {
			out = append(out, secretUse{ptr: "/spec/uriSecret/name", name: s.Name, keys: []string{"srcUri", "destUri"}, nonEmpty: []string{"srcUri", "destUri"}})
		}
	case *SchemaReplication:
		ref(o.Spec.RabbitmqClusterReference)
		if s := o.Spec.UpstreamSecret; s != nil && (o.Spec.SecretBackend == nil || o.Spec.SecretBackend.Vault == nil) {
			out = append(out, secretUse{ptr: "/spec/upstreamSecret/name", name: s.Name, keys: []string{"username", "password"}})
		}
	}
	return out
}

// Secrets indexes the Secrets of streams by namespace and name.
type Secrets map[[2]string]*Secret

// SecretsOf collects the Secrets of streams that decoded without errors.
func SecretsOf(streams ...*Stream) Secrets {
	out := Secrets{}
	for _, s := range streams {
		for _, r := range s.Resources {
			if sec, ok := r.Object.(*Secret); ok {
				out[[2]string{r.Namespace(), r.Name()}] = sec
			}
		}
	}
	return out
}

// Lookup finds the Secret a resource r references by name.
func (ss Secrets) Lookup(r *Resource, name string) *Secret { return ss[[2]string{r.Namespace(), name}] }

// Check checks what spans documents and files: every Secret a resource
// references is present, carries the label the operator requires and holds
// the keys it reads; metadata.name is unique per kind and namespace.
func Check(streams ...*Stream) schema.Diagnostics {
	var diags schema.Diagnostics
	secrets := SecretsOf(streams...)
	secretAt := map[[2]string]*Resource{}
	for _, s := range streams {
		for _, r := range s.Resources {
			if _, ok := r.Object.(*Secret); ok {
				secretAt[[2]string{r.Namespace(), r.Name()}] = r
			}
		}
	}
	type id struct{ kind, ns, name string }
	first := map[id]*Resource{}
	for _, s := range streams {
		for _, r := range s.Resources {
			if r.Object == nil {
				continue
			}
			k := id{r.Kind, r.Namespace(), r.Name()}
			if f, ok := first[k]; ok {
				diags = append(diags, schema.Diagnostic{File: r.File, Pos: r.Pos("/metadata/name"), Pointer: "/metadata/name", Severity: schema.Error,
					Code: schema.EDuplicate, Message: fmt.Sprintf("%s is defined twice: metadata.name is unique per kind and namespace", r),
					Also: &schema.Location{File: f.File, Pos: f.Pos("/metadata/name"), Pointer: "/metadata/name"}})
			} else {
				first[k] = r
			}
			for _, u := range secretUses(r.Object) {
				diag := func(msg string) {
					diags = append(diags, schema.Diagnostic{File: r.File, Pos: r.Pos(u.ptr), Pointer: u.ptr, Severity: schema.Error,
						Code: schema.ETopoSecret, Message: fmt.Sprintf("%s: %s", r, msg)})
				}
				sec := secrets.Lookup(r, u.name)
				if sec == nil {
					diag(fmt.Sprintf("Secret %q is not in the files (the operator refuses a resource whose Secret does not exist)", u.name))
					continue
				}
				if at := secretAt[[2]string{r.Namespace(), u.name}]; at != nil && at.File == r.File && at.Index > r.Index {
					diag(fmt.Sprintf("Secret %q comes after the resource in the file: applied in order, the operator refuses the resource (its Secret does not exist yet); move the Secret up", u.name))
				}
				if sec.Metadata.Labels[SecretLabel] != "true" {
					diag(fmt.Sprintf("Secret %q lacks the label %s: \"true\" (the operator refuses it)", u.name, SecretLabel))
				}
				var missing []string
				for _, k := range u.keys {
					if _, ok := sec.Value(k); !ok {
						missing = append(missing, k)
					}
				}
				if len(missing) > 0 {
					diag(fmt.Sprintf("Secret %q has no key %s", u.name, strings.Join(missing, ", ")))
				}
				for _, k := range u.nonEmpty {
					if val, ok := sec.Value(k); ok && val == "" {
						diag(fmt.Sprintf("Secret %q has an empty %s", u.name, k))
					}
				}
				if u.anyOf != nil {
					found := false
					for _, k := range u.anyOf {
						if _, ok := sec.Value(k); ok {
							found = true
						}
					}
					if !found {
						diag(fmt.Sprintf("Secret %q has neither %s (the operator cannot declare the user)", u.name, strings.Join(u.anyOf, " nor ")))
					}
				}
			}
		}
	}
	return diags
}

// Validate decodes and checks one stream.
func Validate(file string, data []byte) schema.Diagnostics {
	s, diags := Decode(file, data)
	diags = append(diags, Check(s)...)
	diags.Sort()
	return diags
}
