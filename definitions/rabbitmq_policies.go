package definitions

import (
	"math"
	"regexp"
	"slices"
	"strings"
)

// RabbitMQ's policies: the keys a policy (or an operator policy) takes, the
// queue types and exchanges each key applies to, the version rules under
// which RabbitMQ refuses it, and the apply-to values.

// applyToValues are the values of a policy's apply-to.
var applyToValues = []string{"all", "queues", "exchanges", "classic_queues", "quorum_queues", "streams"}

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
	allQueueTypes  = queueTypes
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

// haKeys are the policy keys of classic queue mirroring, which RabbitMQ
// 4.0 removed (RuleCMQRemoved): the one list of them.
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
// value reaches; known is false for a value RabbitMQ does not take.
func applyToTypes(applyTo string) (queues []string, exchanges, known bool) {
	switch applyTo {
	case "", "all":
		return allQueueTypes, true, true
	case "queues":
		return allQueueTypes, false, true
	case "exchanges":
		return nil, true, true
	case "classic_queues":
		return onlyClassic, false, true
	case "quorum_queues":
		return onlyQuorum, false, true
	case "streams":
		return onlyStream, false, true
	}
	return nil, false, false
}

// PolicyReachesQueue reports whether a policy (or operator policy) whose
// apply-to is applyTo ("" is all) can apply to a queue of queueType.
func PolicyReachesQueue(applyTo, queueType string) bool {
	queues, _, _ := applyToTypes(applyTo)
	return slices.Contains(queues, queueType)
}

// MirroringKey reports whether a policy key is one of classic queue
// mirroring's (ha-mode, ha-params, …).
func MirroringKey(key string) bool { return slices.Contains(haKeys, key) }

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
