package definitions

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// TrimInfo describes one trim.
type TrimInfo struct {
	Name, Help string
	Default    bool // applied unless turned off
}

// Trims are the named transformations warren export applies. Each removes
// or rewrites something a live node has that should not travel to files or
// other clusters.
var Trims = []TrimInfo{
	{"versions", "rabbit_version, rabbitmq_version, product_name, product_version, and RabbitMQ 4's explanation and original_cluster_name", true},
	{"cluster-id", "the internal_cluster_id global parameter", true},
	{"cluster-name", "the cluster_name global parameter", true},
	{"import-hash", "the imported_definition_hash_value global parameter (what definitions.skip_if_unchanged compares)", true},
	{"cluster-tags", "the cluster_tags global parameter (RabbitMQ 4 writes it, [] unless the node's configuration sets cluster_tags)", true},
	{"guest", "the default user guest and its permissions", false},
	{"default-vhost", "the default vhost / when nothing uses it", false},
	{"server-named", "server-named queues (amq.gen-…) and their bindings", false},
	{"hashes", "password hashes: users are exported without them", false},
	// rabbitmqadmin v2's export transformations, under the same names.
	{"strip_cmq_keys_from_policies", "classic mirrored queue keys (ha-*, queue-master-locator) from policies", false},
	{"drop_empty_policies", "policies whose definition is empty (run after strip_cmq_keys_from_policies)", false},
	{"obfuscate_usernames", "user names replaced by obfuscated-user-N, in users and permissions; hashes dropped", false},
	{"exclude_users", "all users", false},
	{"exclude_permissions", "all permissions and topic permissions", false},
	{"exclude_runtime_parameters", "all parameters and global parameters", false},
	{"exclude_policies", "all policies", false},
	{"prepare_for_quorum_queue_migration", "classic queues become durable quorum queues, their arguments converted as warren migrate converts them (auto-delete ones stay classic); CMQ keys leave policies", false},
}

// DefaultTrims lists the trims export applies unless told otherwise.
func DefaultTrims() []string {
	var out []string
	for _, t := range Trims {
		if t.Default {
			out = append(out, t.Name)
		}
	}
	return out
}

// cmqKeys are what strip_cmq_keys_from_policies takes out of policies, as
// rabbitmqadmin v2 does: the mirroring keys and queue-master-locator.
var cmqKeys = append(slices.Clone(haKeys), "queue-master-locator")

// Trim applies the named trims to d, in the order Trims lists them. It
// changes d.
func Trim(d *Document, names []string) error {
	for _, n := range names {
		if !slices.ContainsFunc(Trims, func(t TrimInfo) bool { return t.Name == n }) {
			return fmt.Errorf("unknown trim %q", n)
		}
	}
	on := func(name string) bool { return slices.Contains(names, name) }
	if on("versions") {
		d.RabbitVersion, d.RabbitMQVersion, d.ProductName, d.ProductVersion = "", "", "", ""
		d.Explanation, d.OriginalClusterName = "", ""
		if d.Format == "cluster" { // RabbitMQ 4 says so of every cluster-wide export
			d.Format = ""
		}
	}
	for _, name := range []string{"cluster-id", "cluster-name", "import-hash", "cluster-tags"} {
		if on(name) {
			param := map[string]string{"cluster-id": "internal_cluster_id", "cluster-name": "cluster_name", "import-hash": "imported_definition_hash_value", "cluster-tags": "cluster_tags"}[name]
			d.GlobalParameters = slices.DeleteFunc(d.GlobalParameters, func(p *GlobalParameter) bool { return p.Name == param })
		}
	}
	if on("guest") {
		d.Users = slices.DeleteFunc(d.Users, func(u *User) bool { return u.Name == "guest" })
		d.Permissions = slices.DeleteFunc(d.Permissions, func(p *Permission) bool { return p.User == "guest" })
		d.TopicPermissions = slices.DeleteFunc(d.TopicPermissions, func(p *TopicPermission) bool { return p.User == "guest" })
	}
	if on("server-named") {
		d.Queues = slices.DeleteFunc(d.Queues, func(q *Queue) bool { return strings.HasPrefix(q.Name, "amq.gen-") })
		d.Bindings = slices.DeleteFunc(d.Bindings, func(b *Binding) bool {
			return b.DestinationType == "queue" && strings.HasPrefix(b.Destination, "amq.gen-")
		})
	}
	if on("default-vhost") && !vhostUsed(d, "/") {
		d.Vhosts = slices.DeleteFunc(d.Vhosts, func(v *Vhost) bool { return v.Name == "/" })
	}
	if on("hashes") || on("obfuscate_usernames") {
		for _, u := range d.Users {
			u.PasswordHash, u.HashingAlgorithm = nil, ""
		}
	}
	if on("obfuscate_usernames") {
		names := map[string]string{}
		for i, u := range d.Users {
			names[u.Name] = fmt.Sprintf("obfuscated-user-%d", i+1)
			u.Name = names[u.Name]
		}
		rename := func(n string) string {
			if o, ok := names[n]; ok {
				return o
			}
			return n
		}
		for _, p := range d.Permissions {
			p.User = rename(p.User)
		}
		for _, p := range d.TopicPermissions {
			p.User = rename(p.User)
		}
	}
	if on("exclude_users") {
		d.Users = nil
	}
	if on("exclude_permissions") {
		d.Permissions, d.TopicPermissions = nil, nil
	}
	if on("exclude_runtime_parameters") {
		d.Parameters, d.GlobalParameters = nil, nil
	}
	if on("exclude_policies") {
		d.Policies = nil
	}
	if on("strip_cmq_keys_from_policies") || on("prepare_for_quorum_queue_migration") {
		for _, p := range d.Policies {
			p.Definition = maps.Clone(p.Definition)
			for _, k := range cmqKeys {
				delete(p.Definition, k)
			}
		}
	}
	if on("prepare_for_quorum_queue_migration") {
		for i, q := range d.Queues {
			// An auto-delete queue stays classic: RabbitMQ's import
			// accepts an auto-delete quorum queue and does not create it.
			// (A transient one becomes durable.)
			if q.QueueType() != "classic" || !typeAllows("quorum", true, q.AutoDelete != nil && *q.AutoDelete) {
				continue
			}
			d.Queues[i], _ = QuorumQueue(q) // a copy: a broker's listing shares arguments between queues
		}
	}
	if on("drop_empty_policies") {
		d.Policies = slices.DeleteFunc(d.Policies, func(p *Policy) bool { return len(p.Definition) == 0 })
	}
	return nil
}

// vhostUsed reports whether any object names vhost. (With the guest trim,
// guest's permissions on / are gone before this is asked.)
func vhostUsed(d *Document, vhost string) bool {
	for _, o := range d.Objects() {
		if info(o.Kind()).InVhost && o.VhostName() == vhost {
			return true
		}
	}
	return false
}

// Select keeps only part of d. With a vhost, it keeps that vhost and what
// lives in it (permissions, topic permissions, parameters, policies, queues,
// exchanges, bindings) and drops what is cluster-wide (users, global
// parameters). With kinds, it keeps only those kinds. It changes d.
func Select(d *Document, vhost string, kinds []Kind) {
	for _, r := range kindTable {
		switch {
		case kinds != nil && !slices.Contains(kinds, r.Kind):
			r.list.clear(d)
		case vhost == "":
		case r.InVhost || r.Kind == KindVhost:
			r.list.keep(d, func(o Object) bool { return o.VhostName() == vhost })
		default:
			r.list.clear(d) // cluster-wide
		}
	}
}

// ParseKinds reads a comma-separated list of kinds (users, vhosts, …).
func ParseKinds(s string) ([]Kind, error) {
	var out []Kind
	for _, part := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(part))
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("unknown kind %q: use %s", k, kindList(Kinds))
		}
		out = append(out, k)
	}
	return out, nil
}
