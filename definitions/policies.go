package definitions

import (
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/warren-tool/warren/schema"
)

// policyKey describes a key of a policy definition as RabbitMQ's policy
// validators have it: deps/rabbit/src/rabbit_policies.erl (validate_policy0),
// rabbit_mirror_queue_misc.erl (ha-*), rabbit_classic_queue.erl and
// rabbit_queue_location_validator.erl (queue-master-locator),
// rabbit_quorum_queue.erl (target-group-size), and the federation and
// sharding plugins. RabbitMQ refuses a policy with a key no validator
// knows ("… are not recognised policy settings") or a value its validator
// refuses.
type policyKey struct {
	check func(v any) string // "" when valid, else what is wrong
	// exchanges: the key applies to exchanges; queues lists the queue
	// types it applies to (nil: none).
	exchanges bool
	queues    []string
	// operator: operator policies accept the key too.
	operator bool
	// rule is the version rule under which RabbitMQ refuses the key ("":
	// every version knows it); operatorRule the one for operator policies.
	rules, operatorRules []string
	plugin               string // the plugin that registers the validator
}

var (
	allQueueTypes  = []string{"classic", "quorum", "stream"}
	classicQuorum  = []string{"classic", "quorum"}
	onlyClassic    = []string{"classic"}
	onlyQuorum     = []string{"quorum"}
	onlyStream     = []string{"stream"}
	maxAgePattern  = regexp.MustCompile(`^([0-9]+)(Y|M|D|h|m|s)$`)
	maxSegmentSize = int64(3_000_000_000) // ?MAX_STREAM_MAX_SEGMENT_SIZE in rabbit_stream_queue.hrl
)

func intAtLeast(min int64, what string) func(any) string {
	return func(v any) string {
		if !atLeast(v, min) {
			return what
		}
		return ""
	}
}

func intRange(lo, hi int64, what string) func(any) string {
	return func(v any) string {
		if n, ok := integer(v); !ok || n < lo || n > hi {
			return what
		}
		return ""
	}
}

var anyValue = func(any) string { return "" }

var haKeys = []string{"ha-mode", "ha-params", "ha-sync-mode", "ha-sync-batch-size", "ha-promote-on-shutdown", "ha-promote-on-failure"}

var policyKeys = map[string]policyKey{
	"alternate-exchange":      {check: aString, exchanges: true},
	"dead-letter-exchange":    {check: aString, queues: classicQuorum},
	"dead-letter-routing-key": {check: aString, queues: classicQuorum},
	"dead-letter-strategy":    {check: oneOf("at-most-once", "at-least-once"), queues: onlyQuorum},
	"message-ttl":             {check: intAtLeast(0, "must be a whole number of milliseconds, at least 0"), queues: classicQuorum, operator: true},
	"expires":                 {check: intAtLeast(1, "must be a whole number of milliseconds, at least 1"), queues: classicQuorum, operator: true},
	"max-length":              {check: intAtLeast(0, "must be a whole number of at least 0"), queues: classicQuorum, operator: true},
	"max-length-bytes":        {check: intAtLeast(0, "must be a whole number of at least 0"), queues: allQueueTypes, operator: true},
	"max-in-memory-length":    {check: intAtLeast(0, "must be a whole number of at least 0"), queues: onlyQuorum, operator: true},
	"max-in-memory-bytes":     {check: intAtLeast(0, "must be a whole number of at least 0"), queues: onlyQuorum, operator: true},
	"queue-mode":              {check: oneOf("default", "lazy"), queues: onlyClassic},
	"queue-version": {check: intRange(1, 2, "must be 1 or 2"), queues: onlyClassic, operator: true,
		operatorRules: []string{RuleOperatorOverflowQV}},
	// reject-publish-dlx is for classic queues; a quorum queue logs
	// "Invalid overflow strategy" and keeps its default (rabbit_quorum_queue.erl overflow/3).
	"overflow": {check: oneOf("drop-head", "reject-publish", "reject-publish-dlx"), queues: classicQuorum, operator: true,
		operatorRules: []string{RuleOperatorOverflowQV}},
	"delivery-limit":   {check: intAtLeast(math.MinInt64, "must be a whole number"), queues: onlyQuorum, operator: true},
	"consumer-timeout": {check: intAtLeast(0, "must be a whole number of milliseconds, at least 0"), queues: allQueueTypes, rules: []string{RuleConsumerTimeout}},
	"max-age": {check: func(v any) string {
		s, ok := v.(string)
		if m := maxAgePattern.FindStringSubmatch(s); !ok || m == nil || strings.TrimLeft(m[1], "0") == "" {
			return "must be a positive whole number and a unit: Y, M, D, h, m or s (\"7D\")"
		}
		return ""
	}, queues: onlyStream},
	"stream-max-segment-size-bytes": {check: intRange(0, maxSegmentSize, "must be a whole number from 0 to 3000000000"), queues: onlyStream},
	"stream-filter-size-bytes":      {check: intRange(16, 255, "must be a whole number from 16 to 255"), queues: onlyStream, rules: []string{RuleStreamFilterSize}},
	"queue-leader-locator":          {check: oneOf("client-local", "balanced", "random", "least-leaders"), queues: allQueueTypes},
	"initial-cluster-size":          {check: intAtLeast(0, "must be a whole number of at least 0"), queues: onlyStream},
	"target-group-size": {check: intAtLeast(1, "must be a whole number of at least 1"), queues: onlyQuorum, operator: true,
		rules: []string{RuleTargetGroupSize}, operatorRules: []string{RuleTargetGroupSize}},
	"queue-master-locator": {check: oneOf("client-local", "min-masters", "random", "balanced", "least-leaders"), queues: onlyClassic, operator: true,
		rules: []string{RuleMasterLocator}, operatorRules: []string{RuleOperatorMasterLoc, RuleMasterLocator}},
	"consumer-disconnected-timeout": {check: anyValue, queues: onlyQuorum, rules: []string{RuleDisconnectTimeout}},
	// rabbit_quorum_queue.erl validate_policy0 from v4.3.1; operator
	// policies take them too.
	"delayed-retry-type": {check: oneOf("all", "failed", "returned", "disabled"), queues: onlyQuorum, operator: true,
		rules: []string{RuleDelayedRetry}, operatorRules: []string{RuleDelayedRetry}},
	"delayed-retry-min": {check: intAtLeast(1, "must be a whole number of milliseconds, at least 1"), queues: onlyQuorum, operator: true,
		rules: []string{RuleDelayedRetry}, operatorRules: []string{RuleDelayedRetry}},
	"delayed-retry-max": {check: intAtLeast(1, "must be a whole number of milliseconds, at least 1"), queues: onlyQuorum, operator: true,
		rules: []string{RuleDelayedRetry}, operatorRules: []string{RuleDelayedRetry}},

	"ha-mode": {check: oneOf("all", "exactly", "nodes"), queues: onlyClassic, operator: true,
		rules: []string{RuleCMQRemoved}, operatorRules: []string{RuleOperatorCMQ, RuleCMQRemoved}},
	"ha-params": {check: anyValue, queues: onlyClassic, operator: true,
		rules: []string{RuleCMQRemoved}, operatorRules: []string{RuleOperatorCMQ, RuleCMQRemoved}},
	"ha-sync-mode": {check: oneOf("manual", "automatic"), queues: onlyClassic, operator: true,
		rules: []string{RuleCMQRemoved}, operatorRules: []string{RuleOperatorCMQSync, RuleCMQRemoved}},
	"ha-sync-batch-size":     {check: intAtLeast(1, "must be a whole number of at least 1"), queues: onlyClassic, rules: []string{RuleCMQRemoved}},
	"ha-promote-on-shutdown": {check: oneOf("always", "when-synced"), queues: onlyClassic, rules: []string{RuleCMQRemoved}},
	"ha-promote-on-failure":  {check: oneOf("always", "when-synced"), queues: onlyClassic, rules: []string{RuleCMQRemoved}},

	"federation-upstream":         {check: aString, exchanges: true, queues: classicQuorum, plugin: "rabbitmq_federation"},
	"federation-upstream-set":     {check: aString, exchanges: true, queues: classicQuorum, plugin: "rabbitmq_federation"},
	"federation-upstream-pattern": {check: aString, exchanges: true, queues: classicQuorum, plugin: "rabbitmq_federation"},
	"shards-per-node":             {check: intAtLeast(0, "must be a whole number of at least 0"), exchanges: true, plugin: "rabbitmq_sharding"},
	"routing-key":                 {check: aString, exchanges: true, plugin: "rabbitmq_sharding"},
}

// applyToTypes are the queue types (and whether exchanges) an apply-to
// value reaches.
func applyToTypes(applyTo string) (queues []string, exchanges bool) {
	switch applyTo {
	case "", "all":
		return allQueueTypes, true
	case "queues":
		return allQueueTypes, false
	case "exchanges":
		return nil, true
	case "classic_queues":
		return onlyClassic, false
	case "quorum_queues":
		return onlyQuorum, false
	case "streams":
		return onlyStream, false
	}
	return allQueueTypes, true // an unknown apply-to is reported elsewhere
}

// policyDefinition checks a policy's (operator=false) or an operator
// policy's definition. field is the pointer to the definition, relative to
// the object.
func (c *checker) policyDefinition(o Object, field string, def map[string]any, applyTo string, operator bool) {
	kind := "policy"
	if operator {
		kind = "operator policy"
	}
	hasHA := false
	for _, name := range slices.Sorted(maps.Keys(def)) {
		if slices.Contains(haKeys, name) {
			hasHA = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(def)) {
		v := def[name]
		f := field + "/" + schema.EscapePointerToken(name)
		k, known := policyKeys[name]
		if !known {
			if near := nearest(name, slices.Sorted(mapKeys(policyKeys))); near != "" {
				c.errorf(o, f, schema.EPolicyKey, "%s key %q is not one RabbitMQ knows (did you mean %s?); RabbitMQ refuses the %s", kind, name, near, kind)
			} else {
				c.errorf(o, f, schema.EPolicyKey, "%s key %q is not one RabbitMQ knows; RabbitMQ refuses the %s", kind, name, kind)
			}
			continue
		}
		if operator && !k.operator {
			c.errorf(o, f, schema.EOperatorPolicyKey, "operator policies cannot set %s; RabbitMQ refuses it (operator policies take %s)", name, strings.Join(operatorKeys(), ", "))
			continue
		}
		if msg := k.check(v); msg != "" {
			c.errorf(o, f, schema.EPolicyValue, "%s %s; RabbitMQ refuses the %s", name, msg, kind)
			continue
		}
		if name == "ha-params" || name == "ha-sync-mode" || name == "ha-sync-batch-size" || name == "ha-promote-on-shutdown" || name == "ha-promote-on-failure" {
			if _, ok := def["ha-mode"]; !ok {
				c.errorf(o, f, schema.EPolicyValue, "%s needs ha-mode in the same definition; RabbitMQ refuses the %s", name, kind)
				continue
			}
		}
		if name == "ha-params" {
			if msg := haParams(def["ha-mode"], v); msg != "" {
				c.errorf(o, f, schema.EPolicyValue, "ha-params %s; RabbitMQ refuses the %s", msg, kind)
				continue
			}
		}
		if name == "ha-mode" && def["ha-mode"] == "exactly" {
			if _, ok := def["ha-params"]; !ok {
				c.errorf(o, f, schema.EPolicyValue, "ha-mode exactly needs ha-params (the number of replicas); RabbitMQ refuses the %s", kind)
				continue
			}
		}
		rules := k.rules
		if operator {
			rules = k.operatorRules
		}
		for _, id := range rules {
			if id == RuleCMQRemoved && name != "ha-mode" && hasHA {
				continue // one report per definition, on ha-mode
			}
			c.byVersion(o, f, id, "%s key %s", kind, name)
		}
		if k.plugin != "" {
			c.warnf(o, f, schema.WPluginNeeded, "%s key %s needs the %s plugin on the node; without it RabbitMQ refuses the %s (\"not recognised policy settings\")", kind, name, k.plugin, kind)
		}
		if name == "queue-master-locator" && (v == "balanced" || v == "least-leaders") {
			c.byVersion(o, f, RuleMasterLocatorLeader, "%s key queue-master-locator %v", kind, v)
		}
		if name == "delivery-limit" && !atLeast(v, 0) {
			c.byVersion(o, f, RuleNegDeliveryLimit, "%s key delivery-limit %v", kind, v)
		}
		c.policyApplies(o, f, name, k, applyTo)
	}
}

// policyApplies warns about a key that no object the policy reaches takes.
func (c *checker) policyApplies(o Object, field, name string, k policyKey, applyTo string) {
	queues, exchanges := applyToTypes(applyTo)
	if exchanges && k.exchanges {
		return
	}
	for _, qt := range queues {
		if slices.Contains(k.queues, qt) {
			return
		}
	}
	to := applyTo
	if to == "" {
		to = "all"
	}
	takes := "exchanges"
	if len(k.queues) > 0 {
		takes = strings.Join(k.queues, " and ") + " queues"
		if k.exchanges {
			takes = "exchanges and " + takes
		}
	}
	c.warnf(o, field, schema.WPolicyNotApplicable, "%s applies to %s only, and this policy applies to %s: it has no effect", name, takes, to)
}

func haParams(mode, v any) string {
	switch mode {
	case "all":
		// rabbit_mirror_queue_misc:validate_policy: "ha-mode=all does not
		// take parameters".
		return `must not be given with ha-mode "all", which takes none`
	case "exactly":
		if n, ok := integer(v); !ok || n < 1 {
			return `must be a whole number of at least 1 with ha-mode "exactly"`
		}
	case "nodes":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return `must be a non-empty list of node names with ha-mode "nodes"`
		}
		for _, n := range list {
			if _, ok := n.(string); !ok {
				return `must be a list of node names (strings) with ha-mode "nodes"`
			}
		}
	}
	return ""
}

func operatorKeys() []string {
	var out []string
	for name, k := range policyKeys {
		if k.operator {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// nearest returns the candidate closest to s by edit distance, if it is
// close enough to be a likely typo.
func nearest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Damerau–Levenshtein distance (with adjacent
// transpositions, so "max-lenght" is one edit from "max-length").
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
