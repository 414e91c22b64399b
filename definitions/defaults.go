package definitions

import "maps"

// The one table of defaults: what the broker fills in when a field is
// absent. Normalize applies it to both sides of a diff, so that a file that
// omits defaults shows no drift.
//
//	user        tags []; limits {}; hashing_algorithm sha256 (md5 for files
//	            older than RabbitMQ 3.6, as RabbitMQ reads them)
//	policy      apply-to all; priority 0; definition {}
//	queue       durable true; auto_delete false; arguments {};
//	            x-queue-type from "type" or classic
//	exchange    durable true; auto_delete false; internal false; arguments {}
//	binding     routing_key ""; arguments {}
//	vhost       description ""; tags []; default_queue_type unset; tracing
//	            false. RabbitMQ's import resets them so (even the "Default
//	            virtual host" description of /). RabbitMQ 3.9+ repeats them
//	            in metadata, read when the top-level field is absent;
//	            "undefined" and "classic" mean unset (unset is classic).
//
// RabbitMQ's own import fails on a queue without durable or auto_delete and
// on a user without tags; warren always sends them, so files need not.
const (
	defaultApplyTo   = "all"
	defaultQueueType = "classic"
)

// Normalize returns a copy of d with every default filled in, for
// comparing. Objects are copied; d is not changed.
func Normalize(d *Document) *Document {
	out := *d
	out.Permissions = mapSlice(d.Permissions, func(p Permission) *Permission { return &p })
	out.TopicPermissions = mapSlice(d.TopicPermissions, func(p TopicPermission) *TopicPermission { return &p })
	out.Parameters = mapSlice(d.Parameters, func(p Parameter) *Parameter { return &p })
	out.GlobalParameters = mapSlice(d.GlobalParameters, func(p GlobalParameter) *GlobalParameter { return &p })
	out.Users = mapSlice(d.Users, normalizeUser)
	out.Vhosts = mapSlice(d.Vhosts, normalizeVhost)
	out.Policies = mapSlice(d.Policies, normalizePolicy)
	out.Queues = mapSlice(d.Queues, normalizeQueue)
	out.Exchanges = mapSlice(d.Exchanges, normalizeExchange)
	out.Bindings = mapSlice(d.Bindings, normalizeBinding)
	return &out
}

func mapSlice[T any](s []*T, f func(T) *T) []*T {
	if s == nil {
		return nil
	}
	out := make([]*T, len(s))
	for i, o := range s {
		out[i] = f(*o)
	}
	return out
}

func normalizeUser(u User) *User {
	if u.Tags == nil {
		u.Tags = []string{}
	}
	if u.Limits == nil {
		u.Limits = map[string]int64{}
	}
	if u.PasswordHash != nil && u.HashingAlgorithm == "" {
		u.HashingAlgorithm = HashSHA256
		if og := u.Origin; og != nil && og.File.rabbitVersion != "" && versionLess(og.File.rabbitVersion, "3.6.0") {
			u.HashingAlgorithm = HashMD5
		}
	}
	return &u
}

func normalizeVhost(v Vhost) *Vhost {
	if v.Description == nil {
		if s, ok := v.Metadata["description"].(string); ok {
			v.Description = &s
		}
	}
	if v.Tags == nil {
		v.Tags = tags(v.Metadata, "tags")
	}
	if v.DefaultQueueType == "" {
		v.DefaultQueueType, _ = v.Metadata["default_queue_type"].(string)
	}
	if v.DefaultQueueType == "undefined" || v.DefaultQueueType == defaultQueueType {
		v.DefaultQueueType = "" // unset means classic
	}
	if v.Description == nil {
		v.Description = new(string)
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	v.Tracing = orFalse(v.Tracing)
	v.Metadata = nil // folded into the fields above
	return &v
}

func normalizePolicy(p Policy) *Policy {
	if p.ApplyTo == "" {
		p.ApplyTo = defaultApplyTo
	}
	if p.Priority == nil {
		zero := int64(0)
		p.Priority = &zero
	}
	if p.Definition == nil {
		p.Definition = map[string]any{}
	}
	return &p
}

func normalizeQueue(q Queue) *Queue {
	q.Durable = orTrue(q.Durable)
	q.AutoDelete = orFalse(q.AutoDelete)
	args := maps.Clone(q.Arguments)
	if args == nil {
		args = map[string]any{}
	}
	args["x-queue-type"] = q.QueueType()
	q.Arguments, q.Type = args, ""
	return &q
}

func normalizeExchange(e Exchange) *Exchange {
	e.Durable = orTrue(e.Durable)
	e.AutoDelete = orFalse(e.AutoDelete)
	e.Internal = orFalse(e.Internal)
	if e.Arguments == nil {
		e.Arguments = map[string]any{}
	}
	return &e
}

func normalizeBinding(b Binding) *Binding {
	if b.Arguments == nil {
		b.Arguments = map[string]any{}
	}
	return &b
}

func orTrue(b *bool) *bool {
	if b == nil {
		t := true
		return &t
	}
	return b
}

func orFalse(b *bool) *bool {
	if b == nil {
		f := false
		return &f
	}
	return b
}
