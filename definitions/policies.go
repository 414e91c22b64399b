package definitions

import (
	"maps"
	"slices"
	"strings"

	"github.com/warren-tool/warren/schema"
)

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
		if name != "ha-mode" && slices.Contains(haKeys, name) {
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
	queues, exchanges, known := applyToTypes(applyTo)
	if !known {
		return // an unknown apply-to is reported elsewhere
	}
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
