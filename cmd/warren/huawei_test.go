package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/huaweicloud/huaweifake"
)

// Huawei Cloud DMS for RabbitMQ through the CLI, against the local fake of
// the DMS API (huaweifake follows docs/cloud-apis.md, verifying
// SDK-HMAC-SHA256 signatures on its own).

func useHuawei(t *testing.T) *huaweifake.Server {
	t.Helper()
	fake := huaweifake.New()
	t.Cleanup(fake.Close)
	for k, v := range map[string]string{
		"HUAWEICLOUD_SDK_AK": huaweifake.AK, "HUAWEICLOUD_SDK_SK": huaweifake.SK, "HUAWEICLOUD_TOKEN": "",
		"WARREN_ENDPOINT": fake.URL, "WARREN_PROJECT_ID": huaweifake.ProjectID, "WARREN_INSTANCE_ID": huaweifake.InstanceID,
		"WARREN_TARGET": "huaweicloud-rabbitmq", "INVENTORY_SK": "Inventory-Key-1", "REPORTING_SK": "Reporting-Key-1",
	} {
		t.Setenv(k, v)
	}
	return fake
}

const huaweiDefs = `vhosts:
  - name: default
  - name: inventory
users:
  - {name: inventory_app, password: {env: INVENTORY_SK}}
  - {name: reporting_ro, password: {env: REPORTING_SK}}
permissions:
  - {user: inventory_app, vhost: inventory, configure: "^inventory\\.", write: "^inventory\\.", read: "^inventory\\."}
  - {user: reporting_ro, vhost: inventory, configure: "^$", write: "^$", read: ".*"}
  - {user: reporting_ro, vhost: default, configure: "^$", write: "^$", read: ".*"}
`

func TestHuaweiDiffApplyPrune(t *testing.T) {
	fake := useHuawei(t)
	defs := writeTemp(t, "defs.yaml", huaweiDefs)
	code, out, errOut := warren(t, "diff", defs)
	if code != exitDrift || !strings.Contains(out, `+ vhost "inventory"`) || !strings.Contains(out, `+ user "inventory_app"`) {
		t.Fatalf("diff of an empty instance: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := warren(t, "apply", "--yes", defs); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	users := fake.Users()
	if u := users["reporting_ro"]; u.SecretKey != "Reporting-Key-1" || len(u.Vhosts) != 2 {
		t.Errorf("reporting_ro on the instance: %+v", u)
	}
	if code, out, _ := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("second diff: exit %d\n%s", code, out)
	}
	// A changed permission replaces the user whole, secret key included.
	changed := writeTemp(t, "changed.yaml", strings.Replace(huaweiDefs, `read: "^inventory\\."`, `read: ".*"`, 1))
	code, out, errOut = warren(t, "apply", "--yes", changed)
	if code != exitOK || !strings.Contains(out, `~ permission "inventory_app" on vhost "inventory"`) || fake.Calls["UpdateUser"] != 1 {
		t.Fatalf("changed permission: exit %d\n%s%s", code, out, errOut)
	}
	if u := fake.Users()["inventory_app"]; u.Vhosts[0].Read != ".*" || u.SecretKey != "Inventory-Key-1" {
		t.Errorf("after the update: %+v", u)
	}
	// Pruning: a user and a vhost the files do not name.
	less := writeTemp(t, "less.yaml", "vhosts:\n  - name: default\nusers:\n  - {name: inventory_app, password: {env: INVENTORY_SK}}\npermissions: []\n")
	if code, out, _ := warren(t, "diff", less); code != exitOK || strings.Contains(out, `- user`) || strings.Contains(out, `- vhost`) {
		t.Fatalf("without --prune nothing is deleted: exit %d\n%s", code, out)
	}
	code, out, errOut = warren(t, "apply", "--yes", "--prune", less)
	if code != exitOK || !strings.Contains(out, `- user "reporting_ro"`) || !strings.Contains(out, `- vhost "inventory"`) {
		t.Fatalf("prune: exit %d\n%s%s", code, out, errOut)
	}
	if _, ok := fake.Users()["reporting_ro"]; ok || len(fake.Vhosts()) != 1 {
		t.Errorf("after pruning: users %v, vhosts %v", fake.Users(), fake.Vhosts())
	}
	if code, out, _ := warren(t, "diff", "--prune", less); code != exitOK {
		t.Errorf("after prune: exit %d\n%s", code, out)
	}
	if code, out, _ := warren(t, "export", "--format", "yaml"); code != exitOK || !strings.Contains(out, "inventory_app") || strings.Contains(out, "Inventory-Key-1") {
		t.Errorf("export: exit %d\n%s", code, out)
	}
}

func TestHuaweiPagingAndErrors(t *testing.T) {
	fake := useHuawei(t)
	var b strings.Builder
	b.WriteString("vhosts:\n  - name: default\nusers:\n")
	for i := range 60 {
		fmt.Fprintf(&b, "  - {name: user_%03d_app, password: {env: INVENTORY_SK}}\n", i)
	}
	defs := writeTemp(t, "many.yaml", b.String())
	if code, _, errOut := warren(t, "apply", "--yes", defs); code != exitOK {
		t.Fatalf("apply of 60 users: exit %d\n%s", code, errOut)
	}
	if code, out, _ := warren(t, "diff", defs); code != exitOK || fake.Calls["ListUser"] < 4 {
		t.Fatalf("60 users over two pages: exit %d, %d list calls\n%s", code, fake.Calls["ListUser"], out)
	}
	// Throttling and a dropped connection are retried.
	fake.Fail("ListUser", 429, 0)
	if code, out, errOut := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("after a throttle and a drop: exit %d\n%s%s", code, out, errOut)
	}
	// Errors carry the API's code and message.
	fake.Fail("ListUser", 500, 500, 500)
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "DMS.00500000") {
		t.Fatalf("5xx: exit %d\n%s", code, errOut)
	}
	t.Setenv("HUAWEICLOUD_SDK_SK", "wrong-secret")
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "verify aksk signature fail") {
		t.Fatalf("wrong secret: exit %d\n%s", code, errOut)
	}
	t.Setenv("HUAWEICLOUD_SDK_SK", huaweifake.SK)
	t.Setenv("WARREN_INSTANCE_ID", "inst-nope")
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "DMS.00404022") {
		t.Fatalf("unknown instance: exit %d\n%s", code, errOut)
	}
	t.Setenv("WARREN_INSTANCE_ID", huaweifake.InstanceID)
	// A failure mid-apply, then a re-run that converges.
	more := writeTemp(t, "more.yaml", b.String()+"  - {name: zz_late_user, password: {env: REPORTING_SK}}\n  - {name: zz_later_user, password: {env: REPORTING_SK}}\n")
	fake.Fail("CreateUser", 200, 500)
	if code, _, errOut := warren(t, "apply", "--yes", more); code != exitError || !strings.Contains(errOut, "Done (1)") || !strings.Contains(errOut, "DMS.00500000") {
		t.Fatalf("failure mid-apply: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := warren(t, "apply", "--yes", more); code != exitOK || !strings.Contains(out, "Plan: 1 to create") {
		t.Fatalf("re-run: exit %d\n%s%s", code, out, errOut)
	}
	// The target's rules refuse what DMS would, before anything is sent.
	bad := writeTemp(t, "bad.yaml", "users:\n  - {name: short, password: {env: INVENTORY_SK}}\ntopic_permissions:\n  - {user: short, vhost: default, exchange: amq.topic, write: \".*\", read: \".*\"}\n")
	if code, _, errOut := warren(t, "apply", "--yes", bad); code != exitError || !strings.Contains(errOut, "E051") || !strings.Contains(errOut, "E050") {
		t.Fatalf("target rules: exit %d\n%s", code, errOut)
	}
}

func TestHuaweiToken(t *testing.T) {
	useHuawei(t)
	t.Setenv("HUAWEICLOUD_SDK_AK", "")
	t.Setenv("HUAWEICLOUD_SDK_SK", "")
	t.Setenv("HUAWEICLOUD_TOKEN", "valid-token")
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - name: default\n")
	if code, out, errOut := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("with an IAM token: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("HUAWEICLOUD_TOKEN", "expired")
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "APIGW.0307") {
		t.Fatalf("a bad token: exit %d\n%s", code, errOut)
	}
}

// TestHuaweiTopology: exchanges, queues and bindings through the CLI, on
// each edition: what the edition cannot express is refused by validate
// and by apply before anything is sent; what it can is applied, and the
// diff after it is empty.
func TestHuaweiTopology(t *testing.T) {
	const e2e = `vhosts:
  - name: /
  - name: shop
exchanges:
  - {vhost: shop, name: front, type: fanout}
  - {vhost: shop, name: back, type: direct, internal: true}
queues:
  - {vhost: shop, name: work, arguments: {x-message-ttl: 5000}}
bindings:
  - {vhost: shop, source: front, destination: back, destination_type: exchange, routing_key: ""}
  - {vhost: shop, source: back, destination: work, destination_type: queue, routing_key: work}
`
	defs := writeTemp(t, "defs.yaml", e2e)
	// The default edition, AMQP-0-9-1, has neither internal exchanges nor
	// exchange-to-exchange bindings.
	fake := useHuawei(t)
	if code, out, _ := warren(t, "validate", defs); code != exitError || !strings.Contains(out, "/exchanges/1/internal") || !strings.Contains(out, "[E192]") {
		t.Fatalf("validate on AMQP-0-9-1: exit %d\n%s", code, out)
	}
	if code, out, errOut := warren(t, "apply", "--yes", defs); code != exitError || !strings.Contains(out+errOut, "[E191]") || fake.Calls["CreateVhost"]+fake.Calls["CreateExchange"] != 0 {
		t.Fatalf("apply on AMQP-0-9-1: exit %d, calls %v\n%s%s", code, fake.Calls, out, errOut)
	}
	if code, _, errOut := warren(t, "validate", "--edition", "4.x", defs); code != exitError || !strings.Contains(errOut, `unknown --edition "4.x"`) {
		t.Fatalf("unknown edition: exit %d\n%s", code, errOut)
	}
	// The 3.x edition takes them; its users go through the management API.
	fake3 := huaweifake.NewEdition(huaweifake.Edition3x)
	t.Cleanup(fake3.Close)
	t.Setenv("WARREN_ENDPOINT", fake3.URL)
	t.Setenv("WARREN_HUAWEI_EDITION", "3.x")
	if code, out, errOut := warren(t, "apply", "--yes", defs); code != exitOK || !strings.Contains(out, `+ binding "front" → exchange "back"`) {
		t.Fatalf("apply on 3.x: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("diff after apply: exit %d\n%s", code, out)
	}
	if len(fake3.Bindings("shop")) != 2 || len(fake3.Queues("shop")) != 1 || fake3.Calls["ListUser"] != 0 {
		t.Errorf("on the instance: %v %v, calls %v", fake3.Bindings("shop"), fake3.Queues("shop"), fake3.Calls)
	}
	withUser := writeTemp(t, "user.yaml", e2e+"users:\n  - {name: inventory_app, password: {env: INVENTORY_SK}}\n")
	if code, out, _ := warren(t, "validate", withUser); code != exitError || !strings.Contains(out, "management API") {
		t.Fatalf("a user on 3.x: exit %d\n%s", code, out)
	}
	// A changed queue is replaced only with --replace.
	changed := writeTemp(t, "changed.yaml", strings.Replace(e2e, "5000", "6000", 1))
	if code, _, errOut := warren(t, "apply", "--yes", changed); code != exitError || !strings.Contains(errOut, "--replace") {
		t.Fatalf("a replacement without --replace: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := warren(t, "apply", "--yes", "--replace", changed); code != exitOK || !strings.Contains(out, `± queue "work"`) {
		t.Fatalf("with --replace: exit %d\n%s%s", code, out, errOut)
	}
}

// TestHuaweiExample: the example applies to a fresh instance, and the
// diff after it is empty.
func TestHuaweiExample(t *testing.T) {
	fake := useHuawei(t)
	t.Setenv("INVENTORY_SECRET_KEY", "Inventory-Key-1")
	t.Setenv("REPORTING_SECRET_KEY", "Reporting-Key-1")
	dir := filepath.Join(examplesDir(t), "targets", "huaweicloud-rabbitmq")
	if code, out, errOut := warren(t, "apply", "--yes", dir); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := warren(t, "diff", dir); code != exitOK {
		t.Fatalf("diff after apply: exit %d\n%s", code, out)
	}
	if len(fake.Queues("inventory")) != 2 || len(fake.Bindings("inventory")) != 2 || len(fake.Users()) != 2 {
		t.Errorf("on the instance: %v %v %v", fake.Queues("inventory"), fake.Bindings("inventory"), fake.Users())
	}
}

// TestHuaweiWatchEdition: warren watch checks the files against the
// edition it is given, as diff and apply do: on 3.x an internal exchange
// is applied, not refused.
func TestHuaweiWatchEdition(t *testing.T) {
	useHuawei(t)
	fake3 := huaweifake.NewEdition(huaweifake.Edition3x)
	t.Cleanup(fake3.Close)
	t.Setenv("WARREN_ENDPOINT", fake3.URL)
	t.Setenv("WARREN_HUAWEI_EDITION", "3.x")
	files := writeTemp(t, "watched.yaml", "vhosts: [{name: /}]\nexchanges:\n  - {vhost: /, name: hidden, type: direct, internal: true}\n")
	w := startWatch(t, "--interval", "300ms", "--apply", "--name", "dms", files)
	w.waitMetric("in sync", 20*time.Second, inSync("dms", 1))
	if x := fake3.Exchanges("/"); len(x) != 8 || x[7].Name != "hidden" || !x[7].Internal {
		t.Errorf("exchanges: %+v", x)
	}
}
