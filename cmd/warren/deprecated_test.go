package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

const transientDefs = "queues:\n  - {name: tq, vhost: /, durable: false}\n"

// TestDeprecatedFeatureDenied: on a node configured to deny the deprecated
// feature transient_nonexcl_queues, diff and apply report a non-durable
// classic queue as an error at its place in the files and change nothing,
// although the version permits it by default. A broker before 4.2 does
// not say what its node permits: there warren warns (W125), and the apply
// fails on the broker's refusal without creating the queue. Brokers before
// 3.13 have no deprecated features, nor the setting: TestDeprecatedFeatureDefault
// covers them.
func TestDeprecatedFeatureDenied(t *testing.T) {
	release := rabbitmqtest.Release()
	if !definitions.Rule(definitions.RuleTransientNonExcl).AppliesTo(release) {
		t.Skipf("RabbitMQ %s has no deprecated features (3.13 and later have), nor the setting; TestDeprecatedFeatureDefault checks it", release)
	}
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{
		Config: []string{"deprecated_features.permit.transient_nonexcl_queues = false"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	useNode(t, n)
	var major, minor int
	fmt.Sscanf(n.Version, "%d.%d", &major, &minor)
	saysState := major > 4 || major == 4 && minor >= 2
	defs := writeTemp(t, "defs.yaml", transientDefs)
	for _, args := range [][]string{{"diff", "--keep-guest", defs}, {"apply", "--yes", "--keep-guest", defs}} {
		code, out, errOut := warren(t, args...)
		switch {
		case saysState && (code != exitError || !strings.Contains(errOut, "defs.yaml:2:") || !strings.Contains(errOut, "[E063]") ||
			!strings.Contains(errOut, "transient_nonexcl_queues") || !strings.Contains(errOut, "nothing was changed")):
			t.Errorf("%s on RabbitMQ %s denying transient_nonexcl_queues: want E063 at the queue and nothing done, got exit %d%s\n%s%s",
				args[0], n.Version, code, mismatch(n), out, errOut)
		case !saysState && (!strings.Contains(errOut, "[W125]") || args[0] == "diff" && code != exitDrift || args[0] == "apply" && code != exitError):
			t.Errorf("%s on RabbitMQ %s denying transient_nonexcl_queues, which the broker does not report: want W125 and the broker's refusal on apply, got exit %d%s\n%s%s",
				args[0], n.Version, code, mismatch(n), out, errOut)
		}
	}
	if err := n.Do(context.Background(), "GET", "/api/queues/%2F/tq", nil, nil); err == nil {
		t.Errorf("RabbitMQ %s: apply created the queue the node refuses", n.Version)
	}
}

// TestDeprecatedFeatureDefault: on a node with the default configuration a
// non-durable classic queue is applied, and a diff after the apply is
// empty. The warning naming the setting that would refuse it (W125) is
// said for the broker's own version: where the node says what it permits
// (4.2 and later) and permits it, there is nothing to warn of; where it
// does not say (3.13 to 4.1), warren warns; before 3.13 there is no such
// setting.
func TestDeprecatedFeatureDefault(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	defs := writeTemp(t, "defs.yaml", transientDefs)
	code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", defs)
	if code != exitOK {
		t.Fatalf("apply on RabbitMQ %s: exit %d%s\n%s%s", n.Version, code, mismatch(n), out, errOut)
	}
	var major, minor int
	fmt.Sscanf(n.Version, "%d.%d", &major, &minor)
	saysState := major > 4 || major == 4 && minor >= 2
	hasSetting := definitions.Rule(definitions.RuleTransientNonExcl).AppliesTo(n.Version)
	warned := strings.Contains(errOut, "[W125]") && strings.Contains(errOut, "deprecated_features.permit.transient_nonexcl_queues = false")
	if want := hasSetting && !saysState; warned != want {
		t.Errorf("apply on RabbitMQ %s: W125 naming the setting said: %v, want %v%s\n%s", n.Version, warned, want, mismatch(n), errOut)
	}
	if err := n.Do(context.Background(), "GET", "/api/queues/%2F/tq", nil, nil); err != nil {
		t.Errorf("RabbitMQ %s: apply did not create the queue: %v", n.Version, err)
	}
	mustInSync(t, "--keep-guest", defs)
}

func mismatch(n *rabbitmqtest.Node) string {
	if m := n.Mismatch(); m != "" {
		return " (" + m + ")"
	}
	return ""
}
