package main

import (
	"context"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestBrokerVersionRules: diff and apply check the files against the
// broker's own version before touching anything. A classic mirroring
// policy is a warning for 3.x (applied) and an error for 4.x (nothing done).
func TestBrokerVersionRules(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	var ov struct {
		RabbitMQVersion string `json:"rabbitmq_version"`
	}
	if err := n.Do(context.Background(), "GET", "/api/overview", nil, &ov); err != nil {
		t.Fatal(err)
	}
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: mirrored}\npolicies:\n  - {name: ha, vhost: mirrored, pattern: \".*\", definition: {ha-mode: all}}\n")
	refused := definitions.Rule(definitions.RuleCMQRemoved).AppliesTo(ov.RabbitMQVersion)
	for _, args := range [][]string{{"diff", "--keep-guest", defs}, {"apply", "--yes", "--keep-guest", defs}} {
		cmd := args[0]
		code, out, errOut := warren(t, args...)
		// 3.10.8 is out of support, 4.0.5 is not: the command says which.
		supported, _ := definitions.CheckRabbitMQVersion(ov.RabbitMQVersion)
		if said := strings.Contains(errOut, "RabbitMQ "+ov.RabbitMQVersion+", which is out of support"); said == supported {
			t.Errorf("%s on RabbitMQ %s (supported: %v): out of support said: %v\n%s", cmd, ov.RabbitMQVersion, supported, said, errOut)
		}
		switch {
		case refused:
			if code != exitError || !strings.Contains(errOut, "[E063]") || !strings.Contains(errOut, "defs.yaml:4:") ||
				!strings.Contains(errOut, "for RabbitMQ "+ov.RabbitMQVersion+" (the broker's version); nothing was changed") {
				t.Fatalf("%s on RabbitMQ %s: want E063 at the policy and nothing done, got exit %d\n%s%s", cmd, ov.RabbitMQVersion, code, out, errOut)
			}
		case cmd == "diff" && code != exitDrift, cmd == "apply" && code != exitOK:
			t.Fatalf("%s on RabbitMQ %s: exit %d\n%s%s", cmd, ov.RabbitMQVersion, code, out, errOut)
		case !strings.Contains(errOut, "[W120]"):
			t.Errorf("%s on RabbitMQ %s: want the W120 warning, got\n%s", cmd, ov.RabbitMQVersion, errOut)
		}
	}
	err := n.Do(context.Background(), "GET", "/api/vhosts/mirrored", nil, nil)
	if refused && err == nil {
		t.Errorf("RabbitMQ %s: apply created the vhost although the files hold what the broker refuses", ov.RabbitMQVersion)
	}
	if !refused && err != nil {
		t.Errorf("RabbitMQ %s: apply did not create the vhost: %v", ov.RabbitMQVersion, err)
	}
}
