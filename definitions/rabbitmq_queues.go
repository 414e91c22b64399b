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

// QueueType returns the queue's type: the type field, else x-queue-type,
// else classic.
func (q *Queue) QueueType() string {
	if t, ok := q.Arguments.Get("x-queue-type").(string); ok && t != "" {
		return t
	}
	if q.Type != "" {
		return q.Type
	}
	return "classic"
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
