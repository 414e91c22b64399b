package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// The fleet tests run warren on an inventory of real nodes of both
// versions at once: the shared node (WARREN_RABBITMQ's series), a 3.10 and
// a 4.0 node, and a broker that is down.

const fleetBase = `vhosts:
  - name: shop
users:
  - name: app
    password: {env: APP_PASSWORD}
    tags: [monitoring]
permissions:
  - {user: app, vhost: shop, configure: ".*", write: ".*", read: ".*"}
queues:
  - name: orders
    vhost: shop
    durable: true
    arguments:
      x-queue-type: quorum
      x-max-length: 1000
policies:
  - name: ttl
    vhost: shop
    pattern: ^orders
    apply-to: queues
    definition:
      message-ttl: 60000
`

// fleetStaging is the staging overlay: other limits, one user more.
const fleetStaging = `users:
  - name: tester
    password: {env: APP_PASSWORD}
    tags: [management]
permissions:
  - {user: tester, vhost: shop, configure: "", write: "", read: ".*"}
queues:
  - name: orders
    vhost: shop
    arguments:
      x-max-length: 10
policies:
  - name: ttl
    vhost: shop
    definition:
      message-ttl: 5000
`

// startFleetNodes starts a 3.10 and a 4.0 node besides the shared one,
// at once; it skips (fails in CI) when a series cannot be run here.
func startFleetNodes(t *testing.T) []*rabbitmqtest.Node {
	t.Helper()
	for _, s := range []string{"3.10", "4.0"} {
		if err := rabbitmqtest.AvailableSeries(s); err != nil {
			rabbitmqtest.Unavailable(t, fmt.Errorf("RabbitMQ %s: %w", s, err))
		}
	}
	shared := rabbitmqtest.Shared(t)
	nodes := []*rabbitmqtest.Node{shared, nil, nil}
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i, s := range []string{"3.10", "4.0"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i+1], errs[i+1] = rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Series: s})
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, n := range nodes[1:] {
			if n != nil {
				n.Stop()
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

// deadURL is a management URL where nothing listens.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// writeFleet writes an inventory of nodes (the first down) with the base
// and staging files, beside each other, and returns its path.
func writeFleet(t *testing.T, nodes []*rabbitmqtest.Node, dead string) string {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("base.yaml", fleetBase, 0o644)
	write("staging.yaml", fleetStaging, 0o644)
	write("eu2.password", nodes[1].AdminPassword+"\n", 0o600)
	t.Setenv("FLEET_EU1_PASSWORD", nodes[0].AdminPassword)
	t.Setenv("FLEET_US1_PASSWORD", nodes[2].AdminPassword)
	t.Setenv("APP_PASSWORD", "app-password-1")
	inv := fmt.Sprintf(`# the fleet of the tests
concurrency: 4
brokers:
  - name: down
    urls: [%s]
    username: admin
    password: {env: FLEET_EU1_PASSWORD}
    files: [base.yaml]
    labels: {env: production, region: nowhere}
  - name: eu1
    urls: [%s]
    username: %s
    password: {env: FLEET_EU1_PASSWORD}
    files: [base.yaml]
    labels: {env: production, region: eu}
  - name: eu2-staging
    urls: [%s]
    username: %s
    password: {file: eu2.password}
    files: [base.yaml]
    overlays: [staging.yaml]
    labels: {env: staging, region: eu}
  - name: us1
    urls: [%s]
    username: %s
    password: {env: FLEET_US1_PASSWORD}
    target: rabbitmq
    files: [base.yaml]
    labels: {env: production, region: us}
`, dead, nodes[0].URL, nodes[0].Admin, nodes[1].URL, nodes[1].Admin, nodes[2].URL, nodes[2].Admin)
	write("inventory.yaml", inv, 0o644)
	return filepath.Join(dir, "inventory.yaml")
}

// reportLine finds a broker's line of the text report:
// name, target, status, create, update, replace, delete.
func reportLine(t *testing.T, out, name string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(\S+)\s+(in sync|drift|applied|failed|not run)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+\.\d\ds$`)
	m := re.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no report line for %s in:\n%s", name, out)
	}
	return m[1:]
}

func TestFleet(t *testing.T) {
	nodes := startFleetNodes(t)
	t.Logf("fleet: %s, %s, %s", nodes[0].Version, nodes[1].Version, nodes[2].Version)
	inv := writeFleet(t, nodes, deadURL(t))
	up := []string{"--inventory", inv, "--select", "region!=nowhere"}
	secrets := []string{nodes[0].AdminPassword, nodes[1].AdminPassword, nodes[2].AdminPassword, "app-password-1"}
	noSecret := func(outs ...string) {
		t.Helper()
		for _, out := range outs {
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Fatalf("a secret is in the output:\n%s", out)
				}
			}
		}
	}

	// Drift everywhere: exit 2, each broker's plan printed whole, then the report.
	code, out, errOut := warren(t, append([]string{"diff"}, up...)...)
	noSecret(out, errOut)
	if code != exitDrift {
		t.Fatalf("diff: exit %d, want 2\n%s%s", code, out, errOut)
	}
	// The creations count the marked temporary grant on the vhost created.
	for _, name := range []string{"eu1", "us1"} {
		if got, want := reportLine(t, out, name), []string{"rabbitmq", "drift", "6", "0", "0", "2"}; !cmp.Equal(got, want) {
			t.Errorf("diff report for %s: %v, want %v", name, got, want)
		}
	}
	if got, want := reportLine(t, out, "eu2-staging"), []string{"rabbitmq", "drift", "8", "0", "0", "2"}; !cmp.Equal(got, want) {
		t.Errorf("diff report for eu2-staging: %v, want %v", got, want)
	}
	if strings.Contains(out, "down") {
		t.Errorf("--select region!=nowhere ran the down broker:\n%s", out)
	}
	// (The 2 deletions are guest and its permission: the files define users
	// and guest keeps its default password.)
	// Not interleaved: each broker's section is its header, then its plan.
	for _, name := range []string{"eu1", "eu2-staging", "us1"} {
		sec := section(out, name)
		if !strings.Contains(sec, `+ queue "orders" on vhost "shop"`) || !strings.Contains(sec, `- user "guest"`) || strings.Contains(sec, "== ") {
			t.Errorf("section of %s:\n%s", name, sec)
		}
	}
	if !strings.Contains(section(out, "eu2-staging"), `+ user "tester"`) || strings.Contains(section(out, "eu1"), "tester") {
		t.Errorf("the staging overlay went to the wrong broker:\n%s", out)
	}

	// Apply converges every broker; a diff then finds them in sync.
	code, out, errOut = warren(t, append([]string{"apply", "--yes"}, up...)...)
	noSecret(out, errOut)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"eu1", "eu2-staging", "us1"} {
		if st := reportLine(t, out, name)[1]; st != "applied" {
			t.Errorf("apply: %s is %s, want applied\n%s", name, st, out)
		}
	}
	code, out, errOut = warren(t, append([]string{"diff"}, up...)...)
	if code != exitOK {
		t.Fatalf("diff after apply: exit %d, want 0\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "3 brokers: 3 in sync") {
		t.Errorf("diff after apply:\n%s", out)
	}
	// The overlay's values are on the staging node only.
	for i, want := range []float64{1000, 10, 1000} {
		var q struct{ Arguments map[string]any }
		if err := nodes[i].Do(context.Background(), "GET", "/api/queues/shop/orders", nil, &q); err != nil {
			t.Fatal(err)
		}
		if got := q.Arguments["x-max-length"]; got != want {
			t.Errorf("node %d: x-max-length %v, want %v", i, got, want)
		}
	}

	// One broker down: exit 1, the others still done and reported.
	code, out, errOut = warren(t, "diff", "--inventory", inv)
	noSecret(out, errOut)
	if code != exitError {
		t.Fatalf("diff with a broker down: exit %d, want 1\n%s%s", code, out, errOut)
	}
	t.Logf("warren diff --inventory %s:\n%s", inv, out) // docs/clusters-and-fleets.md's example
	if st := reportLine(t, out, "down")[1]; st != "failed" {
		t.Errorf("down: %s, want failed", st)
	}
	for _, name := range []string{"eu1", "eu2-staging", "us1"} {
		if st := reportLine(t, out, name)[1]; st != "in sync" {
			t.Errorf("with a broker down, %s: %s, want in sync\n%s", name, st, out)
		}
	}
	if !strings.Contains(out, "4 brokers: 3 in sync, 1 failed") || !regexp.MustCompile(`(?m)^down: .+`).MatchString(out) {
		t.Errorf("report with a broker down:\n%s", out)
	}

	// --fail-fast, one at a time: the first (down) fails, the rest are not run.
	code, out, errOut = warren(t, "diff", "--inventory", inv, "--fail-fast", "--concurrency", "1")
	if code != exitError {
		t.Fatalf("--fail-fast: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, name := range []string{"eu1", "eu2-staging", "us1"} {
		if st := reportLine(t, out, name)[1]; st != "not run" {
			t.Errorf("--fail-fast: %s is %s, want not run\n%s", name, st, out)
		}
	}

	// --select by label, and the JSON report's shape.
	t.Run("select and json", func(t *testing.T) {
		if err := nodes[2].Do(context.Background(), "DELETE", "/api/policies/shop/ttl", nil, nil); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := warren(t, "diff", "--inventory", inv, "--select", "env=production", "--select", "region=us", "--format", "json")
		noSecret(out, errOut)
		if code != exitDrift {
			t.Fatalf("exit %d, want 2\n%s%s", code, out, errOut)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
		}
		brokers := rep["brokers"].([]any)
		if len(brokers) != 1 {
			t.Fatalf("%d brokers, want us1 only:\n%s", len(brokers), out)
		}
		b := brokers[0].(map[string]any)
		delete(b, "duration_ms")
		want := map[string]any{"name": "us1", "target": "rabbitmq", "urls": []any{nodes[2].URL}, "status": "drift",
			"labels": map[string]any{"env": "production", "region": "us"},
			"counts": map[string]any{"create": 1.0, "update": 0.0, "replace": 0.0, "delete": 0.0}}
		if diff := cmp.Diff(want, b); diff != "" {
			t.Errorf("report entry (-want +got):\n%s", diff)
		}
		for k, want := range map[string]any{"version": 1.0, "command": "diff", "exit_code": 2.0, "summary": map[string]any{"drift": 1.0}} {
			if !cmp.Equal(rep[k], want) {
				t.Errorf("report %s: %v, want %v", k, rep[k], want)
			}
		}
		if !strings.Contains(errOut, `+ policy "ttl" on vhost "shop"`) {
			t.Errorf("with --format json the plans go to stderr:\n%s", errOut)
		}
	})

	// --broker NAME: one broker's URL, credentials and files from the
	// inventory, through WARREN_INVENTORY too.
	t.Run("broker", func(t *testing.T) {
		code, out, errOut := warren(t, "diff", "--inventory", inv, "--broker", "us1")
		if code != exitDrift || !strings.Contains(out, `+ policy "ttl" on vhost "shop"`) || strings.Contains(out, "BROKER") {
			t.Fatalf("diff --broker us1: exit %d\n%s%s", code, out, errOut)
		}
		t.Setenv("WARREN_INVENTORY", inv)
		if code, out, errOut := warren(t, "apply", "--broker", "us1", "--yes"); code != exitOK {
			t.Fatalf("apply --broker us1: exit %d\n%s%s", code, out, errOut)
		}
		mustInSync(t, "--broker", "us1")
		// The staging broker's overlay, and its password from a file.
		mustInSync(t, "--broker", "eu2-staging")
		// Flags given win: eu1's files against eu2's node differ (no tester).
		code, out, errOut = warren(t, "diff", "--broker", "eu1", "--url", nodes[1].URL, "--username", nodes[1].Admin,
			"--password-file", filepath.Join(filepath.Dir(inv), "eu2.password"), "--prune")
		if code != exitDrift || !strings.Contains(out, `- user "tester"`) {
			t.Errorf("diff --broker eu1 --url eu2's: exit %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = warren(t, "export", "--broker", "eu2-staging", "--only", "users")
		noSecret(out, errOut)
		if code != exitOK || !strings.Contains(out, `"tester"`) {
			t.Errorf("export --broker eu2-staging: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, errOut := warren(t, "validate", "--broker", "eu2-staging"); code != exitOK || !strings.Contains(out, "in 2 files") {
			t.Errorf("validate --broker eu2-staging: exit %d\n%s%s", code, out, errOut)
		}
	})
}

// section is a broker's part of a fleet run's output: from its header to
// the next blank line.
func section(out, name string) string {
	i := strings.Index(out, "== "+name+" (")
	if i < 0 {
		return ""
	}
	rest := out[i:]
	first := strings.Index(rest, "\n")
	end := strings.Index(rest, "\n\n")
	if end < 0 {
		end = len(rest)
	}
	return rest[first+1 : end]
}

// TestFleetUsage pins the refusals that need no broker.
func TestFleetUsage(t *testing.T) {
	inv := writeTemp(t, "inv.yaml", "brokers:\n  - {name: a, urls: [\"http://127.0.0.1:1\"], files: [defs.yaml], labels: {env: x}}\n")
	empty := writeTemp(t, "empty.yaml", "brokers: []\n")
	bad := writeTemp(t, "bad.yaml", "brokers:\n  - {name: a, urls: [\"http://127.0.0.1:1\"], password: hunter2, files: [defs.yaml]}\n")
	t.Setenv("WARREN_INVENTORY", "")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"diff", "--select", "env=x", "defs.yaml"}, 1, "--select works on an inventory's brokers"},
		{[]string{"diff", "--broker", "a"}, 1, "--broker needs an inventory"},
		{[]string{"apply", "--inventory", inv}, 1, "a fleet apply cannot ask for confirmation"},
		{[]string{"diff", "--inventory", inv, "--select", "env=y"}, 1, "no broker of"},
		{[]string{"diff", "--inventory", inv, "--broker", "b"}, 1, `has no broker "b" (it has a)`},
		{[]string{"diff", "--inventory", inv, "defs.yaml"}, 1, "name no files"},
		{[]string{"diff", "--inventory", inv, "-o", "plan.json"}, 1, "--output works on one broker"},
		{[]string{"apply", "--yes", "--inventory", inv, "--amqp-url", "amqps://127.0.0.1:5671"}, 1, "--amqp-url works on one broker"},
		{[]string{"export", "--inventory", inv}, 1, "works on one broker: give --broker NAME"},
		{[]string{"diff", "--inventory", inv, "--broker", "a", "-o", "plan.json"}, 1, "-o with --broker needs the files named"},
		{[]string{"apply", "--format", "json", "defs.yaml"}, 1, "--format is the fleet report's"},
		{[]string{"diff", "--inventory", bad}, 1, "/brokers/0/password: the password is written in the inventory"},
		{[]string{"diff", "--inventory", inv, "--concurrency", "0"}, 1, "--concurrency 0: give at least 1"},
		{[]string{"diff", "--inventory", empty}, 1, "empty.yaml lists no brokers"},
		{[]string{"validate", "--inventory", empty}, 1, "empty.yaml lists no brokers"},
		{[]string{"diff", "--inventory", inv, "--password", "hunter2"}, 1, "--password is not passed to a fleet's brokers"},
		{[]string{"diff", "--inventory", inv, "--concurrency", "-1"}, 1, "--concurrency -1: give at least 1"},
	} {
		code, out, errOut := warren(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("warren %s: exit %d, want %d with %q\n%s%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out, errOut)
		}
		if strings.Contains(out+errOut, "hunter2") {
			t.Errorf("warren %s printed the inline password", strings.Join(tc.args, " "))
		}
	}
}

// TestExampleFleet: the inventory of docs/clusters-and-fleets.md validates, with --strict, and
// says what its staging overlay changes; its base is canonically formatted.
func TestExampleFleet(t *testing.T) {
	t.Setenv("BILLING_PASSWORD", "x")
	t.Setenv("TESTER_PASSWORD", "x")
	inv := filepath.Join(examplesDir(t), "fleet", "inventory.yaml")
	code, out, errOut := warren(t, "validate", "--strict", "--inventory", inv)
	if code != exitOK {
		t.Fatalf("validate --inventory: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`layer: policy "orders-ttl" on vhost "shop": deleted by ` + filepath.Join(filepath.Dir(inv), "overlays/staging.yaml") + ":15:5",
		`layer: queue "orders.incoming" on vhost "shop": arguments.x-max-length set by ` + filepath.Join(filepath.Dir(inv), "overlays/staging.yaml") + ":22:7 (was " +
			filepath.Join(filepath.Dir(inv), "base/definitions.yaml") + ":28:7)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate --inventory: no %q in\n%s", want, out)
		}
	}
	if code, out, _ := warren(t, "fmt", "--check", filepath.Join(examplesDir(t), "fleet", "base")); code != exitOK {
		t.Errorf("examples/fleet/base is not canonically formatted:\n%s", out)
	}
	// The JSON form of the same.
	code, out, _ = warren(t, "validate", "--inventory", inv, "--format", "json")
	var rep struct {
		Valid   bool
		Brokers []struct {
			Name   string
			Valid  bool
			Files  []string
			Layers []string
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || !rep.Valid || len(rep.Brokers) != 3 || len(rep.Brokers[2].Layers) != 2 || len(rep.Brokers[2].Files) != 2 {
		t.Errorf("validate --inventory --format json: exit %d, %v\n%s", code, err, out)
	}
}

// TestFleetLayerErrorPointsAtOverlay: an error in a field an overlay set
// is reported at the overlay's line, by validate --inventory and by diff.
func TestFleetLayerErrorPointsAtOverlay(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(fleetBase), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("queues:\n  - name: orders\n    vhost: shop\n    arguments:\n      x-max-length: -1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "inv.yaml"), []byte("brokers:\n  - {name: b, urls: [\"http://127.0.0.1:1\"], files: [base.yaml], overlays: [bad.yaml]}\n"), 0o644)
	t.Setenv("APP_PASSWORD", "x")
	want := filepath.Join(dir, "bad.yaml") + ":5:7: /queues/0/arguments/x-max-length: "
	code, out, errOut := warren(t, "validate", "--inventory", filepath.Join(dir, "inv.yaml"))
	if code != exitError || !strings.Contains(out, want) {
		t.Errorf("validate --inventory: exit %d, want 1 and %q\n%s%s", code, want, out, errOut)
	}
	code, out, errOut = warren(t, "diff", "--inventory", filepath.Join(dir, "inv.yaml"))
	if code != exitError || !strings.Contains(out, want) || !strings.Contains(out, "1 broker: 1 failed") {
		t.Errorf("diff --inventory: exit %d, want 1 and %q\n%s%s", code, want, out, errOut)
	}
}

// TestFleetRunsAtOnce: a fleet's brokers run at once in one process
// (here against dead URLs: no node needed), each reported; under go test
// -race this is the test that sees their apps share nothing unguarded.
func TestFleetRunsAtOnce(t *testing.T) {
	var inv strings.Builder
	inv.WriteString("brokers:\n")
	for i := range 6 {
		fmt.Fprintf(&inv, "  - {name: b%d, urls: [%q], username: u, password: {env: FLEET_RACE_PW}, files: [defs.yaml]}\n", i, deadURL(t))
	}
	path := writeTemp(t, "inv.yaml", inv.String())
	os.WriteFile(filepath.Join(filepath.Dir(path), "defs.yaml"), []byte("vhosts: [{name: v}]\n"), 0o644)
	t.Setenv("FLEET_RACE_PW", "x")
	for _, cmd := range [][]string{{"diff"}, {"apply", "--yes"}} {
		code, out, errOut := warren(t, append(cmd, "--inventory", path, "--concurrency", "6")...)
		if code != exitError || !strings.Contains(out, "6 brokers: 6 failed") {
			t.Errorf("warren %s: exit %d, want 1 and 6 failed\n%s%s", cmd[0], code, out, errOut)
		}
	}
}

// TestFleetOwnPasswords: a fleet's broker logs in with its entry's own
// password source; WARREN_PASSWORD (one broker's) is not sent to an entry
// that names none.
func TestFleetOwnPasswords(t *testing.T) {
	path := writeTemp(t, "inv.yaml", fmt.Sprintf("brokers:\n  - {name: nopw, urls: [%q], username: app, files: [defs.yaml]}\n", deadURL(t)))
	os.WriteFile(filepath.Join(filepath.Dir(path), "defs.yaml"), []byte("vhosts: [{name: v}]\n"), 0o644)
	t.Setenv("WARREN_PASSWORD", "another-brokers-password")
	code, out, errOut := warren(t, "diff", "--inventory", path)
	if code != exitError || !strings.Contains(out, `nopw: no password for user "app": give the inventory entry password`) {
		t.Errorf("an entry without a password: exit %d, want 1 and no login\n%s%s", code, out, errOut)
	}
}
