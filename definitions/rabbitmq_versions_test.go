package definitions

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/warren-tool/warren/internal/golden"
	"github.com/warren-tool/warren/schema"
)

// TestVersionsDoc keeps docs/rabbitmq-versions.md in step with the table.
func TestVersionsDocGolden(t *testing.T) {
	golden.File(t, "../docs/rabbitmq-versions.md", versionTableMarkdown())
}

func TestVersionRuleCoverage(t *testing.T) {
	cases := []struct {
		rule, version string
		want          coverage
	}{
		{RuleCMQRemoved, "", coversSome},
		{RuleCMQRemoved, "3.13", coversNone},
		{RuleCMQRemoved, "3.10", coversNone},
		{RuleCMQRemoved, "4.0", coversAll},
		{RuleCMQRemoved, "4.0.5", coversAll},
		{RuleCMQRemoved, "4.3", coversAll},
		{RuleMissingBindingEnd, "3.13", coversSome},
		{RuleMissingBindingEnd, "3.13.5", coversNone},
		{RuleMissingBindingEnd, "3.13.7", coversAll},
		{RuleMissingBindingEnd, "3.10", coversNone},
		{RuleMissingBindingEnd, "", coversSome},
		{RuleMissingBindingEnd, "4.0", coversAll},
		{RuleApplyToQueueType, "3.10", coversAll},
		{RuleApplyToQueueType, "", coversNone},
		{RuleVhostProtected, "4.0", coversSome},
		{RuleVhostProtected, "4.0.5", coversAll},
		{RuleVhostProtected, "4.1", coversNone},
		{RuleOperatorCMQ, "3.10.8", coversAll},
		{RuleOperatorCMQ, "3.13", coversNone},
		{RuleQueueVersion1, "4.3.2", coversAll},
		{RuleQueueVersion1, "4.2", coversNone},
		{RuleQueueVersion1, "", coversSome},
		{RuleOperatorCMQ, "4.0.5+2.g1234", coversNone},
	}
	for _, tc := range cases {
		set, err := parseVersionRange(tc.version)
		if err != nil {
			t.Fatal(err)
		}
		if got := Rule(tc.rule).covers(set); got != tc.want {
			t.Errorf("%s on %q: got %d, want %d", tc.rule, tc.version, got, tc.want)
		}
	}
	for _, bad := range []string{"4", "2.8", "x", "5.0"} {
		if _, err := CheckRabbitMQVersion(bad); err == nil {
			t.Errorf("CheckRabbitMQVersion(%q): want an error", bad)
		}
	}
	if ok, _ := CheckRabbitMQVersion("3.10"); ok {
		t.Error("3.10 reported as supported")
	}
}

func TestNearest(t *testing.T) {
	for in, want := range map[string]string{"max-lenght": "max-length", "messsage-ttl": "message-ttl", "ha-mod": "ha-mode", "zzzzzzzz": ""} {
		if got := nearest(in, []string{"max-length", "max-length-bytes", "message-ttl", "ha-mode", "expires"}); got != want {
			t.Errorf("nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVersionRuleExamples: Check's verdict on each rule's example, for
// each tested release, is what the table expects the broker to do
// (TestVersionRules in seeders/rabbitmq checks the table against real
// nodes). A rule tied to a deprecated feature follows the node's state.
func TestVersionRuleExamples(t *testing.T) {
	// Check cannot know that the broker lacks the binding's exchange (it
	// warns, W103) or the topic permission's: the broker decides, and
	// LiveReferences checks against it.
	brokerDecides := map[string]bool{RuleMissingBindingEnd: true, RuleTopicMissingExchange: true}
	verdict := func(diags schema.Diagnostics) Effect {
		switch {
		case diags.HasErrors():
			return Refused
		case slices.ContainsFunc(diags, func(d schema.Diagnostic) bool { return d.Code == schema.WQueueNotCreated }):
			return Dropped
		case slices.ContainsFunc(diags, func(d schema.Diagnostic) bool { return d.Code == schema.WVersionIgnored }):
			return Ignored
		}
		return Accepted
	}
	for _, r := range VersionRules {
		doc, diags := Parse(r.ID+".json", []byte(r.Example))
		if diags.HasErrors() || r.Probe.Path == "" {
			t.Errorf("%s: the example does not load, or has no probe:\n%s", r.ID, diags.Error())
			continue
		}
		for _, rel := range TestedReleases {
			if brokerDecides[r.ID] {
				continue
			}
			if got, want := verdict(Check(doc, CheckOptions{RabbitMQVersion: rel})), r.Expect(rel); got != want {
				t.Errorf("%s on %s: Check says %s, the table %s:\n%s", r.ID, rel, got, want, Check(doc, CheckOptions{RabbitMQVersion: rel}).Error())
			}
			if r.Feature == "" {
				continue
			}
			for state, want := range map[string]Effect{"permitted": Accepted, "denied": r.Effect} {
				if want == Deprecated {
					want = Refused
				}
				got := verdict(Check(doc, CheckOptions{RabbitMQVersion: rel, DeprecatedFeatures: map[string]string{r.Feature: state}}))
				if got != want {
					t.Errorf("%s on %s with %s %s: Check says %s, want %s", r.ID, rel, r.Feature, state, got, want)
				}
			}
		}
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"3.0.4", "3.6.0", -1},
		{"3.6.0", "3.6.0", 0},
		{"3.10.8", "3.6.0", 1},
		{"3.10.8", "3.9.29", 1}, // numerically, not as text
		{"3.5.7+rc.1", "3.6", -1},
		{"3.8.6.gad0c0bd", "3.6.0", 1},
		{"4.0", "4.0.0", 0},
		{"4.0.5+2.g1234", "4.0.5", 0},
		{"4.3.0-rc.1", "4.3", 0},
		{"", "3.6.0", -1},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// A topic permission on an exchange no file defines is W110 where the
// versions checked include one that refuses it without the exchange on
// the broker (4.3.2 and later), and nothing on older versions; amq.* and
// the files' own exchanges are never a warning.
func TestTopicPermissionExchangeWarning(t *testing.T) {
	doc, diags := Parse("defs.json", []byte(`{"users": [{"name": "u", "password_hash": "", "tags": []}], "vhosts": [{"name": "v"}],
	  "exchanges": [{"name": "defined", "vhost": "v", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
	  "topic_permissions": [
	    {"user": "u", "vhost": "v", "exchange": "defined", "write": ".*", "read": ".*"},
	    {"user": "u", "vhost": "v", "exchange": "amq.topic", "write": ".*", "read": ".*"},
	    {"user": "u", "vhost": "v", "exchange": "elsewhere", "write": ".*", "read": ".*"}]}`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for version, want := range map[string]string{
		"4.3.6": `/topic_permissions/2/exchange: exchange "elsewhere" is not defined in the files; it must exist on the broker, or RabbitMQ 4.3.6 refuses the topic permission (no_such_exchange) [W110]`,
		"":      `/topic_permissions/2/exchange: exchange "elsewhere" is not defined in the files; it must exist on the broker, or RabbitMQ 4.3.2 and later refuse the topic permission (no_such_exchange; older versions keep it) [W110]`,
		"4.0.5": "",
		"4.3.1": "",
	} {
		var got []string
		for _, d := range Check(doc, CheckOptions{RabbitMQVersion: version}) {
			if d.Code == schema.WUndefinedTopicExchange {
				got = append(got, strings.TrimPrefix(d.String(), d.File+":"+strconv.Itoa(d.Pos.Line)+":"+strconv.Itoa(d.Pos.Col)+": "))
			}
		}
		switch {
		case want == "" && len(got) > 0:
			t.Errorf("version %q: want no W110, got %q", version, got)
		case want != "" && (len(got) != 1 || got[0] != want):
			t.Errorf("version %q: got %q, want %q", version, got, want)
		}
	}
}
