package definitions

import (
	"slices"

	"github.com/warren-tool/warren/schema"
)

// Lookups into the policy-key and queue-argument tables for code outside
// this package that rewrites definitions (definitions/migrate): which queue
// types a key or an argument applies to, and which version rules refuse
// it. The tables stay the one place these facts live.

// PolicyKeyTargets returns the queue types a policy key applies to and
// whether it applies to exchanges; known is false for a key no validator
// knows.
func PolicyKeyTargets(key string) (queueTypes []string, exchanges, known bool) {
	k, ok := policyKeys[key]
	if !ok {
		return nil, false, false
	}
	return slices.Clone(k.queues), k.exchanges, true
}

// PolicyKeyRefusedBy returns the version rule under which RabbitMQ version
// (a series or a release) refuses the policy key in a user policy, or
// operator policy when operator is set; ok is false when that version
// accepts it.
func PolicyKeyRefusedBy(key, version string, operator bool) (rule VersionRule, ok bool) {
	k, known := policyKeys[key]
	if !known {
		return VersionRule{}, false
	}
	rules := k.rules
	if operator {
		rules = k.operatorRules
	}
	for _, id := range rules {
		if r := Rule(id); r.Effect == Refused && r.AppliesTo(version) {
			return r, true
		}
	}
	return VersionRule{}, false
}

// QueueArgumentTypes returns the queue types that take a queue argument
// (nil: every type); known is false for an argument warren does not know.
func QueueArgumentTypes(name string) (types []string, known bool) {
	a, ok := queueArgs[name]
	if !ok {
		return nil, false
	}
	return slices.Clone(a.types), true
}

// QueueArgumentRefusedBy returns the version rule under which RabbitMQ
// version refuses a queue argument whatever its value, or accepts it and
// does not create the queue (Dropped), if one does.
func QueueArgumentRefusedBy(name, version string) (rule VersionRule, ok bool) {
	a, known := queueArgs[name]
	if !known || a.rule == "" {
		return VersionRule{}, false
	}
	if r := Rule(a.rule); (r.Effect == Refused || r.Effect == Dropped) && r.AppliesTo(version) {
		return r, true
	}
	return VersionRule{}, false
}

// Resolve fills in the line and column of diagnostics that point into the
// files d was read from (as Check does for its own).
func (d *Document) Resolve(diags schema.Diagnostics) { d.resolve(diags) }
