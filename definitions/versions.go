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
)

// VersionRule is one row of the table: what a range of versions does.
type VersionRule struct {
	ID      string
	What    string // what the rule is about, as a noun phrase
	From    string // first version it applies to; "" means every older one
	Until   string // first version it no longer applies to; "" means none
	Effect  Effect
	Fix     string // what to do instead
	Source  string // release note or source file, at a tag
	Checked string // how warren checked it on a real broker, if it did
}

// Rule IDs Check refers to.
const (
	RuleCMQRemoved          = "cmq-removed"
	RuleOperatorCMQ         = "operator-policy-cmq"
	RuleOperatorCMQSync     = "operator-policy-cmq-sync"
	RuleMissingBindingEnd   = "binding-missing-end-refused"
	RuleApplyToQueueType    = "apply-to-queue-type"
	RuleConsumerTimeout     = "policy-consumer-timeout"
	RuleTargetGroupSize     = "policy-target-group-size"
	RuleStreamFilterSize    = "policy-stream-filter-size-bytes"
	RuleOperatorOverflowQV  = "operator-policy-overflow-queue-version"
	RuleOperatorMasterLoc   = "operator-policy-queue-master-locator"
	RuleMasterLocator       = "queue-master-locator-denied"
	RuleDisconnectTimeout   = "policy-consumer-disconnected-timeout"
	RuleClassicLeaderLoc    = "classic-queue-leader-locator"
	RuleLocalRandom         = "exchange-x-local-random"
	RuleQueueMode           = "x-queue-mode-removed"
	RuleQueueVersion1       = "x-queue-version-1-removed"
	RuleNegDeliveryLimit    = "policy-negative-delivery-limit"
	RuleMasterLocatorLeader = "policy-queue-master-locator-leader-values"
	RuleTransientNonExcl    = "transient-non-exclusive-queues"
	RuleVhostProtected      = "vhost-protected-from-deletion"
	RuleProtectedTag        = "user-tag-protected"
	// Not a refusal: when the import gives an untyped queue its vhost's
	// default queue type (and checks its arguments for that type).
	RuleImportVhostQueueType = "import-untyped-queue-vhost-default-type"
)

// VersionRules is the table.
var VersionRules = []VersionRule{
	{ID: RuleCMQRemoved, What: "classic queue mirroring policy keys (ha-mode, ha-params, ha-sync-mode, ha-sync-batch-size, ha-promote-on-shutdown, ha-promote-on-failure)",
		From: "4.0.0", Effect: Refused,
		Fix:     "remove the ha-* keys (warren export --trim strip_cmq_keys_from_policies,drop_empty_policies) and move replicated queues to quorum queues",
		Source:  "release-notes/4.0.1.md \"Classic Queues is Now a Non-Replicated Queue Type\"; deps/rabbit/src/rabbit_mirror_queue_misc.erl at v4.0.5 registers no policy validator",
		Checked: "4.0.5 answers 400 \"… are not recognised policy settings\" (corpus, TestBrokerRefuses)"},
	{ID: RuleOperatorCMQ, What: "ha-mode and ha-params in operator policies",
		Until: "3.11.10", Effect: Refused,
		Fix:     "set classic queue mirroring in a user policy",
		Source:  "release-notes/3.11.10.md; deps/rabbit/src/rabbit_mirror_queue_misc.erl registers operator_policy_validator ha-mode, ha-params from v3.11.10",
		Checked: "3.10.8 answers 400 (TestBrokerRefuses)"},
	{ID: RuleOperatorCMQSync, What: "ha-sync-mode in operator policies",
		Until: "3.11.15", Effect: Refused,
		Fix:    "set ha-sync-mode in a user policy",
		Source: "release-notes/3.11.15.md \"Operator policies now can define ha-sync-mode\""},
	{ID: RuleMissingBindingEnd, What: "a binding whose source exchange or destination does not exist (for example amq.rabbitmq.log when the log exchange is off)",
		From: "3.13.6", Effect: Refused,
		Fix:     "define the exchange or queue, or drop the binding; older versions dropped such a binding silently",
		Source:  "commit f1be7bacc2 \"Handle database failures when adding/removing bindings\" (first in v3.13.6): deps/rabbit/src/rabbit_definitions.erl add_binding_int throws rabbit_binding:add's error",
		Checked: "4.0.5 answers 400 resources_missing, 3.10.8 answers 204 and drops the binding (IMPORT_RESULTS_4.0.5.tsv)"},
	{ID: RuleApplyToQueueType, What: "policy apply-to classic_queues, quorum_queues or streams",
		Until: "3.12.0", Effect: Refused,
		Fix:    "use apply-to: queues",
		Source: "deps/rabbit/src/rabbit_policy.erl apply_to_validation at v3.12.0 (release-notes/3.12.0.md uses --apply-to quorum_queues)"},
	{ID: RuleConsumerTimeout, What: "the consumer-timeout policy key",
		Until: "3.12.0", Effect: Refused,
		Fix:    "set consumer_timeout in rabbitmq.conf",
		Source: "deps/rabbit/src/rabbit_policies.erl registers consumer-timeout from v3.12.0"},
	{ID: RuleTargetGroupSize, What: "the target-group-size policy key",
		Until: "3.13.0", Effect: Refused,
		Fix:    "remove it",
		Source: "deps/rabbit/src/rabbit_quorum_queue.erl registers target-group-size from v3.13.0"},
	{ID: RuleStreamFilterSize, What: "the stream-filter-size-bytes policy key",
		Until: "3.13.0", Effect: Refused,
		Fix:    "remove it",
		Source: "deps/rabbit/src/rabbit_policies.erl registers stream-filter-size-bytes from v3.13.0"},
	{ID: RuleOperatorOverflowQV, What: "overflow and queue-version in operator policies",
		Until: "3.12.7", Effect: Refused,
		Fix:    "set them in a user policy",
		Source: "deps/rabbit/src/rabbit_policies.erl registers operator_policy_validator overflow, queue-version from v3.12.7"},
	{ID: RuleOperatorMasterLoc, What: "queue-master-locator in operator policies",
		Until: "4.0.0", Effect: Refused,
		Fix:    "set it in a user policy",
		Source: "deps/rabbit/src/rabbit_classic_queue.erl at v4.0.5 registers operator_policy_validator queue-master-locator"},
	{ID: RuleMasterLocator, What: "queue-master-locator (policy key) and x-queue-master-locator (queue argument)",
		From: "4.3.0", Effect: Refused,
		Fix:    "use queue-leader-locator (client-local or balanced)",
		Source: "release-notes/4.3.0.md \"Deprecated Features\": queue_master_locator is denied_by_default; deps/rabbit/src/rabbit_classic_queue.erl validate_policy at v4.3.0"},
	{ID: RuleDisconnectTimeout, What: "the consumer-disconnected-timeout policy key",
		Until: "4.3.0", Effect: Refused,
		Fix:    "remove it",
		Source: "deps/rabbit/src/rabbit_policies.erl registers consumer-disconnected-timeout from v4.3.0"},
	{ID: RuleClassicLeaderLoc, What: "x-queue-leader-locator on a classic queue",
		Until: "4.0.0", Effect: Refused,
		Fix:    "use x-queue-master-locator on classic queues before 4.0",
		Source: "deps/rabbit/src/rabbit_classic_queue.erl capabilities at v4.0.5 (x-queue-leader-locator once feature flag rabbitmq_4.0.0 is on); v3.13.7 lacks it"},
	{ID: RuleLocalRandom, What: "the x-local-random exchange type",
		Until: "4.0.0", Effect: Refused,
		Fix:    "use another exchange type, or upgrade",
		Source: "release-notes/4.0.1.md \"New exchange type: Local Random Exchange\"; deps/rabbit/src/rabbit_exchange_type_local_random.erl"},
	{ID: RuleQueueMode, What: "the x-queue-mode queue argument (any value)",
		From: "4.3.0", Effect: Refused,
		Fix:    "remove x-queue-mode (classic queues v2 page messages out by themselves)",
		Source: "release-notes/4.3.0.md \"Classic Queues v1 Storage (CQv1) is Removed\"; commit a67de22527"},
	{ID: RuleNegDeliveryLimit, What: "a negative delivery-limit in a policy or operator policy (-1 disables the limit from 4.0)",
		Until: "4.0.0", Effect: Refused,
		Fix:     "remove delivery-limit (there is no default limit before 4.0) or set it to 0 or more",
		Source:  "release-notes/4.0.1.md \"Quorum Queues Now Have a Default Redelivery Limit\"; commit c2abfda4e8 \"QQ: a delivery-limit of -1 disables the delivery limit\"; deps/rabbit/src/rabbit_policies.erl validate_policy0 takes Value >= 0 at v3.13.7",
		Checked: "3.10.8 answers 400 \"-1 is not a valid delivery limit\", 4.0.5 accepts it (TestBrokerRefuses)"},
	{ID: RuleMasterLocatorLeader, What: "queue-master-locator balanced or least-leaders in a policy or operator policy (3.x takes min-masters, client-local and random)",
		Until: "4.0.0", Effect: Refused,
		Fix:     "use min-masters, client-local or random",
		Source:  "deps/rabbit/src/rabbit_queue_location_validator.erl validate_strategy at v3.13.7 takes the rabbit_queue_master_locator modules (min-masters, client-local, random); deps/rabbit/src/rabbit_classic_queue.erl validate_policy at v4.0.5 takes rabbit_queue_location:queue_leader_locators()",
		Checked: "3.10.8 answers 400 \"invalid queue-master-locator value\", 4.0.5 accepts it (TestBrokerRefuses)"},
	{ID: RuleQueueVersion1, What: "x-queue-version: 1",
		From: "4.3.0", Effect: Refused,
		Fix:    "remove x-queue-version or set it to 2",
		Source: "release-notes/4.3.0.md \"Classic Queues v1 Storage (CQv1) is Removed\"; deps/rabbit/src/rabbit_amqqueue.erl check_queue_version at v4.3.0"},
	{ID: RuleTransientNonExcl, What: "a non-durable (transient) classic queue, which a definitions file cannot make exclusive",
		From: "4.3.0", Effect: Refused,
		Fix:    "make the queue durable (with x-expires if it should go away), or set deprecated_features.permit.transient_nonexcl_queues = true on every node",
		Source: "release-notes/4.3.0.md \"Deprecated Features are Now Disabled by Default\"; deps/rabbit/src/rabbit_amqqueue.erl is_queue_args_combination_permitted at v4.3.0"},
	{ID: RuleImportVhostQueueType, What: "a queue that names no type, in a vhost whose default queue type is quorum or stream: the import gives it that type and refuses arguments the type does not take (x-max-priority on quorum)",
		From: "3.11.0", Effect: Refused,
		Fix:     "give the queue a type (x-queue-type), or drop the arguments its vhost's default type does not take",
		Source:  "deps/rabbit/src/rabbit_definitions.erl add_queue_int calls rabbit_amqqueue:augment_declare_args from v3.11.0 (v3.10.8 does not)",
		Checked: "3.10.8 creates it as a classic queue (204), 4.0.5 refuses x-max-priority on it (400) (TestBrokerRefuses)"},
	{ID: RuleVhostProtected, What: "protected_from_deletion in a vhost's metadata",
		Until: "4.0.6", Effect: Ignored,
		Fix:     "upgrade to protect the vhost; older versions accept the key and delete the vhost anyway",
		Source:  "release-notes/4.0.6.md \"A new mechanism for protecting a virtual host from deletion using metadata\"; deps/rabbit/src/rabbit_vhost.erl at v4.1.0",
		Checked: "3.10.8 ignores it silently (corpus README, case22)"},
	{ID: RuleProtectedTag, What: "the protected user tag",
		Until: "4.2.0", Effect: Ignored,
		Fix:    "upgrade to protect the user over the HTTP API; older versions keep the tag and grant nothing",
		Source: "release-notes/4.2.0.md \"Users now can be protected from deletion or modification over the HTTP API\"; deps/rabbitmq_management/src/rabbit_mgmt_util.erl is_protected_user at v4.2.0"},
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
	b.WriteString("This file is generated from `definitions/versions.go` (`WARREN_UPDATE=1 go test ./definitions`).\n\n")
	b.WriteString("| rule | what | versions | effect | fix | source | checked on a broker |\n|---|---|---|---|---|---|---|\n")
	for _, r := range VersionRules {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", r.ID, r.What, r.Versions(), r.Effect, r.Fix,
			strings.ReplaceAll(r.Source, "|", "\\|"), r.Checked)
	}
	return b.String()
}

// AppliesTo reports whether the rule holds for every release of version
// (a series or a release, as RabbitMQVersion takes).
func (r VersionRule) AppliesTo(version string) bool {
	set, err := parseVersionRange(version)
	return err == nil && r.covers(set) == coversAll
}
