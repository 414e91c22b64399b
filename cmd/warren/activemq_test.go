package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/amazonmqactivemq/amazonmqfake"
)

// Amazon MQ for ActiveMQ through the CLI, against the local fake of the
// Amazon MQ API (amazonmqfake follows docs/cloud-apis.md, signatures
// included).

func useFake(t *testing.T) *amazonmqfake.Server {
	t.Helper()
	fake := amazonmqfake.New("b-1234")
	t.Cleanup(fake.Close)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": amazonmqfake.AccessKey, "AWS_SECRET_ACCESS_KEY": amazonmqfake.SecretKey, "AWS_REGION": amazonmqfake.Region,
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
		"WARREN_BROKER_ID": "b-1234", "WARREN_ENDPOINT": fake.URL, "WARREN_TARGET": "amazonmq-activemq",
		"ADMIN_PW": "console-admin-pw-1", "ORDERS_PW": "orders-service-pw-1",
	} {
		t.Setenv(k, v)
	}
	return fake
}

const activeMQDefs = `users:
  - name: console-admin
    password: {env: ADMIN_PW}
    activemq: {groups: [admins], console_access: true}
  - name: orders-service
    password: {env: ORDERS_PW}
    activemq: {groups: [orders, writers]}
`

func TestActiveMQDiffApplyPrune(t *testing.T) {
	fake := useFake(t)
	defs := writeTemp(t, "defs.yaml", activeMQDefs)

	code, out, errOut := warren(t, "diff", defs)
	if code != exitDrift || !strings.Contains(out, `+ user "console-admin"`) || !strings.Contains(out, "when the broker reboots") {
		t.Fatalf("diff against an empty broker: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = warren(t, "apply", "--yes", defs)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	users := fake.Users("b-1234")
	if u := users["console-admin"]; u.Password != "console-admin-pw-1" || !u.ConsoleAccess || u.Pending != "CREATE" {
		t.Errorf("console-admin on the broker: %+v", u)
	}
	if strings.Contains(out+errOut, "console-admin-pw-1") {
		t.Error("apply printed a password")
	}
	// Pending changes count as done: a second diff is in sync, and says so.
	code, out, _ = warren(t, "diff", defs)
	if code != exitOK || !strings.Contains(out, "Waiting for a reboot of the broker: console-admin (create), orders-service (create)") {
		t.Fatalf("diff with changes pending: exit %d\n%s", code, out)
	}
	if code, out, _ := warren(t, "apply", "--yes", "--reboot", defs); code != exitOK || fake.Calls["RebootBroker"] != 1 {
		t.Fatalf("apply --reboot: exit %d\n%s", code, out)
	}
	if u := fake.Users("b-1234")["orders-service"]; !u.Applied || u.Pending != "" {
		t.Errorf("after the reboot: %+v", u)
	}
	// A changed group is an update; a user the files do not name is
	// deleted only with --prune.
	changed := writeTemp(t, "changed.yaml", strings.Replace(activeMQDefs, "[orders, writers]", "[orders]", 1))
	fake.Reboot("b-1234")
	code, out, _ = warren(t, "diff", changed)
	if code != exitDrift || !strings.Contains(out, `groups: ["orders","writers"] → ["orders"]`) {
		t.Fatalf("changed groups: exit %d\n%s", code, out)
	}
	if code, out, errOut := warren(t, "apply", "--yes", changed); code != exitOK || fake.Users("b-1234")["orders-service"].Pending != "UPDATE" {
		t.Fatalf("apply of the change: exit %d\n%s%s", code, out, errOut)
	}
	fake.Reboot("b-1234")
	only := writeTemp(t, "only.yaml", "users:\n  - name: console-admin\n    password: {env: ADMIN_PW}\n    activemq: {groups: [admins], console_access: true}\n")
	if code, out, _ := warren(t, "diff", only); code != exitOK {
		t.Fatalf("without --prune nothing is deleted: exit %d\n%s", code, out)
	}
	code, out, errOut = warren(t, "apply", "--yes", "--prune", only)
	if code != exitOK || !strings.Contains(out, `- user "orders-service"`) || fake.Users("b-1234")["orders-service"].Pending != "DELETE" {
		t.Fatalf("prune: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := warren(t, "diff", "--prune", only); code != exitOK {
		t.Errorf("a pending deletion counts as done: exit %d\n%s", code, out)
	}
	// Export lists the users as they will be.
	if code, out, _ := warren(t, "export"); code != exitOK || !strings.Contains(out, `"console-admin"`) || strings.Contains(out, "orders-service") {
		t.Errorf("export: exit %d\n%s", code, out)
	}
	// --update-passwords sets every password again.
	t.Setenv("ADMIN_PW", "a-new-admin-password")
	if code, out, errOut := warren(t, "apply", "--yes", "--update-passwords", only); code != exitOK || fake.Users("b-1234")["console-admin"].Password != "a-new-admin-password" {
		t.Fatalf("--update-passwords: exit %d\n%s%s", code, out, errOut)
	}
}

func TestActiveMQPaging(t *testing.T) {
	fake := useFake(t)
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range 130 {
		fmt.Fprintf(&b, "  - {name: user-%03d, password: {env: ORDERS_PW}}\n", i)
	}
	defs := writeTemp(t, "many.yaml", b.String())
	if code, _, errOut := warren(t, "apply", "--yes", defs); code != exitOK {
		t.Fatalf("apply: exit %d\n%s", code, errOut)
	}
	if code, out, _ := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("130 users over two pages: exit %d\n%s", code, out)
	}
	if fake.Calls["ListUsers"] < 4 { // two reads (plan, check), two pages each, then this diff
		t.Errorf("ListUsers calls: %d", fake.Calls["ListUsers"])
	}
}

func TestActiveMQErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out the AWS SDK's retry backoffs (about 10s); make test runs this")
	}
	fake := useFake(t)
	defs := writeTemp(t, "defs.yaml", activeMQDefs)
	// Throttling and a dropped connection are retried.
	fake.Fail("ListUsers", 429, 0)
	if code, out, errOut := warren(t, "diff", defs); code != exitDrift {
		t.Fatalf("after a throttle and a dropped connection: exit %d\n%s%s", code, out, errOut)
	}
	// 5xx every time: the API's own code and message.
	fake.Fail("ListUsers", 500, 500, 500, 500)
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "InternalServerErrorException") {
		t.Fatalf("5xx: exit %d\n%s", code, errOut)
	}
	// A wrong secret: the signature is refused.
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "ForbiddenException") || !strings.Contains(errOut, "signature") {
		t.Fatalf("wrong secret: exit %d\n%s", code, errOut)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", amazonmqfake.SecretKey)
	// An unknown broker.
	t.Setenv("WARREN_BROKER_ID", "b-nope")
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "NotFoundException: Can't find requested broker") {
		t.Fatalf("unknown broker: exit %d\n%s", code, errOut)
	}
	t.Setenv("WARREN_BROKER_ID", "b-1234")
	// A failure mid-apply: the API's reason, what was done and what not;
	// running apply again converges.
	fake.Fail("CreateUser", 200, 500, 500, 500)
	code, _, errOut := warren(t, "apply", "--yes", defs)
	if code != exitError || !strings.Contains(errOut, "InternalServerErrorException") || !strings.Contains(errOut, "Done (1)") || !strings.Contains(errOut, "Failed (1)") {
		t.Fatalf("a failure mid-apply: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := warren(t, "apply", "--yes", defs); code != exitOK || !strings.Contains(out, "Plan: 1 to create") {
		t.Fatalf("the re-run: exit %d\n%s%s", code, out, errOut)
	}
	// A password change that fails stays failed: the API never returns a
	// password, so reading the broker again cannot show it made.
	fake.Fail("UpdateUser", 500, 500, 500, 500, 500, 500, 500, 500)
	code, _, errOut = warren(t, "apply", "--yes", "--update-passwords", defs)
	if code != exitError || !strings.Contains(errOut, "Failed (1)") || strings.Contains(errOut, "Done (") {
		t.Fatalf("a failed password change: exit %d\n%s", code, errOut)
	}
	// Invalid groups are refused before anything is sent.
	bad := writeTemp(t, "bad.yaml", "users:\n  - {name: zz, password: {env: ORDERS_PW}, activemq: {groups: [\"bad group\"]}}\n")
	if code, _, errOut := warren(t, "apply", "--yes", bad); code != exitError || !strings.Contains(errOut, "E054") {
		t.Fatalf("invalid groups: exit %d\n%s", code, errOut)
	}
	// Kinds the target cannot hold point at the line.
	vhosts := writeTemp(t, "vhosts.yaml", "vhosts:\n  - {name: v}\n")
	if code, _, errOut := warren(t, "diff", vhosts); code != exitError || !strings.Contains(errOut, "vhosts.yaml:2:5: /vhosts/0: amazonmq-activemq cannot hold vhosts") {
		t.Fatalf("vhosts: exit %d\n%s", code, errOut)
	}
}
