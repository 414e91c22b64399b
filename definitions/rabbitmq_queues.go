package definitions

import (
	"fmt"
	"slices"
	"strings"
)

// RabbitMQ's queues: the queue types and the arguments each type takes,
// with the values RabbitMQ accepts.

// queueTypes are RabbitMQ's queue types.
var queueTypes = []string{"classic", "quorum", "stream"}

// queueArgs describes the queue arguments warren checks: which values are
// valid and which queue types take them.
//
// The types come from each queue type's capabilities (queue_arguments in
// deps/rabbit/src/rabbit_classic_queue.erl, rabbit_quorum_queue.erl,
// rabbit_stream_queue.erl): RabbitMQ refuses an argument that another
// type knows and this one does not (rabbit_amqqueue.erl
// check_arguments_key: "invalid arg … of queue type …").
type argRule struct {
	check func(v any) string // "" when valid, else what is wrong
	types []string           // queue types that accept it; nil means all
	rule  string             // a version rule under which RabbitMQ refuses it
}

var (
	nonNegInt = func(v any) string {
		if !atLeast(v, 0) {
			return "must be a whole number of at least 0"
		}
		return ""
	}
	posInt = func(v any) string {
		if !atLeast(v, 1) {
			return "must be a whole number of at least 1"
		}
		return ""
	}
	// expiry is a queue's x-message-ttl or x-expires (from min): RabbitMQ
	// caps both at ten years (rabbit_misc:check_expiry, "value_too_large"),
	// which its policies' message-ttl and expires are not.
	expiry = func(min int64) func(any) string {
		return func(v any) string {
			if n, ok := integer(v); !ok || n < min || n > maxExpiry {
				return fmt.Sprintf("must be a whole number of milliseconds from %d to %d (ten years)", min, maxExpiry)
			}
			return ""
		}
	}
	aString = func(v any) string {
		if _, ok := v.(string); !ok {
			return "must be a string"
		}
		return ""
	}
	oneOf = func(vals ...string) func(any) string {
		return func(v any) string {
			if s, ok := v.(string); !ok || !slices.Contains(vals, s) {
				return "must be one of " + strings.Join(vals, ", ")
			}
			return ""
		}
	}
	aBool = func(v any) string {
		if _, ok := v.(bool); !ok {
			return "must be true or false"
		}
		return ""
	}
)

// maxExpiry is ?MAX_EXPIRY_TIMER's successor in rabbit_misc:check_expiry:
// ten years in milliseconds (3.10.8 and 4.0.5 alike).
const maxExpiry = 315_360_000_000

var queueArgs = map[string]argRule{
	"x-queue-type":       {check: oneOf(queueTypes...)},
	"x-max-length":       {check: nonNegInt, types: []string{"classic", "quorum"}},
	"x-max-length-bytes": {check: nonNegInt},
	"x-message-ttl":      {check: expiry(0), types: []string{"classic", "quorum"}},
	"x-expires":          {check: expiry(1), types: []string{"classic", "quorum"}},
	"x-max-priority": {check: func(v any) string {
		if n, ok := integer(v); !ok || n < 0 || n > 255 {
			return "must be a whole number from 0 to 255"
		}
		return ""
	}, types: []string{"classic"}}, // quorum queues: message priorities without it from 4.0, refused on every version
	"x-overflow":                {check: oneOf("drop-head", "reject-publish", "reject-publish-dlx"), types: []string{"classic", "quorum"}},
	"x-dead-letter-exchange":    {check: aString, types: []string{"classic", "quorum"}},
	"x-dead-letter-routing-key": {check: aString, types: []string{"classic", "quorum"}},
	"x-dead-letter-strategy":    {check: oneOf("at-most-once", "at-least-once"), types: []string{"quorum"}},
	"x-single-active-consumer":  {check: aBool, types: []string{"classic", "quorum"}},
	// Kept by classic queues on every version; classic queues v2 (the
	// only ones from 4.3) page messages out by themselves.
	"x-queue-mode": {check: oneOf("default", "lazy"), types: []string{"classic"}},
	"x-queue-version": {check: func(v any) string {
		if n, ok := integer(v); !ok || n < 1 || n > 2 {
			return "must be 1 or 2"
		}
		return ""
	}, types: []string{"classic"}},
	"x-queue-master-locator": {check: oneOf("client-local", "min-masters", "random", "balanced"), types: []string{"classic"}, rule: RuleMasterLocatorArg},
	// Classic queues take it from 4.0 (RuleClassicLeaderLoc, in queue).
	"x-queue-leader-locator": {check: oneOf("client-local", "balanced", "random", "least-leaders"), types: []string{"classic", "quorum", "stream"}},
	"x-delivery-limit": {check: func(v any) string {
		if !atLeast(v, -1) {
			return "must be a whole number of at least -1"
		}
		return ""
	}, types: []string{"quorum"}},
	"x-quorum-initial-group-size":     {check: posInt, types: []string{"quorum"}},
	"x-quorum-target-group-size":      {check: posInt, types: []string{"quorum"}},
	"x-initial-cluster-size":          {check: posInt, types: []string{"stream"}},
	"x-max-age":                       {check: aString, types: []string{"stream"}},
	"x-stream-max-segment-size-bytes": {check: posInt, types: []string{"stream"}},
	"x-stream-filter-size-bytes":      {check: posInt, types: []string{"stream"}},
	"x-max-in-memory-length":          {check: nonNegInt, types: []string{"quorum"}},
	"x-max-in-memory-bytes":           {check: nonNegInt, types: []string{"quorum"}},
	"x-ha-policy":                     {check: aString, types: []string{"classic"}},
	// Quorum queues from 4.3 (rabbit_quorum_queue.erl capabilities): a
	// type other than these, or a delay that is not a positive whole
	// number, turns delayed retry off without a word.
	"x-delayed-retry-type":            {check: oneOf("all", "failed", "returned", "disabled"), types: []string{"quorum"}, rule: RuleQuorumArgs43},
	"x-delayed-retry-min":             {check: posInt, types: []string{"quorum"}, rule: RuleQuorumArgs43},
	"x-delayed-retry-max":             {check: posInt, types: []string{"quorum"}, rule: RuleQuorumArgs43},
	"x-consumer-disconnected-timeout": {check: nonNegInt, types: []string{"quorum"}, rule: RuleQuorumArgs43},
	"x-consumer-timeout":              {check: nonNegInt, types: []string{"quorum"}, rule: RuleQuorumArgs43},
}

// QueueType returns the queue's type: x-queue-type, else the type field,
// else classic.
func (q *Queue) QueueType() string { return QueueTypeIn(q, "") }

// typeAllows reports whether a queue of queueType can be as durable and
// auto-delete as given: quorum queues and streams must be durable and not
// auto-delete (rabbit_queue_type_util.erl check_non_durable,
// check_auto_delete). RabbitMQ's import accepts such a queue (204) and does
// not create it.
func typeAllows(queueType string, durable, autoDelete bool) bool {
	if queueType == "quorum" || queueType == "stream" {
		return durable && !autoDelete
	}
	return true
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

// haArguments are the queue arguments of classic queue mirroring: the one
// RabbitMQ knows (x-ha-policy, from before mirroring moved to policies) and
// the policy keys (haKeys) written as arguments, as old tooling did. None
// means anything to a quorum queue, which replicates without them.
var haArguments = func() []string {
	out := []string{"x-ha-policy"}
	for _, k := range haKeys {
		out = append(out, "x-"+k)
	}
	return out
}()

// LeaderLocator returns the leader locator that stands for a classic
// queue's master locator (x-queue-master-locator, the queue-master-locator
// policy key): client-local stays client-local, and min-masters, random
// and balanced become balanced, which places leaders evenly as
// min-masters did. RabbitMQ 4.0 takes client-local and balanced
// (rabbit_queue_location:queue_leader_locators), and 4.3 refuses the
// master locator (RuleMasterLocator, RuleMasterLocatorArg).
func LeaderLocator(masterLocator any) string {
	if masterLocator == "client-local" {
		return "client-local"
	}
	return "balanced"
}

// ArgumentChange is one change QuorumArguments makes to a queue's
// arguments.
type ArgumentChange struct {
	// Name and Value are the argument as the classic queue has it.
	Name  string
	Value any
	// NewName and NewValue replace it; NewName is "" when it is dropped.
	NewName  string
	NewValue any
	Reason   string
	// Behaviour: the quorum queue does something the classic queue did
	// not, or no longer does something it did.
	Behaviour bool
}

// QuorumQueue is warren's one classic-to-quorum conversion, which warren
// export's prepare_for_quorum_queue_migration trim and warren migrate
// both use. It returns a copy of q that is a quorum queue (x-queue-type
// quorum, and type quorum when q has a type field) and durable, as quorum
// queues must be, with its arguments as QuorumArguments makes them, and
// their changes. Whether q can be a quorum queue at all (auto-delete,
// exclusive) is the caller's to decide. q is not changed: its Table may be
// shared.
func QuorumQueue(q *Queue) (*Queue, []ArgumentChange) {
	args, changes := QuorumArguments(q.Arguments)
	out := *q
	out.Arguments = args.With("x-queue-type", "quorum")
	if q.Type != "" {
		out.Type = "quorum"
	}
	durable := true
	out.Durable = &durable
	return &out, changes
}

// QuorumArguments returns a queue's arguments as a quorum queue takes
// them, and the changes, in argument order:
//   - x-queue-master-locator becomes x-queue-leader-locator
//     (LeaderLocator), unless the queue has one already;
//   - x-overflow reject-publish-dlx becomes reject-publish: quorum queues
//     do not dead-letter the publishes they reject;
//   - x-max-priority goes: quorum queues refuse it (and from 4.0 have two
//     priorities without it);
//   - x-queue-mode, x-queue-version and the mirroring arguments
//     (haArguments) go: classic-queue settings a quorum queue does not
//     need;
//   - any other argument that the argument table says quorum queues do not
//     take goes;
//   - x-queue-type, where present, becomes quorum.
//
// args is not changed; the result is a new Table (empty, not nil).
func QuorumArguments(args Table) (Table, []ArgumentChange) {
	var changes []ArgumentChange
	drop := func(name string, v any, reason string, behaviour bool) {
		changes = append(changes, ArgumentChange{Name: name, Value: v, Reason: reason, Behaviour: behaviour})
	}
	out := Table{}
	for name, v := range args.All() {
		switch {
		case name == "x-queue-type":
			out = out.With(name, "quorum")
		case name == "x-queue-master-locator":
			if _, ok := args.Lookup("x-queue-leader-locator"); ok {
				drop(name, v, "the queue has x-queue-leader-locator, its successor", false)
				continue
			}
			loc := LeaderLocator(v)
			out = out.With("x-queue-leader-locator", loc)
			changes = append(changes, ArgumentChange{Name: name, Value: v, NewName: "x-queue-leader-locator", NewValue: loc,
				Reason: "the leader locator is its successor"})
		case name == "x-overflow" && v == "reject-publish-dlx":
			out = out.With(name, "reject-publish")
			changes = append(changes, ArgumentChange{Name: name, Value: v, NewName: name, NewValue: "reject-publish",
				Reason: "quorum queues do not dead-letter the publishes they reject", Behaviour: true})
		case name == "x-max-priority":
			drop(name, v, "quorum queues refuse it; from RabbitMQ 4.0 they have two priorities (0–4 normal, 5 and above high) without it", true)
		case name == "x-queue-mode" || name == "x-queue-version" || slices.Contains(haArguments, name):
			drop(name, v, "a classic-queue setting that quorum queues refuse and do not need", false)
		default:
			if a, known := queueArgs[name]; known && a.types != nil && !slices.Contains(a.types, "quorum") {
				drop(name, v, "quorum queues refuse it", true)
				continue
			}
			out = out.With(name, v)
		}
	}
	return out, changes
}
