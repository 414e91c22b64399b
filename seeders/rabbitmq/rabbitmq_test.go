package rabbitmq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

func TestMain(m *testing.M) { rabbitmqtest.Main(m) }

// client logs in to the node as its administrator.
func client(t *testing.T, n *rabbitmqtest.Node) *rabbitmq.Client {
	t.Helper()
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// importDefs posts definitions with RabbitMQ's own import.
func importDefs(t *testing.T, n *rabbitmqtest.Node, defs any) {
	t.Helper()
	if err := n.Do(context.Background(), "POST", "/api/definitions", defs, nil); err != nil {
		t.Fatalf("RabbitMQ's import: %v", err)
	}
}

func parse(t *testing.T, name string, data []byte) *definitions.Document {
	t.Helper()
	doc, diags := definitions.Parse(name, data)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return doc
}

// diff compares desired with the node and returns the plan's text. The
// node's default guest user is kept: these tests are about what RabbitMQ's
// import makes, which leaves guest alone.
func diff(t *testing.T, c *rabbitmq.Client, desired *definitions.Document, opts ...plan.DiffOption) (*plan.Plan, string) {
	t.Helper()
	live, err := c.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Diff(desired, live, append([]plan.DiffOption{plan.WithKeepGuest(true)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	render.Text(&b, p, render.Options{})
	return p, b.String()
}

const sample = `{
  "users": [
    {"name": "app", "password": "app-secret-1", "tags": ["monitoring"], "limits": {"max-connections": 10}},
    {"name": "ops", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "administrator"}
  ],
  "vhosts": [{"name": "orders", "description": "order intake", "tags": ["prod"]}, {"name": "billing"}],
  "permissions": [
    {"user": "app", "vhost": "orders", "configure": "^app\\.", "write": ".*", "read": ".*"},
    {"user": "ops", "vhost": "billing", "configure": ".*", "write": ".*", "read": ".*"}
  ],
  "topic_permissions": [{"user": "app", "vhost": "orders", "exchange": "amq.topic", "write": "^orders\\.", "read": ".*"}],
  "parameters": [{"vhost": "orders", "component": "vhost-limits", "name": "limits", "value": {"max-queues": 100}}],
  "global_parameters": [{"name": "cluster_name", "value": "warren-test"}],
  "policies": [{"vhost": "orders", "name": "ttl", "pattern": "^orders\\.", "apply-to": "queues", "priority": 1, "definition": {"message-ttl": 60000}}],
  "queues": [
    {"name": "orders.incoming", "vhost": "orders", "durable": true, "auto_delete": false, "arguments": {"x-queue-type": "quorum"}},
    {"name": "orders.audit", "vhost": "orders", "durable": true, "auto_delete": false, "arguments": {"x-max-length": 1000}}
  ],
  "exchanges": [{"name": "orders.events", "vhost": "orders", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
  "bindings": [{"vhost": "orders", "source": "orders.events", "destination_type": "queue", "destination": "orders.incoming", "routing_key": "order.#", "arguments": {}}]
}`

func TestExportTrimsAndRoundTrip(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	c := client(t, n)
	ctx := context.Background()
	var defs map[string]any
	json.Unmarshal([]byte(sample), &defs)
	importDefs(t, n, defs)

	// Reading kind by kind gives what the whole export gives.
	whole, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slow := rabbitmq.SlowDecodes.Load()
	byKind, err := c.ReadKinds(ctx, definitions.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := definitions.Digest(whole), definitions.Digest(byKind); a != b {
		t.Errorf("ReadKinds differs from Read:\n%s\n%s", whole.EncodeJSON(), byKind.EncodeJSON())
	}
	// The broker's answers are decoded straight into the model.
	if n := rabbitmq.SlowDecodes.Load() - slow; n != 0 {
		t.Errorf("%d of the broker's listings did not take the fast decoder", n)
	}

	doc, err := c.Export(ctx, rabbitmq.ExportOptions{Trims: append(definitions.DefaultTrims(), "hashes", "guest")})
	if err != nil {
		t.Fatal(err)
	}
	out := string(doc.EncodeJSON())
	for _, gone := range []string{"rabbit_version", "internal_cluster_id", "cluster_name", "password_hash", `"guest"`} {
		if strings.Contains(out, gone) {
			t.Errorf("export still has %s:\n%s", gone, out)
		}
	}
	// 3.10's /api/definitions drops vhost metadata; the export must not.
	if !strings.Contains(out, `"description": "order intake"`) || !strings.Contains(out, `"prod"`) {
		t.Errorf("export lost the vhost's description or tags:\n%s", out)
	}

	// With hashes, the export round-trips: import it into a blank node and
	// warren diff finds nothing to do.
	full, err := c.Export(ctx, rabbitmq.ExportOptions{Trims: []string{"versions", "cluster-id"}})
	if err != nil {
		t.Fatal(err)
	}
	exported := full.EncodeJSON()
	n = rabbitmqtest.Shared(t) // reset: a blank node
	var again map[string]any
	json.Unmarshal(exported, &again)
	importDefs(t, n, again)
	p, text := diff(t, c, parse(t, "export.json", exported))
	if !p.Empty() {
		t.Errorf("after importing its own export the node differs:\n%s", text)
	}
	// The desired file with a plaintext password is in sync too: warren
	// hashes it with the broker's salt.
	p, text = diff(t, c, parse(t, "sample.json", []byte(sample)))
	if !p.Empty() {
		t.Errorf("the sample is not in sync after importing its export:\n%s", text)
	}
}

func TestExportSelect(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	c := client(t, n)
	var defs map[string]any
	json.Unmarshal([]byte(sample), &defs)
	importDefs(t, n, defs)
	doc, err := c.Export(context.Background(), rabbitmq.ExportOptions{Trims: definitions.DefaultTrims(), Vhost: "orders", Only: []definitions.Kind{definitions.KindVhost, definitions.KindQueue, definitions.KindPermission}})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Vhosts) != 1 || doc.Vhosts[0].Name != "orders" || len(doc.Queues) != 2 || len(doc.Permissions) != 2 || doc.Users != nil || doc.Exchanges != nil {
		t.Errorf("selected: %s", doc.EncodeJSON())
	}
}

// TestDriftOfEveryKind changes the broker behind warren's back, one kind of
// change at a time, and checks that diff reports exactly that.
func TestDriftOfEveryKind(t *testing.T) {
	desired := parse(t, "sample.json", []byte(sample))
	tests := []struct {
		name   string
		change func(ctx context.Context, n *rabbitmqtest.Node) error
		want   []string // lines the plan must hold
	}{
		{"changed permission", func(ctx context.Context, n *rabbitmqtest.Node) error {
			return n.Do(ctx, "PUT", "/api/permissions/orders/app", map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil)
		}, []string{`~ permission "app" on vhost "orders"`, `configure: ".*" → "^app\\."`}},
		{"deleted vhost", func(ctx context.Context, n *rabbitmqtest.Node) error {
			return n.Do(ctx, "DELETE", "/api/vhosts/billing", nil, nil)
		}, []string{`+ vhost "billing"`, `+ permission "ops" on vhost "billing"`}},
		{"changed tag", func(ctx context.Context, n *rabbitmqtest.Node) error {
			return n.Do(ctx, "PUT", "/api/users/app", map[string]any{"password": "app-secret-1", "tags": "management"}, nil)
		}, []string{`~ user "app"`, `tags: ["management"] → ["monitoring"]`}},
		{"changed password", func(ctx context.Context, n *rabbitmqtest.Node) error {
			return n.Do(ctx, "PUT", "/api/users/app", map[string]any{"password": "someone-else", "tags": "monitoring"}, nil)
		}, []string{`~ user "app"`, `password: (sensitive) differs`}},
		{"queue arguments differ", func(ctx context.Context, n *rabbitmqtest.Node) error {
			if err := n.Do(ctx, "DELETE", "/api/queues/orders/orders.audit", nil, nil); err != nil {
				return err
			}
			return n.Do(ctx, "PUT", "/api/queues/orders/orders.audit", map[string]any{"durable": true, "arguments": map[string]any{"x-max-length": 5}}, nil)
		}, []string{`± queue "orders.audit" on vhost "orders"`, `arguments: {"x-max-length":5,"x-queue-type":"classic"} → {"x-max-length":1000,"x-queue-type":"classic"}`}},
		{"changed policy", func(ctx context.Context, n *rabbitmqtest.Node) error {
			return n.Do(ctx, "PUT", "/api/policies/orders/ttl", map[string]any{"pattern": "^orders\\.", "apply-to": "queues", "priority": 1, "definition": map[string]any{"message-ttl": 1000}}, nil)
		}, []string{`~ policy "ttl" on vhost "orders"`, `definition: {"message-ttl":1000} → {"message-ttl":60000}`}},
		{"vhost limit removed", func(ctx context.Context, n *rabbitmqtest.Node) error {
			return n.Do(ctx, "DELETE", "/api/vhost-limits/orders/max-queues", nil, nil)
		}, []string{`~ parameter vhost-limits "limits" on vhost "orders"`, `value: [] → {"max-queues":100}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := rabbitmqtest.Shared(t)
			c := client(t, n)
			var defs map[string]any
			json.Unmarshal([]byte(sample), &defs)
			importDefs(t, n, defs)
			if p, text := diff(t, c, desired); !p.Empty() {
				t.Fatalf("not in sync right after the import:\n%s", text)
			}
			if err := tt.change(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			p, text := diff(t, c, desired)
			if p.Empty() {
				t.Fatalf("no drift found")
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("plan lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "app-secret-1") || strings.Contains(text, "someone-else") {
				t.Errorf("the plan shows a password:\n%s", text)
			}
		})
	}
}

// TestNamesThatNeedEncoding uses vhost and user names with /, spaces, %, #
// and non-ASCII letters.
func TestNamesThatNeedEncoding(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	c := client(t, n)
	names := []string{"/", "with space", "100%", "a#b", "ünïcødé/vhost", "a+b?c=d&e"}
	var defs struct {
		Users       []map[string]any `json:"users"`
		Vhosts      []map[string]any `json:"vhosts"`
		Permissions []map[string]any `json:"permissions"`
		Queues      []map[string]any `json:"queues"`
	}
	for _, name := range names {
		defs.Users = append(defs.Users, map[string]any{"name": "u " + name, "password": "pw", "tags": []string{}})
		defs.Vhosts = append(defs.Vhosts, map[string]any{"name": name, "description": "vhost " + name})
		defs.Permissions = append(defs.Permissions, map[string]any{"user": "u " + name, "vhost": name, "configure": ".*", "write": "", "read": ".*"})
		defs.Queues = append(defs.Queues, map[string]any{"name": "q " + name, "vhost": name, "durable": true, "auto_delete": false, "arguments": map[string]any{}})
	}
	importDefs(t, n, defs)
	data, _ := json.Marshal(defs)
	pl, text := diff(t, c, parse(t, "names.json", data))
	if !pl.Empty() {
		t.Errorf("names that need encoding are not in sync:\n%s", text)
	}
	// A per-object endpoint with an encoded name answers too.
	var who rabbitmq.Whoami
	for _, name := range names {
		p := "/api/permissions/" + url.PathEscape(name) + "/" + url.PathEscape("u "+name)
		if err := n.Do(context.Background(), "GET", p, nil, &who); err != nil {
			t.Errorf("GET %s: %v", p, err)
		}
	}
}

func TestErrors(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	for user, tags := range map[string]string{"viewer": "monitoring", "manager": "management", "untagged": ""} {
		if err := n.Do(ctx, "PUT", "/api/users/"+user, map[string]any{"password": user + "-pw", "tags": tags}, nil); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		cfg      rabbitmq.Config
		want     string
		wantCode int
	}{
		{"wrong password", rabbitmq.Config{URLs: []string{n.URL}, Username: n.Admin, Password: "wrong"},
			fmt.Sprintf(`user %q could not log in: wrong user name or password (401 `, n.Admin), 401},
		{"not an administrator", rabbitmq.Config{URLs: []string{n.URL}, Username: "viewer", Password: "viewer-pw"},
			`user "viewer" is not an administrator`, 401},
		{"a management user", rabbitmq.Config{URLs: []string{n.URL}, Username: "manager", Password: "manager-pw"},
			`user "manager" is not an administrator`, 401},
		{"a user without tags", rabbitmq.Config{URLs: []string{n.URL}, Username: "untagged", Password: "untagged-pw"},
			`user "untagged" is not an administrator`, 401},
		{"node down", rabbitmq.Config{URLs: []string{"http://127.0.0.1:1"}, Username: "x", Password: "y", Retries: 1},
			"connection refused", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := rabbitmq.New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Read(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
			// The first request of every command, which a management or
			// monitoring user may not make either ("User not authorised to
			// access object" on 3.10.8), says the same.
			if _, idErr := rabbitmq.NewTarget(c, definitions.TargetRabbitMQ).Identity(ctx); idErr == nil || !strings.Contains(idErr.Error(), tt.want) {
				t.Errorf("Identity: got %v, want an error saying %q", idErr, tt.want)
			}
			var ae *rabbitmq.APIError
			if tt.wantCode != 0 && (!errors.As(err, &ae) || ae.Status != tt.wantCode) {
				t.Errorf("want an APIError with status %d, got %#v", tt.wantCode, err)
			}
		})
	}
}

func TestFailoverToSecondURL(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{"http://127.0.0.1:1", n.URL}, Username: n.Admin, Password: n.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.Whoami(context.Background())
	if err != nil || who.Name != n.Admin {
		t.Fatalf("whoami through the second URL: %+v, %v", who, err)
	}
	if c.URL() != n.URL {
		t.Errorf("the client should stay on the node that answered, got %s", c.URL())
	}
}
