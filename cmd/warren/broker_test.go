package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// These tests run warren's commands in-process against a real RabbitMQ
// node, one after another (they share the node).

const brokerDefs = `users:
  - name: app
    password: {env: APP_PASSWORD}
    tags: [monitoring]
vhosts:
  - name: orders
    description: order intake
permissions:
  - {user: app, vhost: orders, configure: "^app\\.", write: ".*", read: ".*"}
queues:
  - {name: orders.incoming, vhost: orders, arguments: {x-queue-type: quorum}}
`

// warren runs the CLI in-process and returns its exit code and output.
func warren(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"warren"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// useNode points warren at a node through the environment, as a user would.
func useNode(t *testing.T, n *rabbitmqtest.Node) {
	t.Setenv("WARREN_URL", n.URL)
	t.Setenv("WARREN_USERNAME", n.Admin)
	t.Setenv("WARREN_PASSWORD", n.AdminPassword)
	t.Setenv("APP_PASSWORD", "app-password-1")
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiffAgainstBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	defs := writeTemp(t, "defs.yaml", brokerDefs)

	// Four objects of the files and the marked temporary grant on the vhost
	// the apply would create.
	code, out, errOut := warren(t, "diff", defs)
	if code != exitDrift || !strings.Contains(out, `+ vhost "orders"`) || !strings.Contains(out, "Plan: 5 to create") {
		t.Fatalf("diff against a blank node: exit %d\n%s%s", code, out, errOut)
	}
	// Make the broker match with RabbitMQ's own import of the same content.
	if err := n.PostDefinitions(context.Background(), []byte(`{"users":[{"name":"app","password":"app-password-1","tags":"monitoring"}],
		"vhosts":[{"name":"orders","description":"order intake"}],
		"permissions":[{"user":"app","vhost":"orders","configure":"^app\\.","write":".*","read":".*"}],
		"queues":[{"name":"orders.incoming","vhost":"orders","durable":true,"auto_delete":false,"arguments":{"x-queue-type":"quorum"}}]}`)); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := warren(t, "diff", "--keep-guest", defs); code != exitOK || !strings.Contains(out, "No changes") {
		t.Fatalf("diff of a broker in sync: exit %d\n%s%s", code, out, errOut)
	}
	// Without --keep-guest the plan removes the default guest user, as
	// warren apply would.
	if code, out, _ := warren(t, "diff", defs); code != exitDrift || !strings.Contains(out, `- user "guest"`) {
		t.Fatalf("guest removal: exit %d\n%s", code, out)
	}
	// Drift: a changed password is reported, never printed.
	t.Setenv("APP_PASSWORD", "a-new-password")
	code, out, _ = warren(t, "diff", "--keep-guest", "--format", "json", defs)
	if code != exitDrift || !strings.Contains(out, `"sensitive": true`) || strings.Contains(out, "a-new-password") {
		t.Fatalf("password drift: exit %d\n%s", code, out)
	}
	code, out, _ = warren(t, "diff", "--format", "markdown", defs)
	if code != exitDrift || !strings.Contains(out, "```diff") || !strings.Contains(out, "password: (sensitive) differs") {
		t.Fatalf("markdown: exit %d\n%s", code, out)
	}
	// --prune would delete what the files do not name, but not the user
	// warren is logged in as.
	code, out, _ = warren(t, "diff", "--prune", defs)
	if code != exitDrift || !strings.Contains(out, `- user "guest"`) || !strings.Contains(out, n.Admin+`": warren is logged in as this user`) {
		t.Fatalf("prune: exit %d\n%s", code, out)
	}
	// Errors exit 1 and say what failed.
	t.Setenv("WARREN_PASSWORD", "wrong")
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "could not log in") {
		t.Fatalf("wrong password: exit %d\n%s", code, errOut)
	}
	bad := writeTemp(t, "bad.yaml", "users:\n  - {name: x, tags: 5}\n")
	if code, _, errOut := warren(t, "diff", bad); code != exitError || !strings.Contains(errOut, "nothing was compared") {
		t.Fatalf("invalid files: exit %d\n%s", code, errOut)
	}
}

func TestExportCommand(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	if err := n.PostDefinitions(context.Background(), []byte(`{"users":[{"name":"app","password":"pw","tags":""}],"vhosts":[{"name":"orders"}],
		"permissions":[{"user":"app","vhost":"orders","configure":".*","write":".*","read":".*"}]}`)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "export.yaml")
	if code, _, errOut := warren(t, "export", "--trim", "guest", "-o", out); code != exitOK {
		t.Fatalf("export: exit %d\n%s", code, errOut)
	}
	data, _ := os.ReadFile(out)
	for _, gone := range []string{"guest", "password_hash", "internal_cluster_id", "rabbit_version"} {
		if strings.Contains(string(data), gone) {
			t.Errorf("export has %q:\n%s", gone, data)
		}
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("an export with users is %v, want 0600", st.Mode().Perm())
	}
	// The export is a valid, canonical definitions file; its users have no
	// password (W145, which export said on standard error).
	if code, stdout, _ := warren(t, "validate", out); code != exitOK || strings.Count(stdout, "[W") != strings.Count(stdout, "[W145]") {
		t.Errorf("the export does not validate:\n%s", stdout)
	}
	if code, _, _ := warren(t, "fmt", "--check", out); code != exitOK {
		t.Error("the export is not canonical")
	}
	// Asking for hashes writes them, to a file only its owner can read.
	withHashes := filepath.Join(dir, "with-hashes.json")
	if code, _, errOut := warren(t, "export", "--no-trim", "hashes", "-o", withHashes); code != exitOK {
		t.Fatalf("export --no-trim hashes: exit %d\n%s", code, errOut)
	}
	data, _ = os.ReadFile(withHashes)
	if !strings.Contains(string(data), "password_hash") {
		t.Error("--no-trim hashes exported no hash")
	}
	if st, _ := os.Stat(withHashes); st.Mode().Perm() != 0o600 {
		t.Errorf("an export with hashes is %v, want 0600", st.Mode().Perm())
	}
	// diff of the export against the node it came from: in sync.
	if code, stdout, errOut := warren(t, "diff", "--keep-guest", withHashes); code != exitOK {
		t.Errorf("diff of a fresh export: exit %d\n%s%s", code, stdout, errOut)
	}
	if code, _, errOut := warren(t, "export", "--trim", "nonsense"); code != exitError || !strings.Contains(errOut, `unknown trim "nonsense"`) {
		t.Errorf("unknown trim: exit %d %s", code, errOut)
	}
	// A vhost the broker lacks is an error, and no file: its empty lists
	// would make diff --prune delete every vhost.
	missing := filepath.Join(dir, "missing.json")
	if code, _, errOut := warren(t, "export", "--vhost", "ordrs", "-o", missing); code != exitError || !strings.Contains(errOut, `--vhost "ordrs": the broker has no such vhost`) || !strings.Contains(errOut, `"orders"`) {
		t.Errorf("export --vhost of a missing vhost: exit %d %s", code, errOut)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("export --vhost of a missing vhost wrote %s (%v)", missing, err)
	}
	if code, out, errOut := warren(t, "export", "--vhost", "orders"); code != exitOK || !strings.Contains(out, `"orders"`) {
		t.Errorf("export --vhost orders: exit %d\n%s%s", code, out, errOut)
	}
}

// TestTLS starts a node with a TLS management listener signed by a test CA.
func TestTLS(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	dir := t.TempDir()
	files, err := rabbitmqtest.WriteTestCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{TLS: files})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	useNode(t, n)
	t.Setenv("WARREN_URL", n.TLSURL)
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - name: /\n    description: Default virtual host\n")
	if code, out, errOut := warren(t, "diff", "--ca-cert", files.CACert, defs); code != exitOK {
		t.Errorf("https with the test CA: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "certificate") {
		t.Errorf("https without trusting the CA must fail on the certificate: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := warren(t, "diff", "--insecure", defs); code != exitOK {
		t.Errorf("--insecure: exit %d\n%s%s", code, out, errOut)
	}
}

func sleep() { time.Sleep(100 * time.Millisecond) }
