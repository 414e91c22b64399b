package definitions

// Action is what a Change does. It prints as its own diff marker.
type Action rune

const (
	Create  Action = '+'
	Update  Action = '~'
	Delete  Action = '-'
	Replace Action = '±' // delete and create again: the broker cannot change it in place
)

// Verb names an action in words.
func (a Action) Verb() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Replace:
		return "replace"
	}
	return "unknown"
}

// FieldChange is one field that differs. Before and After are plain values
// (strings, bools, numbers, lists, maps), nil when absent. For a secret
// (Sensitive) both are nil: a plan never holds a password or a hash.
type FieldChange struct {
	Field     string
	Before    any
	After     any
	Sensitive bool
}

// Change moves one object from Before (nil on Create) to After (nil on
// Delete).
type Change struct {
	Action Action
	Kind   Kind
	Addr   string // as users write it: permission "app" on vhost "/"
	Before Object
	After  Object
	Fields []FieldChange // what differs, for Update and Replace
	Reason string        // why a Replace is needed
	// Takes is, for the deletion of a vhost, what the broker deletes with
	// it (read when the plan was made); nil otherwise.
	Takes *VhostContents
}

// VhostContents is what lives in a vhost: deleting the vhost deletes all of
// it, messages included.
type VhostContents struct {
	Queues           []QueueMessages
	Exchanges        []string // not the built-in ones
	Bindings         int      // not the default exchange's implicit ones
	Policies         []string
	Parameters       []string // component/name
	Permissions      []string // users
	TopicPermissions []string // users
}

// QueueMessages is a queue with the messages it holds.
type QueueMessages struct {
	Name     string
	Messages int64
}

// Messages is how many messages the vhost's queues hold.
func (v *VhostContents) Messages() int64 {
	var n int64
	for _, q := range v.Queues {
		n += q.Messages
	}
	return n
}

// Empty reports whether nothing lives in the vhost.
func (v *VhostContents) Empty() bool {
	return len(v.Queues)+len(v.Exchanges)+v.Bindings+len(v.Policies)+len(v.Parameters)+len(v.Permissions)+len(v.TopicPermissions) == 0
}

// DestroysMessages lists the changes that delete messages: vhost deletions
// whose queues held messages when the plan was made. Apply refuses them
// unless asked to destroy messages.
func (p *Plan) DestroysMessages() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Takes != nil && c.Takes.Messages() > 0 {
			out = append(out, c)
		}
	}
	return out
}

// DeletedVhosts names the vhosts the plan deletes.
func (p *Plan) DeletedVhosts() []string {
	var out []string
	for _, c := range p.Changes {
		if c.Kind == KindVhost && c.Action == Delete {
			out = append(out, c.Before.(*Vhost).Name)
		}
	}
	return out
}

// Skip is an object the plan leaves alone on purpose, with the reason.
type Skip struct {
	Addr   string
	Reason string
}

// Plan is the result of Diff: everything apply will do, in order. Apply
// reads the Plan and nothing else.
type Plan struct {
	// Changes are in apply order: creations and updates kind by kind
	// (vhosts, users, permissions, topic permissions, vhost limits,
	// parameters, global parameters, policies, exchanges, queues,
	// bindings), then deletions in reverse order.
	Changes []Change
	// Skipped lists objects the files name that the broker would not keep,
	// and deletions refused to protect the broker.
	Skipped []Skip
	// Unmanaged counts, per kind the files manage, live objects the files do
	// not name; they are deleted only with pruning.
	Unmanaged map[Kind]int
	// Pruning says whether deletions were considered.
	Pruning bool
	// LiveDigest identifies the live definitions Diff compared against; a
	// saved plan is refused when the broker no longer matches it.
	LiveDigest string
}

// Empty reports whether the plan changes nothing: the broker is in sync.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// Counts returns how many changes of each action the plan holds.
func (p *Plan) Counts() map[Action]int {
	out := map[Action]int{}
	for _, c := range p.Changes {
		out[c.Action]++
	}
	return out
}

// ApplyError is what a seeder returns when an apply stops part-way: what
// was done, what failed (Err has the broker's reason), and what remains.
// Running apply again converges.
type ApplyError struct {
	Done      []Change
	Failed    []Change
	Remaining []Change
	Err       error
}

func (e *ApplyError) Error() string { return e.Err.Error() }
func (e *ApplyError) Unwrap() error { return e.Err }
