package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/huaweicloud/huaweifake"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// A saved plan and an inventory entry carry an Amazon MQ broker's size
// (--instance-type, --deployment-mode): apply PLAN.json checks the limits
// the diff that saved it checked, without the flags, and an entry's
// instance_type limits it as the flag does.
func TestSavedPlanAndEntryKeepSizing(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	dir := t.TempDir()
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - name: a\n  - name: b\n  - name: c\n")
	planFile := filepath.Join(dir, "plan.json")
	sizing := []string{"--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.medium", "--deployment-mode", "CLUSTER_MULTI_AZ"}
	code, out, errOut := warren(t, append(append([]string{"diff", "-o", planFile}, sizing...), defs)...)
	if strings.HasPrefix(n.Version, "3.") {
		// Amazon MQ fixes a RabbitMQ 3 broker's limits: the flags are refused.
		if code != exitError || !strings.Contains(errOut, "Amazon MQ's RabbitMQ 3 brokers have their limits fixed") {
			t.Fatalf("diff -o --instance-type on RabbitMQ %s: exit %d\n%s%s", n.Version, code, out, errOut)
		}
		return
	}
	if code != exitDrift {
		t.Fatalf("diff -o: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"instance_type": "mq.m7g.medium"`, `"deployment_mode": "CLUSTER_MULTI_AZ"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the saved plan does not record %s:\n%s", want, data)
		}
	}
	// Other sizing given at apply time: another plan, refused.
	code, out, errOut = warren(t, "apply", "--yes", "--instance-type", "mq.m7g.large", planFile)
	if code != exitError || !strings.Contains(errOut, "is not the plan apply would carry out now") || !strings.Contains(errOut, `"instance_type":"mq.m7g.large"`) {
		t.Errorf("apply --instance-type mq.m7g.large of a plan saved with mq.m7g.medium: exit %d\n%s%s", code, out, errOut)
	}
	// Eight vhosts more on the broker: with the plan's three, 12 of the
	// type's 10. apply PLAN.json checks the limits as the flags would,
	// before it finds the broker changed.
	for i := range 8 {
		if err := n.Do(ctx, "PUT", "/api/vhosts/"+url.PathEscape(fmt.Sprintf("x%d", i)), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = warren(t, "apply", "--yes", planFile)
	if code != exitError || !strings.Contains(out+errOut, "[E182]") {
		t.Errorf("apply PLAN.json past the saved instance type's limits: exit %d, want %d and E182\n%s%s", code, exitError, out, errOut)
	}

	// An inventory entry's instance_type limits its broker, in a fleet
	// run and with --broker; without it the same entry drifts.
	t.Setenv("ENTRY_PASSWORD", n.AdminPassword)
	entry := func(sizing string) string {
		return writeTemp(t, "inventory.yaml", fmt.Sprintf(`brokers:
  - name: mq
    urls: [%s]
    username: %s
    password: {env: ENTRY_PASSWORD}
    target: amazonmq-rabbitmq
    files: [%s]
%s`, n.URL, n.Admin, defs, sizing))
	}
	sized := entry("    instance_type: mq.m7g.medium\n")
	for _, args := range [][]string{{"diff", "--inventory", sized}, {"diff", "--inventory", sized, "--broker", "mq"}, {"apply", "--yes", "--inventory", sized}} {
		code, out, errOut := warren(t, args...)
		if code != exitError || !strings.Contains(out+errOut, "[E182]") {
			t.Errorf("%v: exit %d, want %d and E182\n%s%s", args, code, exitError, out, errOut)
		}
	}
	if code, out, errOut := warren(t, "diff", "--inventory", entry(""), "--broker", "mq"); code != exitDrift {
		t.Errorf("the entry without instance_type: exit %d, want %d\n%s%s", code, exitDrift, out, errOut)
	}
	var vhosts []struct{ Name string }
	if err := n.Do(ctx, "GET", "/api/vhosts", nil, &vhosts); err != nil || len(vhosts) != 9 {
		t.Errorf("vhosts after the refused applies: %v, %v", vhosts, err)
	}
}

// An inventory entry's size is checked where it is written: only for an
// amazonmq-rabbitmq entry, of a known type, the deployment mode with an
// instance type.
func TestInventorySizingChecked(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		{"    instance_type: mq.m7g.medium\n", "inventory.yaml:7:5: /brokers/0/instance_type: instance_type sizes an Amazon MQ broker: give it with target: amazonmq-rabbitmq (this entry's target is rabbitmq) [E012]"},
		{"    target: amazonmq-rabbitmq\n    deployment_mode: CLUSTER_MULTI_AZ\n", "inventory.yaml:8:5: /brokers/0/deployment_mode: deployment_mode needs instance_type"},
		{"    target: amazonmq-rabbitmq\n    instance_type: mq.t3.micro\n", "inventory.yaml:8:5: /brokers/0/instance_type: value must be one of"},
	} {
		inv := writeTemp(t, "inventory.yaml", "brokers:\n  - name: mq\n    urls: [http://127.0.0.1:1]\n    username: u\n    password: {env: NOPE}\n    files: [x.yaml]\n"+tc.entry)
		code, out, errOut := warren(t, "validate", "--inventory", inv)
		if code != exitError || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("entry %q: exit %d, want %d and %q\n%s%s", tc.entry, code, exitError, tc.want, out, errOut)
		}
	}
}

// A saved plan carries a Huawei DMS instance's edition: apply PLAN.json
// checks the files by the 3.x edition's rules (an internal exchange is
// valid there, not on AMQP-0-9-1) without --edition, and refuses the plan
// when another edition is given.
func TestSavedPlanKeepsEdition(t *testing.T) {
	fake := huaweifake.NewEdition(huaweifake.Edition3x)
	t.Cleanup(fake.Close)
	for k, v := range map[string]string{
		"HUAWEICLOUD_SDK_AK": huaweifake.AK, "HUAWEICLOUD_SDK_SK": huaweifake.SK, "HUAWEICLOUD_TOKEN": "", "WARREN_HUAWEI_EDITION": "",
		"WARREN_ENDPOINT": fake.URL, "WARREN_PROJECT_ID": huaweifake.ProjectID, "WARREN_INSTANCE_ID": huaweifake.InstanceID,
		"WARREN_TARGET": "huaweicloud-rabbitmq",
	} {
		t.Setenv(k, v)
	}
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - name: /\n  - name: orders\nexchanges:\n  - {vhost: orders, name: orders.in, type: topic, internal: true}\n")
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if code, out, errOut := warren(t, "diff", "-o", planFile, "--edition", "3.x", defs); code != exitDrift {
		t.Fatalf("diff -o --edition 3.x: exit %d\n%s%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(planFile); !strings.Contains(string(data), `"edition": "3.x"`) {
		t.Errorf("the saved plan does not record the edition:\n%s", data)
	}
	if code, out, errOut := warren(t, "apply", "--yes", "--edition", "amqp-0-9-1", planFile); code != exitError {
		t.Errorf("apply --edition amqp-0-9-1 of a 3.x plan: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := warren(t, "apply", "--yes", planFile)
	if code != exitOK || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("apply PLAN.json: exit %d\n%s%s", code, out, errOut)
	}
	found := false
	for _, x := range fake.Exchanges("orders") {
		found = found || x.Name == "orders.in" && x.Internal
	}
	if !found {
		t.Errorf("no internal exchange orders.in on the instance: %+v", fake.Exchanges("orders"))
	}
}
