package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// federationNode starts a node with the federation plugin, of the series
// the test process uses.
func federationNode(t *testing.T) *rabbitmqtest.Node {
	t.Helper()
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{
		Plugins: []string{"rabbitmq_federation", "rabbitmq_federation_management", "rabbitmq_shovel", "rabbitmq_shovel_management"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	t.Logf("on RabbitMQ %s at %s", n.Version, n.URL)
	return n
}

// TestFederationSecrets runs both federation tests on one node (a node
// with the plugin takes seconds to start).
func TestFederationSecrets(t *testing.T) {
	n := federationNode(t)
	t.Run("BrokerErrorMasksSecrets", func(t *testing.T) { brokerErrorMasksSecrets(t, n) })
	t.Run("URIPasswordWithSpaces", func(t *testing.T) { uriPasswordWithSpaces(t, n) })
	t.Run("BrokerURIs", func(t *testing.T) { brokerURIs(t, n) })
}

// brokerErrorMasksSecrets: RabbitMQ repeats a federation upstream URI
// it refuses, password included; warren shows the error with the password
// masked (by the value it read, and by URI shape), in apply's text and in
// a fleet's text and json reports.
func brokerErrorMasksSecrets(t *testing.T, n *rabbitmqtest.Node) {
	useNode(t, n)
	const pw = "Typo-S3cret-77"
	t.Setenv("UP_URI", "amqps://fed:"+pw+"@localhost:5671/prod?depth=abc")
	dir := t.TempDir()
	defs := filepath.Join(dir, "defs.yaml")
	os.WriteFile(defs, []byte(`vhosts:
  - name: fedv
parameters:
  - vhost: fedv
    component: federation-upstream
    name: origin
    value: {uri: {env: UP_URI}, expires: 1000}
`), 0o644)
	code, out, errOut := warren(t, "apply", "--yes", defs)
	t.Logf("apply: exit %d\n%s%s", code, out, errOut)
	if code != exitError {
		t.Fatalf("apply of a URI the broker refuses: exit %d", code)
	}
	if strings.Contains(out+errOut, pw) {
		t.Errorf("the password was printed:\n%s%s", out, errOut)
	}
	if !strings.Contains(errOut, "(sensitive)") {
		t.Errorf("want the broker's error with the password masked:\n%s", errOut)
	}
	// A URI written in the files, with a space in its password: masked by
	// its shape.
	literal := filepath.Join(dir, "literal.yaml")
	os.WriteFile(literal, []byte(`vhosts:
  - name: fedv
parameters:
  - vhost: fedv
    component: federation-upstream
    name: literal
    value: {uri: "amqps://fed:Lit eral@localhost:5671/prod?depth=abc", expires: 1000}
`), 0o644)
	code, out, errOut = warren(t, "apply", "--yes", literal)
	if code != exitError || strings.Contains(out+errOut, "Lit eral") || !strings.Contains(errOut, "amqps://fed:(sensitive)@localhost:5671/prod?depth=abc") {
		t.Errorf("apply of a literal URI the broker refuses: exit %d\n%s%s", code, out, errOut)
	}
	os.WriteFile(filepath.Join(dir, "inv.yaml"), []byte(fmt.Sprintf(`brokers:
  - name: fed
    urls: [%s]
    username: %s
    password: {env: WARREN_PASSWORD}
    files: [defs.yaml]
`, n.URL, n.Admin)), 0o644)
	for _, format := range []string{"text", "json"} {
		code, out, errOut := warren(t, "apply", "--inventory", filepath.Join(dir, "inv.yaml"), "--yes", "--format", format)
		t.Logf("fleet apply --format %s: exit %d\n%s%s", format, code, out, errOut)
		if code != exitError {
			t.Errorf("fleet apply: exit %d", code)
		}
		if strings.Contains(out+errOut, pw) {
			t.Errorf("fleet apply --format %s printed the password:\n%s%s", format, out, errOut)
		}
		if format == "json" && !json.Valid([]byte(out)) {
			t.Errorf("not json:\n%s", out)
		}
	}
}

// uriPasswordWithSpaces: RabbitMQ 4.3.6 takes an upstream URI whose
// password has a space, or a "#"; the live password is masked in text, markdown and
// json plans and in a saved plan, and an export holding it is written
// 0600.
func uriPasswordWithSpaces(t *testing.T, n *rabbitmqtest.Node) {
	useNode(t, n)
	ctx := context.Background()
	if err := n.Do(ctx, "PUT", "/api/vhosts/spaced", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	const live = "amqp://fed:Canary A2@remote-host/prod"
	if err := n.Do(ctx, "PUT", "/api/parameters/federation-upstream/spaced/up", map[string]any{"value": map[string]any{"uri": live, "expires": 1000}}, nil); err != nil {
		t.Fatalf("RabbitMQ %s refuses the URI: %v", n.Version, err)
	}
	var got struct {
		Value map[string]any `json:"value"`
	}
	if err := n.Do(ctx, "GET", "/api/parameters/federation-upstream/spaced/up", nil, &got); err != nil || got.Value["uri"] != live {
		t.Fatalf("the broker holds %v (%v), want %q", got.Value, err, live)
	}
	// All three versions take a "#" in a password that starts with
	// digits (as host fed, port 2024): it is masked all the same.
	const hashed = "amqp://fed:2024#Canary@remote-host/prod"
	if err := n.Do(ctx, "PUT", "/api/parameters/federation-upstream/spaced/hashed", map[string]any{"value": map[string]any{"uri": hashed, "expires": 1000}}, nil); err != nil {
		t.Fatalf("RabbitMQ %s refuses the URI: %v", n.Version, err)
	}
	t.Setenv("UP_URI", "amqp://fed:Other B3@remote-host/prod")
	t.Setenv("HASHED_URI", "amqp://fed:2025#Other@remote-host/prod")
	dir := t.TempDir()
	defs := filepath.Join(dir, "defs.yaml")
	os.WriteFile(defs, []byte(`vhosts:
  - name: spaced
parameters:
  - vhost: spaced
    component: federation-upstream
    name: up
    value: {uri: {env: UP_URI}, expires: 2000}
  - vhost: spaced
    component: federation-upstream
    name: hashed
    value: {uri: {env: HASHED_URI}, expires: 2000}
`), 0o644)
	saved := filepath.Join(dir, "plan.json")
	var all string
	for _, args := range [][]string{{"diff", defs}, {"diff", "--format", "json", defs}, {"diff", "--format", "markdown", defs}, {"diff", "-o", saved, defs}} {
		code, out, errOut := warren(t, args...)
		if code != exitDrift {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		all += out + errOut
	}
	data, _ := os.ReadFile(saved)
	all += string(data)
	for _, secret := range []string{"Canary", "A2@", "Other", "B3@", "2024#", "2025#"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q was printed or saved:\n%s", secret, all)
		}
	}
	export := filepath.Join(dir, "export.json")
	if code, out, errOut := warren(t, "export", "--only", "parameters", "-o", export); code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	if st, err := os.Stat(export); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("an export with a URI password: mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

// brokerURIs: warren refuses the upstream and shovel URIs the broker
// refuses, and takes those it takes (each checked against the node); a
// malformed literal URI is E111 at its place from validate, one read from
// {env} is E111 at the reference's place from diff and apply, its value
// not shown, and nothing changes.
func brokerURIs(t *testing.T, n *rabbitmqtest.Node) {
	useNode(t, n)
	ctx := context.Background()
	for i, u := range []string{"amqp://", "amqp://host", "AMQP://host", "amqps://host:5671", "amqp://[::1]:5672/", "amqp://u:p w@host:5672/v?x=1&y=2",
		"amqp://host/a%2Fb", "amqp://host?heartbeat=5", "amqp://host?foo=bar", "amqp://host/v#frag",
		"amqp://host:0", "amqp://host:65536", "amqp://host:abc", "amqp://host:", "http://host", "amqp:/host", "", "amqp://host/a/b", "amqp://host/%zz",
		"amqp://host?heartbeat=abc", "amqp://fed:secret",
		// Read as amqp_uri reads them: a signed or 20-digit integer, the
		// first of a repeated parameter, no percent-decoding in the
		// query, the port after the host's first ":", amqps needs a host.
		"amqp://host?channel_max=+3", "amqp://h?heartbeat=99999999999999999999", "amqp://h?heartbeat=5&heartbeat=x",
		"amqp://h?heartbeat=x&heartbeat=5", "amqp://h?x=%zz", "amqp://h?heartbeat", "amqp://host?heartbeat=%35",
		"amqp://h?heartbeat=%2B5", "amqp://h?heartbeat=5=6", "amqp://host:5672:5673", "amqp://u:p:q@h:5:6", "amqp://h:+5",
		"amqp://[::1", "amqp://[::1]5672", "amqp://[::1]:5672:5", "amqp://[::1]:", "amqp://u:p@[fe80::1%25eth0]:5672/",
		"amqps://", "amqps:///", "amqps://u:p@/v", "amqps://?heartbeat=5", "amqp://:5672", "amqp://[]:5672", "amqp://[]", "amqp://u:p@"} {
		for _, param := range []struct{ component, key string }{{"federation-upstream", "uri"}, {"shovel", "src-uri"}} {
			value := map[string]any{param.key: u}
			if param.component == "shovel" {
				value = map[string]any{"src-uri": u, "src-queue": "a", "dest-uri": "amqp://", "dest-queue": "b"}
			}
			body, _ := json.Marshal(map[string]any{"value": value})
			err := n.Do(ctx, "PUT", fmt.Sprintf("/api/parameters/%s/%%2F/uri-%d", param.component, i), json.RawMessage(body), nil)
			mine := definitions.CheckBrokerURI(u)
			if (err == nil) != (mine == nil) {
				t.Errorf("%s %q: RabbitMQ %s says %v, warren says %v", param.component, u, n.Version, err, mine)
			}
		}
	}
	dir := t.TempDir()
	bad := `vhosts:
  - name: urib
parameters:
  - vhost: urib
    component: shovel
    name: s
    value:
      src-uri: ["amqp://", URI]
      src-queue: a
      dest-uri: "amqp://"
      dest-queue: b
`
	literal := filepath.Join(dir, "literal.yaml")
	os.WriteFile(literal, []byte(strings.Replace(bad, "URI", `"amqp://fed:Hidden-9@host:99999/v"`, 1)), 0o644)
	code, out, errOut := warren(t, "validate", literal)
	if code != exitError || !strings.Contains(out+errOut, "literal.yaml:8:28: /parameters/0/value/src-uri/1: src-uri is not a URI RabbitMQ takes: its port is not a number from 1 to 65535 [E111]") || strings.Contains(out+errOut, "Hidden-9") {
		t.Errorf("validate: exit %d\n%s%s", code, out, errOut)
	}
	ref := filepath.Join(dir, "ref.yaml")
	os.WriteFile(ref, []byte(strings.Replace(bad, "URI", "{env: SHOVEL_URI}", 1)), 0o644)
	t.Setenv("SHOVEL_URI", "amqp://fed:Hidden-9@host/a/b")
	for _, args := range [][]string{{"diff", ref}, {"apply", "--yes", ref}} {
		code, out, errOut := warren(t, args...)
		if code != exitError || !strings.Contains(errOut, `ref.yaml:8:28: /parameters/0/value/src-uri/1: parameter shovel "s" on vhost "urib": value/src-uri/1: the URI read from {env: SHOVEL_URI} is not one RabbitMQ takes: its vhost has more than one path segment`) || strings.Contains(out+errOut, "Hidden-9") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/urib", nil, nil); err == nil {
		t.Error("apply created the vhost")
	}
}
