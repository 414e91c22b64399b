package plan

import "github.com/warren-tool/warren/definitions"

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

// Step is what apply does for a Change: Diff sets it, apply switches on it
// and decides nothing from a change's text.
type Step string

const (
	StepCreate  Step = "create"
	StepUpdate  Step = "update"
	StepReplace Step = "replace" // delete and create again (a queue only when empty)
	StepDelete  Step = "delete"
	// StepRebind re-creates a binding that replacing its queue or exchange
	// deletes; it runs after the replacement.
	StepRebind Step = "rebind"
	// StepBorrowAccess grants the acting user access to a vhost for the
	// apply only (marked with TemporaryPattern); StepTakeBack deletes it,
	// also after a failure or an interruption.
	StepBorrowAccess Step = "borrow-access"
	StepTakeBack     Step = "take-back"
	// StepUngrant deletes the permissions RabbitMQ gives the user that
	// creates a vhost, which the files do not ask for; taken back also
	// after a failure.
	StepUngrant Step = "ungrant"
	// StepRemoveLeftoverGrant deletes a temporary grant an interrupted
	// apply left behind.
	StepRemoveLeftoverGrant Step = "remove-leftover-grant"
	// StepRemoveGuest deletes the default user guest, last of all: it may
	// be the user warren is logged in as.
	StepRemoveGuest Step = "remove-guest"
	// StepVhostQueueType changes a vhost's default queue type, which an
	// import leaves alone on an existing vhost: the vhost is written on its
	// own.
	StepVhostQueueType Step = "set-vhost-queue-type"
	// StepActingPassword changes the acting user's password, after
	// everything else; apply then carries on with the new password.
	StepActingPassword Step = "acting-password"
	// StepWriteUser writes a user whole, with its secret and every
	// permission of Change.User (Huawei Cloud DMS replaces a user whole):
	// every change of a user or its permissions carries it.
	StepWriteUser Step = "write-user"
)

// TakesBackGrant reports whether the step deletes a permission warren (or
// RabbitMQ, for warren) granted: apply runs it even after a failure.
func (s Step) TakesBackGrant() bool {
	return s == StepTakeBack || s == StepUngrant || s == StepRemoveLeftoverGrant
}

// stepOf is the plain step of an action.
func stepOf(a Action) Step {
	switch a {
	case Create:
		return StepCreate
	case Update:
		return StepUpdate
	case Replace:
		return StepReplace
	}
	return StepDelete
}

// Addr names one object by kind and identity (Object.Key); it prints as
// users write it: permission "app" on vhost "/".
type Addr struct {
	Kind definitions.Kind
	Key  string
	text string
}

// AddrOf is o's address.
func AddrOf(o definitions.Object) Addr { return Addr{Kind: o.Kind(), Key: o.Key(), text: o.Addr()} }

func (a Addr) String() string { return a.text }

// WholeUser is a user with every permission the files give it: what a
// StepWriteUser sends.
type WholeUser struct {
	User        *definitions.User // nil when the files do not define the user
	Permissions []*definitions.Permission
	name        string
}

// Name is the user's name.
func (w *WholeUser) Name() string { return w.name }

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
	Kind   definitions.Kind
	Step   Step // what apply does; never empty in a Plan
	Addr   Addr
	Before definitions.Object
	After  definitions.Object
	Fields []FieldChange // what differs, for Update and Replace
	Reason string        // why, in words, for people: apply never reads it
	// Takes is, for the deletion of a vhost, what the broker deletes with
	// it (read when the plan was made); nil otherwise.
	Takes *VhostContents
	// User is, for StepWriteUser, the user as apply writes it.
	User *WholeUser
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

// QueueMessages is a queue with the messages it holds. When Unknown, the
// queue holds at least Messages, and may hold more: an unknown count is
// never taken for none.
type QueueMessages struct {
	Name     string
	Messages int64
	Unknown  bool
	Why      string // why the count is unknown
	// AtApply: the count is unknown only for want of access to the vhost,
	// which apply borrows before deleting it; apply counts then, and
	// deletes no queue that holds messages (DestroysMessages leaves it).
	AtApply bool
}

// Messages is how many messages the vhost's queues hold (at least, when
// a count is unknown).
func (v *VhostContents) Messages() int64 {
	var n int64
	for _, q := range v.Queues {
		n += q.Messages
	}
	return n
}

// Unknown names the queues whose message count is unknown.
func (v *VhostContents) Unknown() []string {
	var out []string
	for _, q := range v.Queues {
		if q.Unknown {
			out = append(out, q.Name)
		}
	}
	return out
}

// Uncountable names the queues whose message count is unknown and that
// apply cannot count either (AtApply aside).
func (v *VhostContents) Uncountable() []string {
	var out []string
	for _, q := range v.Queues {
		if q.Unknown && !q.AtApply {
			out = append(out, q.Name)
		}
	}
	return out
}

// Empty reports whether nothing lives in the vhost.
func (v *VhostContents) Empty() bool {
	return len(v.Queues)+len(v.Exchanges)+v.Bindings+len(v.Policies)+len(v.Parameters)+len(v.Permissions)+len(v.TopicPermissions) == 0
}

// DestroysMessages lists the changes that may delete messages: vhost
// deletions whose queues held messages when the plan was made, or held a
// number that could not be known (and that apply cannot count either).
// Apply refuses them unless asked to destroy messages.
func (p *Plan) DestroysMessages() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Takes != nil && (c.Takes.Messages() > 0 || len(c.Takes.Uncountable()) > 0) {
			out = append(out, c)
		}
	}
	return out
}

// DeletedVhosts names the vhosts the plan deletes.
func (p *Plan) DeletedVhosts() []string {
	var out []string
	for _, c := range p.Changes {
		if c.Kind == definitions.KindVhost && c.Action == Delete {
			out = append(out, c.Before.(*definitions.Vhost).Name)
		}
	}
	return out
}

// Skip is an object the plan leaves alone on purpose, with the reason.
type Skip struct {
	Addr   Addr
	Reason string
	// Differs says the broker's object differs from the files and stays
	// so (a user protected on the broker): the plan changes nothing, but
	// the broker does not match the files.
	Differs bool
}

// LeftDiffering counts the skips whose object differs from the files.
func (p *Plan) LeftDiffering() int {
	n := 0
	for _, s := range p.Skipped {
		if s.Differs {
			n++
		}
	}
	return n
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
	Unmanaged map[definitions.Kind]int
	// Pruning says whether deletions were considered.
	Pruning bool
	// LiveDigest identifies the live definitions Diff compared against; a
	// saved plan is refused when the broker no longer matches it.
	LiveDigest string

	// OutOfScope counts, per kind, the files' objects a scope left out
	// (nil without a scope).
	OutOfScope map[definitions.Kind]int
	// With an owner (WithOwnership): live objects the files do not name
	// that another owner's record holds (by owner), and those no record
	// holds (by kind); neither is drift nor pruned.
	OwnedElsewhere map[string]int
	NotOwned       map[definitions.Kind]int
	// Forgotten are objects that leave the owner's record and stay on the
	// broker; TakeOvers, objects taken over from another owner.
	Forgotten []Addr
	TakeOvers []TakeOver
	// Record is the owner's record after the plan is carried out, and
	// RecordBefore the one on the broker now (nil when it has none).
	// Released are other owners' records without what was taken over.
	Record       *Record
	RecordBefore *Record
	Released     map[string]*Record

	// Access says what the plan changes of who can do what: users who can
	// now, or no longer, connect to a vhost or do an operation on a queue
	// or exchange (nil when not worked out).
	Access []AccessChange

	// Disconnect lists whose connections the apply closes when it is
	// done (with Options.CloseConnections; Disconnects).
	Disconnect []Disconnect
}

// AccessChange is one change of who can do what, as a reviewer reads it.
type AccessChange struct {
	Text   string
	Gained bool
}

// RecordChanged reports whether applying the plan rewrites the owner's
// record (or another owner's, for a take-over).
func (p *Plan) RecordChanged() bool {
	return p.Record != nil && !p.Record.Equal(p.RecordBefore) || len(p.Released) > 0
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
