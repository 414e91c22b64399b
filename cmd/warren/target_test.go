package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestUnsupportedFlagsRefused: a flag a target cannot honour is refused
// with a clear error, never ignored.
func TestUnsupportedFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*testing.T)
		defs  string
		args  []string
		want  string
	}{
		{"activemq keep-guest", func(t *testing.T) { useFake(t) }, activeMQDefs, []string{"apply", "--yes", "--keep-guest"}, "--keep-guest cannot be used with --target amazonmq-activemq: Amazon MQ for ActiveMQ has no guest user"},
		{"activemq wait", func(t *testing.T) { useFake(t) }, activeMQDefs, []string{"apply", "--yes", "--wait", "5s"}, "--wait cannot be used with --target amazonmq-activemq"},
		{"activemq replace", func(t *testing.T) { useFake(t) }, activeMQDefs, []string{"apply", "--yes", "--replace"}, "--replace cannot be used with --target amazonmq-activemq"},
		{"activemq break-lock", func(t *testing.T) { useFake(t) }, activeMQDefs, []string{"apply", "--yes", "--break-lock"}, "--break-lock cannot be used with --target amazonmq-activemq"},
		{"activemq diff keep-guest", func(t *testing.T) { useFake(t) }, activeMQDefs, []string{"diff", "--keep-guest"}, "--keep-guest cannot be used with --target amazonmq-activemq"},
		{"huawei reboot", func(t *testing.T) { useHuawei(t) }, huaweiDefs, []string{"apply", "--yes", "--reboot"}, "--reboot cannot be used with --target huaweicloud-rabbitmq: DMS applies changes at once"},
		{"huawei amqp-url", func(t *testing.T) { useHuawei(t) }, huaweiDefs, []string{"apply", "--yes", "--amqp-url", "amqps://127.0.0.1:5671"}, "--amqp-url cannot be used with --target huaweicloud-rabbitmq"},
		{"activemq amqp-url", func(t *testing.T) { useFake(t) }, activeMQDefs, []string{"diff", "--amqp-url", "amqps://127.0.0.1:5671"}, "--amqp-url cannot be used with --target amazonmq-activemq"},
		{"huawei keep-guest", func(t *testing.T) { useHuawei(t) }, huaweiDefs, []string{"apply", "--yes", "--keep-guest"}, "--keep-guest cannot be used with --target huaweicloud-rabbitmq"},
		{"huawei against", func(t *testing.T) { useHuawei(t) }, huaweiDefs, []string{"diff", "--against", "/dev/null"}, "--against cannot be used with --target huaweicloud-rabbitmq"},
		{"rabbitmq update-passwords", func(t *testing.T) { t.Setenv("WARREN_URL", "http://127.0.0.1:1") }, "vhosts: [{name: v}]\n", []string{"apply", "--yes", "--update-passwords"}, "--update-passwords cannot be used with --target rabbitmq: RabbitMQ's API returns password hashes"},
		{"rabbitmq reboot", func(t *testing.T) { t.Setenv("WARREN_URL", "http://127.0.0.1:1") }, "vhosts: [{name: v}]\n", []string{"apply", "--yes", "--reboot"}, "--reboot cannot be used with --target rabbitmq"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.setup(t)
			defs := writeTemp(t, "defs.yaml", tc.defs)
			code, out, errOut := warren(t, append(tc.args, defs)...)
			if code != exitError || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, want %d and %q\n%s%s", code, exitError, tc.want, out, errOut)
			}
		})
	}
}

// TestCloudSavedPlanAndCheck: a cloud target goes through the same path as
// RabbitMQ: a saved plan is carried out only as reviewed, and the broker
// is read again after the apply, with --update-passwords too.
func TestCloudSavedPlanAndCheck(t *testing.T) {
	useHuawei(t)
	defs := writeTemp(t, "defs.yaml", huaweiDefs)
	plan := filepath.Join(t.TempDir(), "plan.json")
	if code, out, errOut := warren(t, "diff", "-o", plan, defs); code != exitDrift {
		t.Fatalf("diff -o: exit %d\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(plan)
	if !strings.Contains(string(data), `"instance_id"`) || strings.Contains(string(data), "Inventory-Key-1") {
		t.Fatalf("the saved plan does not name the instance, or holds a secret:\n%s", data)
	}
	code, out, errOut := warren(t, "apply", "--yes", plan)
	if code != exitOK || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("apply of the saved plan: exit %d\n%s%s", code, out, errOut)
	}
	// In sync now: options.update_passwords edited in a plan of no
	// changes would write every user; the plan made now differs.
	if code, out, errOut := warren(t, "diff", "-o", plan, defs); code != exitOK {
		t.Fatalf("diff -o: exit %d\n%s%s", code, out, errOut)
	}
	data, _ = os.ReadFile(plan)
	edited := writeTemp(t, "edited.json", strings.Replace(string(data), `"update_passwords": false`, `"update_passwords": true`, 1))
	if code, _, errOut := warren(t, "apply", "--yes", edited); code != exitError || !strings.Contains(errOut, `+ in the plan made now only: {"action":"update","address":"user \"inventory_app\""`) {
		t.Fatalf("edited plan: exit %d\n%s", code, errOut)
	}
	// --update-passwords writes every user again, and the result is still
	// checked (passwords, which DMS never returns, aside).
	code, out, errOut = warren(t, "apply", "--yes", "--update-passwords", defs)
	if code != exitOK || !strings.Contains(errOut, "Applied: 0 created, 2 updated") || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("apply --update-passwords: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCloudExportSelects: export's --only and --vhost hold for a cloud
// target too.
func TestCloudExportSelects(t *testing.T) {
	useHuawei(t)
	defs := writeTemp(t, "defs.yaml", huaweiDefs)
	if code, out, errOut := warren(t, "apply", "--yes", defs); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := warren(t, "export", "--only", "vhosts")
	if code != exitOK || !strings.Contains(out, `"inventory"`) || strings.Contains(out, "inventory_app") {
		t.Fatalf("export --only vhosts: exit %d\n%s%s", code, out, errOut)
	}
}

// diff --against an export that holds no hashes (export's default) does
// not call every password changed: it cannot know them, and says so. A
// hash it holds is compared.
func TestAgainstAnExportWithoutHashes(t *testing.T) {
	t.Setenv("APP_PW", "app-password-1")
	desired := writeTemp(t, "defs.yaml", "users:\n  - {name: app, password: {env: APP_PW}, tags: []}\nvhosts:\n  - {name: orders}\n")
	trimmed := writeTemp(t, "export.json", `{"users":[{"name":"app","tags":[]}],"vhosts":[{"name":"orders"}]}`)
	code, out, errOut := warren(t, "diff", "--keep-guest", "--against", trimmed, desired)
	if code != exitOK || !strings.Contains(out, "the export holds no password hash for 1 user") {
		t.Errorf("against an export without hashes: exit %d\n%s%s", code, out, errOut)
	}
	// Beside a json plan, the note goes to standard error.
	code, out, errOut = warren(t, "diff", "--keep-guest", "--format", "json", "--against", trimmed, desired)
	if code != exitOK || strings.Contains(out, "password hash") || !strings.Contains(errOut, "the export holds no password hash for 1 user") {
		t.Errorf("--format json against an export without hashes: exit %d\n%s%s", code, out, errOut)
	}
	for pw, want := range map[string]int{"app-password-1": exitOK, "another-one": exitDrift} {
		hash, err := definitions.HashPassword(pw, "rabbit_password_hashing_sha256", nil)
		if err != nil {
			t.Fatal(err)
		}
		export := writeTemp(t, "export.json", `{"users":[{"name":"app","password_hash":"`+hash+`","hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}],"vhosts":[{"name":"orders"}]}`)
		code, out, errOut := warren(t, "diff", "--keep-guest", "--against", export, desired)
		if code != want || strings.Contains(out+errOut, "not compared") {
			t.Errorf("against an export with the hash of %q: exit %d, want %d\n%s%s", pw, code, want, out, errOut)
		}
	}
}

// TestExportRefusesSizing: export checks no limits, so --instance-type and
// --deployment-mode (and --update-passwords, which export has no use for)
// are refused rather than accepted and ignored; WARREN_INSTANCE_TYPE, set
// for a pipeline's diff and apply, does not stop its export.
func TestExportRefusesSizing(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	for _, args := range [][]string{
		{"--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.large"},
		{"--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.large", "--deployment-mode", "CLUSTER_MULTI_AZ"},
		{"--target", "amazonmq-rabbitmq", "--deployment-mode", "CLUSTER_MULTI_AZ"},
		{"--update-passwords"},
	} {
		code, out, errOut := warren(t, append([]string{"export"}, args...)...)
		if code != exitError || !strings.Contains(errOut, "cannot be used with export") || out != "" {
			t.Errorf("export %v: exit %d, want %d and a refusal\n%s%s", args, code, exitError, out, errOut)
		}
	}
	t.Setenv("WARREN_INSTANCE_TYPE", "mq.m7g.large")
	for _, target := range []string{"rabbitmq", "amazonmq-rabbitmq"} {
		code, out, errOut := warren(t, "export", "--target", target, "--only", "vhosts")
		if code != exitOK || !strings.Contains(out, `"vhosts"`) {
			t.Errorf("export --target %s with WARREN_INSTANCE_TYPE set: exit %d\n%s%s", target, code, out, errOut)
		}
	}
}

// access, which checks no limits either, refuses the sizing flags, and a
// pipeline's WARREN_INSTANCE_TYPE neither stops it nor makes it fail on a
// --target rabbitmq broker (Open refused the sizing for that target).
func TestAccessRefusesSizing(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	for _, args := range [][]string{
		{"--target", "amazonmq-rabbitmq", "--instance-type", "mq.m7g.large"},
		{"--target", "amazonmq-rabbitmq", "--deployment-mode", "CLUSTER_MULTI_AZ"},
	} {
		code, out, errOut := warren(t, append([]string{"access", "--user", "nobody"}, args...)...)
		if code != exitError || !strings.Contains(errOut, "cannot be used with access") || out != "" {
			t.Errorf("access %v: exit %d, want %d and a refusal\n%s%s", args, code, exitError, out, errOut)
		}
	}
	t.Setenv("WARREN_INSTANCE_TYPE", "mq.m7g.large")
	for _, target := range []string{"rabbitmq", "amazonmq-rabbitmq"} {
		code, out, errOut := warren(t, "access", "--target", target, "--user", n.Admin)
		if code != exitOK || !strings.Contains(out, "vhost \"/\"") {
			t.Errorf("access --target %s with WARREN_INSTANCE_TYPE set: exit %d\n%s%s", target, code, out, errOut)
		}
	}
}

// An environment variable set to nothing is not the flag given: a
// pipeline's empty WARREN_TARGET, WARREN_MAX_SIZE or WARREN_INSTANCE_TYPE
// changes nothing (urfave/cli took each as given with an empty value, and
// refused it).
func TestEmptyEnvIsNotGiven(t *testing.T) {
	file := writeTemp(t, "defs.json", `{"vhosts": [{"name": "orders"}]}`)
	t.Setenv("WARREN_TARGET", "")
	t.Setenv("WARREN_MAX_SIZE", " ")
	t.Setenv("WARREN_INSTANCE_TYPE", "")
	t.Setenv("WARREN_RABBITMQ_VERSION", "")
	code, out, errOut := warren(t, "validate", file)
	if code != exitOK || !strings.Contains(errOut+out, "0 errors") {
		t.Errorf("validate with empty WARREN_* variables: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = warren(t, "access", "--user", "nobody", file)
	if code == exitError && strings.Contains(errOut, "cannot be used with") {
		t.Errorf("access with an empty WARREN_INSTANCE_TYPE: exit %d\n%s%s", code, out, errOut)
	}
}
