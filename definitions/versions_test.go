package definitions

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVersionsDoc keeps docs/rabbitmq-versions.md in step with the table.
func TestVersionsDocGolden(t *testing.T) {
	const path = "../docs/rabbitmq-versions.md"
	want := versionTableMarkdown()
	if os.Getenv("WARREN_UPDATE") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("%s is out of date (WARREN_UPDATE=1 go test ./definitions) (-want +got):\n%s", path, diff)
	}
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
		{RuleQueueMode, "4.3.2", coversAll},
		{RuleQueueMode, "4.2", coversNone},
		{RuleQueueMode, "", coversSome},
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
