package definitions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// What changes between RabbitMQ versions, one row per rule, each with the
// release note or source file it comes from. Check applies the rows for
// the version in CheckOptions.RabbitMQVersion; docs/rabbitmq-versions.md is
// generated from this table (WARREN_UPDATE=1 go test ./definitions).
//
// The sources were read in rabbitmq/rabbitmq-server at the tags named
// (release-notes/*.md, deps/rabbit/src/*.erl).

// SupportedSeries are the RabbitMQ release series warren checks for when no
// version is given: the ones RabbitMQ still supports.
var SupportedSeries = []string{"3.13", "4.0", "4.1", "4.2", "4.3"}

// OutOfSupportSeries are older series warren still knows the rules of
// (3.10 is what the test harness ran first); RabbitMQ no longer supports
// them.
var OutOfSupportSeries = []string{"3.10", "3.11", "3.12"}

// Effect says what a version does with what a rule describes.
type Effect string

const (
	// Refused: the broker answers 400 (or fails the operation); warren
	// reports an error for that version.
	Refused Effect = "refused"
	// Ignored: the broker accepts it and does nothing with it; warren
	// warns.
	Ignored Effect = "ignored"
	// Dropped: the broker accepts it (204) and does not create the object;
	// warren warns (W123).
	Dropped Effect = "dropped"
	// Deprecated: the broker accepts it by default, and a node whose
	// configuration denies the rule's deprecated feature
	// (deprecated_features.permit.NAME = false) refuses it; warren warns
	// (W125) unless it knows what the node permits (CheckOptions.DeprecatedFeatures).
	Deprecated Effect = "permitted by default"
	// Accepted: the broker does what the document says. No rule has this
	// effect; it is what a version outside a rule's range does.
	Accepted Effect = "accepted"
)

// VersionRule is one row of the table: what a range of versions does.
type VersionRule struct {
	ID     string
	What   string // what the rule is about, as a noun phrase
	From   string // first version it applies to; "" means every older one
	Until  string // first version it no longer applies to; "" means none
	Effect Effect
	// Otherwise is what versions outside [From, Until) do with Example;
	// "" means Accepted.
	Otherwise Effect
	// Feature is the deprecated feature (GET /api/deprecated-features)
	// whose state on a node decides instead of the version, where the
	// node reports it: permitted, the broker accepts; denied or removed,
	// Effect holds (Refused for a Deprecated rule).
	Feature string
	Fix     string // what to do instead
	Source  string // release note or source file, at a tag
	// Example is a small definitions document (JSON) that the rule is
	// about; TestVersionRules posts it to a real node (RabbitMQ's own
	// import) and looks at Probe to see what the node did with it.
	Example string
	Probe   Probe
	// Also are other rules Example falls under: where one of them applies,
	// its effect is what the broker does.
	Also []string
}

// Probe says how to see what a broker did with a rule's Example after
// accepting it.
type Probe struct {
	// Path is the object to GET (an object, or a list that is empty when
	// the object is absent); a 404 or an empty list means Dropped.
	Path string
	// Field is a dotted path into the answer ("arguments.x-max-priority")
	// that holds the setting; absent means Ignored, present Accepted. ""
	// with Delete false: the object's existence is all there is to see.
	Field string
	// Delete: the setting protects the object from deletion. The probe
	// DELETEs Path: done means Ignored, refused means Accepted.
	Delete bool
	// Want, when set, is the value of Field that shows the broker kept the
	// example's setting; another value means Ignored.
	Want any
	// Stats: Field is among a queue's statistics, which the node emits
	// every few seconds; the probe looks again for a while before it
	// calls it Ignored.
	Stats bool
}

// Rule IDs Check refers to.
const (
	RuleCMQRemoved           = "cmq-removed"
	RuleOperatorCMQ          = "operator-policy-cmq"
	RuleOperatorCMQSync      = "operator-policy-cmq-sync"
	RuleMissingBindingEnd    = "binding-missing-end-refused"
	RuleTopicMissingExchange = "topic-permission-missing-exchange-refused"
	RuleApplyToQueueType     = "apply-to-queue-type"
	RuleConsumerTimeout      = "policy-consumer-timeout"
	RuleTargetGroupSize      = "policy-target-group-size"
	RuleStreamFilterSize     = "policy-stream-filter-size-bytes"
	RuleOperatorOverflowQV   = "operator-policy-overflow-queue-version"
	RuleOperatorMasterLoc    = "operator-policy-queue-master-locator"
	RuleMasterLocator        = "queue-master-locator-denied"
	RuleMasterLocatorArg     = "x-queue-master-locator-dropped"
	RuleDisconnectTimeout    = "policy-consumer-disconnected-timeout"
	RuleDelayedRetry         = "policy-delayed-retry"
	RuleQuorumArgs43         = "quorum-queue-arguments-4.3"
	RuleClassicLeaderLoc     = "classic-queue-leader-locator"
	RuleLocalRandom          = "exchange-x-local-random"
	RuleQueueVersion1        = "x-queue-version-1-removed"
	RuleNegDeliveryLimit     = "policy-negative-delivery-limit"
	RuleMasterLocatorLeader  = "policy-queue-master-locator-leader-values"
	RuleTransientNonExcl     = "transient-non-exclusive-queues"
	RuleVhostProtected       = "vhost-protected-from-deletion"
	RuleProtectedTag         = "user-tag-protected"
	RuleVhostMetadataWins    = "vhost-metadata-description-tags-win"
	// Not a refusal: when the import gives an untyped queue its vhost's
	// default queue type (and checks its arguments for that type).
	RuleImportVhostQueueType = "import-untyped-queue-vhost-default-type"
)

// Deprecated features (GET /api/deprecated-features) the rules name.
const (
	FeatureTransientNonExcl   = "transient_nonexcl_queues"
	FeatureQueueMasterLocator = "queue_master_locator"
)

// The examples' building blocks: a policy p on vhost / (pattern ^p\.), an
// operator policy op, a queue in vhost /.
func examplePolicy(def, applyTo string) string {
	return `{"policies": [{"vhost": "/", "name": "p", "pattern": "^p\\.", "apply-to": "` + applyTo + `", "priority": 0, "definition": ` + def + `}]}`
}

func exampleOperatorPolicy(def string) string {
	return `{"parameters": [{"vhost": "/", "component": "operator_policy", "name": "op", "value": {"pattern": "^p\\.", "priority": 0, "apply-to": "queues", "definition": ` + def + `}}]}`
}

func exampleQueue(name string, durable bool, args string) string {
	return fmt.Sprintf(`{"queues": [{"vhost": "/", "name": %q, "durable": %t, "auto_delete": false, "arguments": %s}]}`, name, durable, args)
}

var (
	probePolicy         = func(key string) Probe { return Probe{Path: "/api/policies/%2F/p", Field: "definition." + key} }
	probeOperatorPolicy = func(key string) Probe {
		return Probe{Path: "/api/operator-policies/%2F/op", Field: "definition." + key}
	}
	probeQueue = func(name, field string) Probe { return Probe{Path: "/api/queues/%2F/" + name, Field: field} }
)

// VersionRules is the table.
var VersionRules = []VersionRule{
	{ID: RuleCMQRemoved, What: "classic queue mirroring policy keys (ha-mode, ha-params, ha-sync-mode, ha-sync-batch-size, ha-promote-on-shutdown, ha-promote-on-failure)",
		From: "4.0.0", Effect: Refused,
		Fix:     "remove the ha-* keys (warren export --trim strip_cmq_keys_from_policies,drop_empty_policies) and move replicated queues to quorum queues",
		Source:  "release-notes/4.0.1.md \"Classic Queues is Now a Non-Replicated Queue Type\"; deps/rabbit/src/rabbit_mirror_queue_misc.erl at v4.0.5 registers no policy validator",
		Example: examplePolicy(`{"ha-mode": "all"}`, "queues"), Probe: probePolicy("ha-mode")},
	{ID: RuleOperatorCMQ, What: "ha-mode and ha-params in operator policies",
		Until: "3.11.10", Effect: Refused,
		Fix:     "set classic queue mirroring in a user policy",
		Source:  "release-notes/3.11.10.md; deps/rabbit/src/rabbit_mirror_queue_misc.erl registers operator_policy_validator ha-mode, ha-params from v3.11.10",
		Example: exampleOperatorPolicy(`{"ha-mode": "all"}`), Probe: probeOperatorPolicy("ha-mode"), Also: []string{RuleCMQRemoved}},
	{ID: RuleOperatorCMQSync, What: "ha-sync-mode in operator policies",
		Until: "3.11.15", Effect: Refused,
		Fix:     "set ha-sync-mode in a user policy",
		Source:  "release-notes/3.11.15.md \"Operator policies now can define ha-sync-mode\"",
		Example: exampleOperatorPolicy(`{"ha-sync-mode": "automatic"}`), Probe: probeOperatorPolicy("ha-sync-mode"), Also: []string{RuleCMQRemoved}},
	{ID: RuleMissingBindingEnd, What: "a binding whose source exchange or destination does not exist (for example amq.rabbitmq.log when the log exchange is off)",
		From: "3.13.6", Effect: Refused, Otherwise: Dropped,
		Fix:     "define the exchange or queue, or drop the binding; older versions dropped such a binding silently",
		Source:  "commit f1be7bacc2 \"Handle database failures when adding/removing bindings\" (first in v3.13.6): deps/rabbit/src/rabbit_definitions.erl add_binding_int throws rabbit_binding:add's error",
		Example: `{"queues": [{"vhost": "/", "name": "q", "durable": true, "auto_delete": false, "arguments": {}}], "bindings": [{"vhost": "/", "source": "missing", "destination": "q", "destination_type": "queue", "routing_key": "", "arguments": {}}]}`,
		Probe:   Probe{Path: "/api/bindings/%2F/e/missing/q/q"}},
	{ID: RuleTopicMissingExchange, What: "a topic permission on an exchange that does not exist",
		From: "4.3.2", Effect: Refused,
		Fix:     "define the exchange (in the files or on the broker) or drop the topic permission; older versions keep such a permission",
		Source:  "release-notes/4.3.2.md \"rabbitmqctl set_topic_permissions now validates target user and exchange for existence\" (commit bfe1ba206e: deps/rabbit/src/rabbit_auth_backend_internal.erl set_topic_permissions throws no_such_exchange, which the import and the HTTP API call too)",
		Example: `{"users": [{"name": "rule-topic-user", "password_hash": "", "tags": []}], "topic_permissions": [{"user": "rule-topic-user", "vhost": "/", "exchange": "missing", "write": ".*", "read": ".*"}]}`,
		Probe:   Probe{Path: "/api/topic-permissions/%2F/rule-topic-user"}},
	{ID: RuleApplyToQueueType, What: "policy apply-to classic_queues, quorum_queues or streams",
		Until: "3.12.0", Effect: Refused,
		Fix:     "use apply-to: queues",
		Source:  "deps/rabbit/src/rabbit_policy.erl apply_to_validation at v3.12.0 (release-notes/3.12.0.md uses --apply-to quorum_queues)",
		Example: examplePolicy(`{"max-length": 10}`, "classic_queues"), Probe: probePolicy("max-length")},
	{ID: RuleConsumerTimeout, What: "the consumer-timeout policy key",
		Until: "3.12.0", Effect: Refused,
		Fix:     "set consumer_timeout in rabbitmq.conf",
		Source:  "deps/rabbit/src/rabbit_policies.erl registers consumer-timeout from v3.12.0",
		Example: examplePolicy(`{"consumer-timeout": 60000}`, "queues"), Probe: probePolicy("consumer-timeout")},
	{ID: RuleTargetGroupSize, What: "the target-group-size policy key",
		Until: "3.13.0", Effect: Refused,
		Fix:     "remove it",
		Source:  "deps/rabbit/src/rabbit_quorum_queue.erl registers target-group-size from v3.13.0",
		Example: examplePolicy(`{"target-group-size": 3}`, "queues"), Probe: probePolicy("target-group-size")},
	{ID: RuleStreamFilterSize, What: "the stream-filter-size-bytes policy key",
		Until: "3.13.0", Effect: Refused,
		Fix:     "remove it",
		Source:  "deps/rabbit/src/rabbit_policies.erl registers stream-filter-size-bytes from v3.13.0",
		Example: examplePolicy(`{"stream-filter-size-bytes": 32}`, "queues"), Probe: probePolicy("stream-filter-size-bytes")},
	{ID: RuleOperatorOverflowQV, What: "overflow and queue-version in operator policies",
		Until: "3.12.7", Effect: Refused,
		Fix:     "set them in a user policy",
		Source:  "deps/rabbit/src/rabbit_policies.erl registers operator_policy_validator overflow, queue-version from v3.12.7",
		Example: exampleOperatorPolicy(`{"overflow": "reject-publish"}`), Probe: probeOperatorPolicy("overflow")},
	{ID: RuleOperatorMasterLoc, What: "queue-master-locator in operator policies",
		Until: "4.0.0", Effect: Refused,
		Fix:     "set it in a user policy",
		Source:  "deps/rabbit/src/rabbit_classic_queue.erl at v4.0.5 registers operator_policy_validator queue-master-locator",
		Example: exampleOperatorPolicy(`{"queue-master-locator": "client-local"}`), Probe: probeOperatorPolicy("queue-master-locator"), Also: []string{RuleMasterLocator}},
	{ID: RuleMasterLocator, What: "the queue-master-locator policy key",
		From: "4.3.0", Effect: Refused, Feature: FeatureQueueMasterLocator,
		Fix:     "use queue-leader-locator (client-local or balanced), or set deprecated_features.permit.queue_master_locator = true on every node",
		Source:  "release-notes/4.3.0.md \"Deprecated Features\": queue_master_locator is denied_by_default (deps/rabbit/src/rabbit_queue_location.erl at v4.3.0); deps/rabbit/src/rabbit_classic_queue.erl validate_policy at v4.3.0",
		Example: examplePolicy(`{"queue-master-locator": "client-local"}`, "queues"), Probe: probePolicy("queue-master-locator")},
	{ID: RuleMasterLocatorArg, What: "the x-queue-master-locator queue argument: the import answers 204 and does not create the queue",
		From: "4.3.0", Effect: Dropped, Feature: FeatureQueueMasterLocator,
		Fix:     "use x-queue-leader-locator (client-local or balanced), or set deprecated_features.permit.queue_master_locator = true on every node",
		Source:  "deps/rabbit/src/rabbit_queue_location.erl at v4.3.0 (queue_master_locator denied_by_default); the declare's error is not looked at by deps/rabbit/src/rabbit_definitions.erl add_queue_int",
		Example: exampleQueue("cq", true, `{"x-queue-master-locator": "client-local"}`), Probe: probeQueue("cq", "arguments.x-queue-master-locator")},
	{ID: RuleDisconnectTimeout, What: "the consumer-disconnected-timeout policy key",
		Until: "4.3.0", Effect: Refused,
		Fix:     "remove it",
		Source:  "deps/rabbit/src/rabbit_policies.erl registers consumer-disconnected-timeout from v4.3.0",
		Example: examplePolicy(`{"consumer-disconnected-timeout": 60000}`, "queues"), Probe: probePolicy("consumer-disconnected-timeout")},
	{ID: RuleDelayedRetry, What: "the delayed-retry-type, delayed-retry-min and delayed-retry-max policy keys (quorum queues)",
		Until: "4.3.1", Effect: Refused,
		Fix:     "remove them",
		Source:  "deps/rabbit/src/rabbit_quorum_queue.erl registers policy_validator delayed-retry-type, -min, -max from v4.3.1",
		Example: examplePolicy(`{"delayed-retry-type": "failed", "delayed-retry-min": 1000, "delayed-retry-max": 60000}`, "queues"), Probe: probePolicy("delayed-retry-type")},
	{ID: RuleQuorumArgs43, What: "the quorum queue arguments x-delayed-retry-type, x-delayed-retry-min, x-delayed-retry-max, x-consumer-disconnected-timeout (4.3.0) and x-consumer-timeout (4.3.2): older versions keep them and do nothing with them",
		Until: "4.3.0", Effect: Ignored,
		Fix:     "upgrade, or remove them",
		Source:  "deps/rabbit/src/rabbit_quorum_queue.erl capabilities queue_arguments at v4.3.0 and v4.3.2; the queue shows delayed_retry from v4.3.0",
		Example: exampleQueue("qq", true, `{"x-queue-type": "quorum", "x-delayed-retry-type": "failed", "x-delayed-retry-min": 1000, "x-delayed-retry-max": 60000}`),
		Probe:   Probe{Path: "/api/queues/%2F/qq", Field: "delayed_retry", Stats: true}},
	{ID: RuleClassicLeaderLoc, What: "x-queue-leader-locator on a classic queue",
		Until: "4.0.0", Effect: Refused,
		Fix:     "use x-queue-master-locator on classic queues before 4.0",
		Source:  "deps/rabbit/src/rabbit_classic_queue.erl capabilities at v4.0.5 (x-queue-leader-locator once feature flag rabbitmq_4.0.0 is on); v3.13.7 lacks it",
		Example: exampleQueue("cq", true, `{"x-queue-type": "classic", "x-queue-leader-locator": "balanced"}`), Probe: probeQueue("cq", "arguments.x-queue-leader-locator")},
	{ID: RuleLocalRandom, What: "the x-local-random exchange type",
		Until: "4.0.0", Effect: Refused,
		Fix:     "use another exchange type, or upgrade",
		Source:  "release-notes/4.0.1.md \"New exchange type: Local Random Exchange\"; deps/rabbit/src/rabbit_exchange_type_local_random.erl",
		Example: `{"exchanges": [{"vhost": "/", "name": "lr", "type": "x-local-random", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}]}`,
		Probe:   Probe{Path: "/api/exchanges/%2F/lr", Field: "type"}},
	{ID: RuleNegDeliveryLimit, What: "a negative delivery-limit in a policy or operator policy (-1 disables the limit from 4.0)",
		Until: "4.0.0", Effect: Refused,
		Fix:     "remove delivery-limit (there is no default limit before 4.0) or set it to 0 or more",
		Source:  "release-notes/4.0.1.md \"Quorum Queues Now Have a Default Redelivery Limit\"; commit c2abfda4e8 \"QQ: a delivery-limit of -1 disables the delivery limit\"; deps/rabbit/src/rabbit_policies.erl validate_policy0 takes Value >= 0 at v3.13.7",
		Example: examplePolicy(`{"delivery-limit": -1}`, "queues"), Probe: probePolicy("delivery-limit")},
	{ID: RuleMasterLocatorLeader, What: "queue-master-locator balanced or least-leaders in a policy or operator policy (3.x takes min-masters, client-local and random)",
		Until: "4.0.0", Effect: Refused,
		Fix:     "use min-masters, client-local or random",
		Source:  "deps/rabbit/src/rabbit_queue_location_validator.erl validate_strategy at v3.13.7 takes the rabbit_queue_master_locator modules (min-masters, client-local, random); deps/rabbit/src/rabbit_classic_queue.erl validate_policy at v4.0.5 takes rabbit_queue_location:queue_leader_locators()",
		Example: examplePolicy(`{"queue-master-locator": "balanced"}`, "queues"), Probe: probePolicy("queue-master-locator"), Also: []string{RuleMasterLocator}},
	{ID: RuleQueueVersion1, What: "x-queue-version: 1",
		From: "4.3.0", Effect: Refused,
		Fix:     "remove x-queue-version or set it to 2",
		Source:  "release-notes/4.3.0.md \"Classic Queues v1 Storage (CQv1) is Removed\"; deps/rabbit/src/rabbit_amqqueue.erl check_queue_version at v4.3.0",
		Example: exampleQueue("cq", true, `{"x-queue-version": 1}`), Probe: probeQueue("cq", "arguments.x-queue-version")},
	{ID: RuleTransientNonExcl, What: "a non-durable (transient) classic queue, which a definitions file cannot make exclusive",
		From: "3.13.0", Effect: Deprecated, Feature: FeatureTransientNonExcl,
		Fix:     "make the queue durable (with x-expires if it should go away)",
		Source:  "deps/rabbit/src/rabbit_amqqueue.erl registers the deprecated feature transient_nonexcl_queues from v3.13.0 (permitted_by_default; denied_by_default in the v4.3.0 sources, but a 4.3.6 node reports permitted_by_default)",
		Example: exampleQueue("tq", false, `{}`), Probe: probeQueue("tq", "")},
	{ID: RuleImportVhostQueueType, What: "a queue that names no type, in a vhost whose default queue type is quorum or stream: the import gives it that type and refuses arguments the type does not take (x-max-priority on quorum)",
		From: "3.11.0", Effect: Refused,
		Fix:     "give the queue a type (x-queue-type), or drop the arguments its vhost's default type does not take",
		Source:  "deps/rabbit/src/rabbit_definitions.erl add_queue_int calls rabbit_amqqueue:augment_declare_args from v3.11.0 (v3.10.8 does not)",
		Example: `{"vhosts": [{"name": "qv", "metadata": {"default_queue_type": "quorum"}}], "queues": [{"vhost": "qv", "name": "u", "durable": true, "auto_delete": false, "arguments": {"x-max-priority": 5}}]}`,
		Probe:   Probe{Path: "/api/queues/qv/u", Field: "arguments.x-max-priority"}},
	{ID: RuleVhostProtected, What: "protected_from_deletion in a vhost's metadata",
		Until: "4.0.6", Effect: Ignored,
		Fix:     "upgrade to protect the vhost; older versions accept the key and delete the vhost anyway",
		Source:  "release-notes/4.0.6.md \"A new mechanism for protecting a virtual host from deletion using metadata\"; deps/rabbit/src/rabbit_vhost.erl at v4.1.0",
		Example: `{"vhosts": [{"name": "kept", "metadata": {"protected_from_deletion": true}}]}`,
		Probe:   Probe{Path: "/api/vhosts/kept", Delete: true}},
	{ID: RuleVhostMetadataWins, What: "a vhost's top-level description or tags where its metadata has other ones: the import keeps the metadata's (before 4.0.6, the top-level ones)",
		From: "4.0.6", Effect: Ignored,
		Fix:     "give the description and tags once, at the top level or in metadata, or make them agree",
		Source:  "deps/rabbit/src/rabbit_definitions.erl add_vhost calls rabbit_vhost:update_metadata after put_vhost from v4.0.6 (v4.0.5 does not)",
		Example: `{"vhosts": [{"name": "described", "description": "top", "metadata": {"description": "meta"}}]}`,
		Probe:   Probe{Path: "/api/vhosts/described", Field: "description", Want: "top"}},
	{ID: RuleProtectedTag, What: "the protected user tag",
		Until: "4.2.0", Effect: Ignored,
		Fix:     "upgrade to protect the user over the HTTP API; older versions keep the tag and grant nothing",
		Source:  "release-notes/4.2.0.md \"Users now can be protected from deletion or modification over the HTTP API\"; deps/rabbitmq_management/src/rabbit_mgmt_util.erl is_protected_user at v4.2.0",
		Example: `{"users": [{"name": "keeper", "password_hash": "", "tags": ["management", "protected"]}]}`,
		Probe:   Probe{Path: "/api/users/keeper", Delete: true}},
}

// vhostMetadataConflict returns the description and tags of a vhost's
// metadata where they differ from its top-level ones (nil where they do
// not, or where either is missing).
func vhostMetadataConflict(v *Vhost) (desc *string, tags []string) {
	if d, ok := v.Metadata["description"].(string); ok && v.Description != nil && d != *v.Description {
		desc = &d
	}
	if mt := tagsOf(v.Metadata, "tags"); mt != nil && v.Tags != nil {
		a, b := slices.Clone(mt), slices.Clone(v.Tags)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			tags = mt
		}
	}
	return desc, tags
}

// tagsOf reads a tag list (a list or RabbitMQ's comma-separated string)
// from a map; nil when absent.
func tagsOf(m map[string]any, k string) []string {
	if _, ok := m[k]; !ok {
		return nil
	}
	return tags(m, k)
}

// KeepAsImported makes d say what RabbitMQ version (a release, as the
// broker reports it) keeps of what its import reads two ways: a vhost
// whose metadata gives another description or other tags than its top
// level gets the metadata's from 4.0.6 (RuleVhostMetadataWins), so that a
// diff compares with what the broker has. Before 4.0.6, and for a version
// warren does not know, d is returned as it is (the top-level ones win,
// as Normalize has it). d itself is never changed: where a vhost changes,
// the result is a copy holding a changed copy of that vhost.
func KeepAsImported(d *Document, version string) *Document {
	if !Rule(RuleVhostMetadataWins).AppliesTo(version) {
		return d
	}
	out := d
	for i, v := range d.Vhosts {
		desc, tags := vhostMetadataConflict(v)
		if desc == nil && tags == nil {
			continue
		}
		if out == d { // the first change: a copy, with its own vhosts
			cp := *d
			cp.Vhosts = slices.Clone(d.Vhosts)
			out = &cp
		}
		c := *v
		if desc != nil {
			c.Description = desc
		}
		if tags != nil {
			c.Tags = tags
		}
		out.Vhosts[i] = &c
	}
	return out
}

// TestedReleases are the RabbitMQ releases the tests run each rule's
// Example on (TestVersionRules); the rabbitmqtest package's Releases must
// list the same (its tests check).
var TestedReleases = []string{"3.10.8", "4.0.5", "4.3.6"}

// Expect is what a node of a release does with the rule's Example by
// default (no deprecated_features setting): the rule's Effect where it
// applies (Accepted for a Deprecated rule), else the effect of the first
// rule of Also that applies, else Otherwise (Accepted when unset).
func (r VersionRule) Expect(release string) Effect {
	if r.AppliesTo(release) {
		if r.Effect == Deprecated {
			return Accepted
		}
		return r.Effect
	}
	for _, id := range r.Also {
		if e := Rule(id).Expect(release); e != Accepted {
			return e
		}
	}
	if r.Otherwise != "" {
		return r.Otherwise
	}
	return Accepted
}

// checked says, for the docs, what the tests see on each tested release,
// and which series between them no test runs although the rule's range
// starts or ends there.
func (r VersionRule) checked() string {
	var parts []string
	for _, rel := range TestedReleases {
		parts = append(parts, rel+" "+string(r.Expect(rel)))
	}
	s := strings.Join(parts, ", ") + " (TestVersionRules)"
	var untested []string
	for _, v := range []string{r.From, r.Until} {
		p, ok := versionOf(v)
		if !ok {
			continue
		}
		series := fmt.Sprintf("%d.%d", p[0], p[1])
		if !slices.ContainsFunc(TestedReleases, func(rel string) bool { return strings.HasPrefix(rel, series+".") }) && !slices.Contains(untested, series) {
			untested = append(untested, series)
		}
	}
	if len(untested) > 0 {
		s += "; where it starts or ends (" + strings.Join(untested, ", ") + ") no test runs"
	}
	return s
}

// Rule returns the row with that ID; it panics on an unknown one (a bug).
func Rule(id string) VersionRule {
	for _, r := range VersionRules {
		if r.ID == id {
			return r
		}
	}
	panic("definitions: no version rule " + id)
}

// versionRange is a set of releases [lo, hi); a nil hi is open.
type versionRange struct {
	lo, hi []int
}

// ParseRabbitMQVersion reads what --rabbitmq-version takes: "" (every
// supported series), a series ("4.0": all its patch releases) or a release
// ("4.0.5", or what /api/overview reports, such as "4.0.5+2.g1234").
func parseVersionRange(v string) (versionRange, error) {
	if v == "" {
		lo, _ := versionOf(SupportedSeries[0])
		return versionRange{lo: lo}, nil
	}
	p, ok := versionOf(v)
	if !ok || len(p) < 2 {
		return versionRange{}, fmt.Errorf("RabbitMQ version %q: want a series such as 4.0 or a release such as 4.0.5", v)
	}
	series := strings.Join([]string{strconv.Itoa(p[0]), strconv.Itoa(p[1])}, ".")
	if !slices.Contains(SupportedSeries, series) && !slices.Contains(OutOfSupportSeries, series) {
		return versionRange{}, fmt.Errorf("RabbitMQ version %q: warren knows the rules of %s and %s", v,
			strings.Join(SupportedSeries, ", "), strings.Join(OutOfSupportSeries, ", "))
	}
	if len(p) == 2 {
		return versionRange{lo: []int{p[0], p[1], 0}, hi: []int{p[0], p[1] + 1, 0}}, nil
	}
	p = p[:3]
	return versionRange{lo: p, hi: []int{p[0], p[1], p[2] + 1}}, nil
}

// CheckRabbitMQVersion reports whether warren knows the rules of a version,
// and whether RabbitMQ still supports it.
func CheckRabbitMQVersion(v string) (supported bool, err error) {
	if _, err := parseVersionRange(v); err != nil {
		return false, err
	}
	if v == "" {
		return true, nil
	}
	p, _ := versionOf(v)
	return slices.Contains(SupportedSeries, fmt.Sprintf("%d.%d", p[0], p[1])), nil
}

// versionOf parses the leading dotted numbers of a version.
func versionOf(v string) ([]int, bool) {
	p := versionParts(v)
	return p, len(p) > 0
}

// CompareVersions is warren's one comparison of RabbitMQ versions: -1, 0
// or +1 as a is before, the same as or after b. Versions compare
// numerically, part by part ("3.5.7" < "3.6.0" < "3.10.8"); a missing
// part is 0 ("4.0" is "4.0.0"); what follows the leading numbers
// ("+2.g1234", "-rc.1", ".gad0c0bd") is ignored; a version with no
// leading number ("") is before every other.
func CompareVersions(a, b string) int { return cmpVersion(versionParts(a), versionParts(b)) }

// cmpVersion is CompareVersions on versions already split into numbers.
func cmpVersion(a, b []int) int {
	for i := range max(len(a), len(b)) {
		x, y := 0, 0
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// coverage says how much of the checked range a rule's range covers.
type coverage int

const (
	coversNone coverage = iota
	coversSome
	coversAll
)

func (r VersionRule) covers(set versionRange) coverage {
	from, _ := versionOf(r.From)
	until, hasUntil := versionOf(r.Until)
	// The rule's range [from, until) against the set's [lo, hi).
	if hasUntil && cmpVersion(until, set.lo) <= 0 {
		return coversNone
	}
	if set.hi != nil && r.From != "" && cmpVersion(from, set.hi) >= 0 {
		return coversNone
	}
	startsBefore := r.From == "" || cmpVersion(from, set.lo) <= 0
	endsAfter := !hasUntil || (set.hi != nil && cmpVersion(until, set.hi) >= 0)
	if startsBefore && endsAfter {
		return coversAll
	}
	return coversSome
}

// Versions says which versions a rule applies to, in words.
func (r VersionRule) Versions() string {
	switch {
	case r.From == "" && r.Until == "":
		return "every version"
	case r.From == "":
		return "before " + r.Until
	case r.Until == "":
		return r.From + " and later"
	default:
		return r.From + " to before " + r.Until
	}
}

// versionTableMarkdown renders docs/rabbitmq-versions.md.
func versionTableMarkdown() string {
	var b strings.Builder
	b.WriteString("# What changes between RabbitMQ versions\n\n")
	b.WriteString("`warren validate --rabbitmq-version X` applies these rules for version X (a series such as `4.0`, or a\n")
	b.WriteString("release such as `4.0.5`); `warren diff` and `warren apply` read the version from the broker. Without a\n")
	b.WriteString("version, what every supported version refuses is an error and what only some refuse is a warning (W120)\n")
	b.WriteString("naming them. A series covers all its patch releases: a rule that starts within it is a warning for the\n")
	b.WriteString("series and an error for the releases it covers.\n\n")
	fmt.Fprintf(&b, "Supported series: %s. Known but out of RabbitMQ's support: %s.\n\n",
		strings.Join(SupportedSeries, ", "), strings.Join(OutOfSupportSeries, ", "))
	b.WriteString("`warren diff` and `warren apply` also read the broker's deprecated features (GET /api/deprecated-features):\n")
	b.WriteString("for a rule tied to one, what the node permits decides, not its version, where the broker says (4.2 and later;\n")
	b.WriteString("4.0.5 lists each feature's phase in the release only, 3.10.8 has no such endpoint).\n\n")
	fmt.Fprintf(&b, "`warren watch` checks an unchanged broker with one conditional request where GET /api/definitions carries an\n"+
		"ETag: %s and later (rabbitmq-server #16724, #17121; seen on 4.3.6, absent on 4.0.5 and 3.10.8: `TestWatch`).\n\n", DefinitionsTagSince)
	b.WriteString("Two changes in what a topic permission does, which no import shows (both seen on 4.3.6, and not on 4.0.5 and 3.10.8;\n" +
		"4.1 and 4.2 were not run here):\n\n" +
		"- **Topic permissions go with their exchange** on 4.3: deleting an exchange (an auto-delete one losing its last\n" +
		"  binding too) deletes the topic permissions on it, and a user without one may publish with any routing key.\n" +
		"  4.0 and before keep them. A plan that replaces an exchange writes them again after it on every version from\n" +
		"  4.1, and `warren access --audit` warns (W208) of one on an auto-delete exchange\n" +
		"  (`TestAuditTopicPermissionOnAutoDeleteExchange`, `TestApplyReplaceExchangeKeepsTopicPermissions`).\n" +
		"- **{username} and {vhost} are escaped** on 4.3: a topic permission's pattern gets the names with their\n" +
		"  regular-expression metacharacters escaped (user a.b's `^{username}$` matches `a.b` alone); 4.0 and before put\n" +
		"  them in as text (it matches `axb` too). For 4.1 and 4.2, `warren access` says it cannot tell where a name has\n" +
		"  a metacharacter (`TestAccessAgreesWithBrokerOnNames`).\n\n")
	fmt.Fprintf(&b, "The last column is what the tests see when they post each rule's example to a real node of %s\n", strings.Join(TestedReleases, ", "))
	b.WriteString("(`TestVersionRules` in seeders/rabbitmq): refused (4xx), ignored (accepted, the setting has no effect), dropped\n")
	b.WriteString("(accepted, the object is not created) or accepted.\n\n")
	b.WriteString("This file is generated from `definitions/rabbitmq_versions.go` (`WARREN_UPDATE=1 go test ./definitions`).\n\n")
	b.WriteString("| rule | what | versions | effect | fix | source | checked on a broker |\n|---|---|---|---|---|---|---|\n")
	for _, r := range VersionRules {
		effect := string(r.Effect)
		if r.Feature != "" {
			effect += fmt.Sprintf(" (deprecated feature %s: a node's deprecated_features.permit.%s decides)", r.Feature, r.Feature)
		}
		if r.Otherwise != "" {
			effect += "; " + string(r.Otherwise) + " by other versions"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", r.ID, r.What, r.Versions(), effect, r.Fix,
			strings.ReplaceAll(r.Source, "|", "\\|"), r.checked())
	}
	return b.String()
}

// DefinitionsTagSince is the first release whose GET /api/definitions
// carries an ETag, answering If-None-Match with 304 when nothing changed.
const DefinitionsTagSince = "4.3.5"

// AppliesTo reports whether the rule holds for every release of version
// (a series or a release, as RabbitMQVersion takes).
func (r VersionRule) AppliesTo(version string) bool {
	set, err := parseVersionRange(version)
	return err == nil && r.covers(set) == coversAll
}

// versionParts reads the leading dotted numbers of a version: [4 0 5] of
// "4.0.5+2.g1234", nil of "".
func versionParts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, digits := 0, 0
		for _, r := range p {
			if r < '0' || r > '9' {
				break
			}
			n = n*10 + int(r-'0')
			digits++
		}
		if digits == 0 {
			break
		}
		out = append(out, n)
		if digits < len(p) {
			break
		}
	}
	return out
}
