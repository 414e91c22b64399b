package migrate_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/migrate"
	"github.com/warren-tool/warren/internal/golden"
)

// TestTransformGolden transforms the old.yaml of each testdata/*.txtar
// archive with the options its comment gives (version=, upstream=) and
// compares the report and the new cluster's definitions (Desired) with
// the archive's report and new.yaml.
func TestTransformGolden(t *testing.T) {
	for _, ar := range golden.Glob(t, "testdata/*.txtar") {
		t.Run(ar.Name(), func(t *testing.T) {
			var err error
			opts := migrate.Options{Version: "4.0"}
			if v, ok := ar.Option("version"); ok {
				opts.Version = v
			}
			upstream := "amqp://old.example:5672"
			if v, ok := ar.Option("upstream"); ok {
				upstream = v
			}
			if opts.Upstream, err = migrate.ParseURITemplate(upstream); err != nil {
				t.Fatal(err)
			}
			old, _ := ar.Section("old.yaml")
			doc, diags := definitions.Parse("old.yaml", old)
			if diags.HasErrors() {
				t.Fatalf("old.yaml: %v", diags)
			}
			res := migrate.Transform(doc, opts)
			var report bytes.Buffer
			res.Report(&report)
			got := map[string]string{"report": report.String(), "new.yaml": ""}
			if len(res.Problems) == 0 {
				d := res.Desired()
				d.Sort()
				got["new.yaml"] = string(d.EncodeYAML(""))
			}
			ar.Check(t, []string{"report", "new.yaml"}, got)
		})
	}
}

func TestParseURITemplate(t *testing.T) {
	for _, c := range []struct {
		in      string
		vhost   string
		want    any
		wantErr string
	}{
		{in: "env:OLD_URI_{vhost}", vhost: "/", want: map[string]any{"env": "OLD_URI_DEFAULT"}},
		{in: "env:OLD_URI_{vhost}", vhost: "orders-eu.1", want: map[string]any{"env": "OLD_URI_ORDERS_EU_1"}},
		{in: "file:/run/secrets/old-{vhost}", vhost: "a/b", want: map[string]any{"file": "/run/secrets/old-a_b"}},
		{in: "amqps://fed@old.example:5671", vhost: "/", want: "amqps://fed@old.example:5671/%2F"},
		{in: "amqp://fed:secret@old.example", wantErr: "holds a password"},
		{in: "amqp://old.example/orders", wantErr: "names a vhost"},
		{in: "http://old.example", wantErr: "use env:NAME"},
		// url.Parse reads these as host fed, port 2024: the "secret" would
		// be written into the new cluster's definitions in clear.
		{in: "amqp://fed:2024#secret@old.example", wantErr: "query or fragment"},
		{in: "amqp://fed:2024?secret@old.example", wantErr: "query or fragment"},
		{in: "amqp://old.example?heartbeat=5", wantErr: "query or fragment"},
	} {
		tmpl, err := migrate.ParseURITemplate(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s: error %v, want one saying %q (and no password)", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if d := cmp.Diff(c.want, tmpl.For(c.vhost)); d != "" {
			t.Errorf("%s for %q (-want +got):\n%s", c.in, c.vhost, d)
		}
	}
}

// The user warren logs in to the new cluster as keeps its password there:
// moving the old cluster's hash would lock warren out half-way.
func TestTransformKeepsActingUser(t *testing.T) {
	old, diags := definitions.Parse("old.yaml", []byte(`users:
  - {name: admin, password_hash: kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR, tags: [administrator]}
  - {name: app, password_hash: kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR, tags: []}
permissions:
  - {user: admin, vhost: /, configure: ".*", write: ".*", read: ".*"}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res := migrate.Transform(old, migrate.Options{Version: "4.0", ActingUser: "admin", Upstream: migrate.URITemplate{Literal: "amqp://old"}})
	var users []string
	for _, u := range res.Definitions.Users {
		users = append(users, u.Name)
	}
	if d := cmp.Diff([]string{"app"}, users); d != "" {
		t.Errorf("users moved (-want +got):\n%s", d)
	}
	if len(res.Definitions.Permissions) != 1 {
		t.Errorf("the acting user's permissions were not moved: %v", res.Definitions.Permissions)
	}
	if len(res.Changes) != 1 || !strings.Contains(res.Changes[0].String(), `user "admin": not moved`) {
		t.Errorf("changes: %v", res.Changes)
	}
}

// What NotMoved names stays on the old cluster, and a policy not moved
// still says which queues were mirrored; the federation's policies are
// at MinPriority at least.
func TestTransformNotMoved(t *testing.T) {
	old, diags := definitions.Parse("old.yaml", []byte(`users:
  - {name: platform, password_hash: kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR, tags: [monitoring]}
  - {name: app, password_hash: kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR, tags: []}
permissions:
  - {user: platform, vhost: /, configure: "", write: "", read: ".*"}
  - {user: app, vhost: /, configure: ".*", write: ".*", read: ".*"}
policies:
  - {name: platform-ha, vhost: /, pattern: ".*", priority: 0, definition: {ha-mode: all, max-length: 10}}
queues:
  - {name: q, vhost: /, durable: true, auto_delete: false}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	platform := func(o definitions.Object) string {
		switch o := o.(type) {
		case *definitions.User:
			if o.Name == "platform" {
				return "the platform's"
			}
		case *definitions.Permission:
			if o.User == "platform" {
				return "the platform's"
			}
		case *definitions.Policy:
			if o.Name == "platform-ha" {
				return "the platform's"
			}
		}
		return ""
	}
	res := migrate.Transform(old, migrate.Options{Version: "4.0", NotMoved: platform, MinPriority: 2, Upstream: migrate.URITemplate{Literal: "amqp://old"}})
	if len(res.Definitions.Users) != 1 || len(res.Definitions.Permissions) != 1 || len(res.Definitions.Policies) != 0 {
		t.Errorf("moved: users %v, permissions %v, policies %v", res.Definitions.Users, res.Definitions.Permissions, res.Definitions.Policies)
	}
	if len(res.Definitions.Queues) != 1 || res.Definitions.Queues[0].Type != "quorum" {
		t.Errorf("queues: %v, want q as a quorum queue (platform-ha mirrored it)", res.Definitions.Queues)
	}
	if len(res.Federation.Policies) != 1 || *res.Federation.Policies[0].Priority != 2 || res.Federation.Policies[0].Name != migrate.PolicyPrefix {
		t.Errorf("federation policies: %+v, want one %s at priority 2 shadowing nothing", res.Federation.Policies, migrate.PolicyPrefix)
	}
	var notMoved int
	for _, c := range res.Changes {
		if c.What == "not moved" && c.Reason == "the platform's" {
			notMoved++
		}
	}
	if notMoved != 3 {
		t.Errorf("changes: %v, want 3 not moved", res.Changes)
	}
}

// TestTransformAboveLivePolicies: the federation's policy goes above the
// new cluster's own policies that match a queue it drains (one of them
// would otherwise take the queue from the federation), and only those: not
// one of another vhost, of another pattern or apply-to, one the migration
// overwrites with the old cluster's, or the federation's own from an
// earlier apply (the plan would change after every apply).
func TestTransformAboveLivePolicies(t *testing.T) {
	old, diags := definitions.Parse("old.yaml", []byte(`vhosts:
  - {name: v}
policies:
  - {name: capped, vhost: v, pattern: "^orders$", apply-to: queues, priority: 2, definition: {max-length: 10}}
queues:
  - {name: orders, vhost: v, durable: true, auto_delete: false}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	live, diags := definitions.Parse("live.yaml", []byte(`policies:
  - {name: own, vhost: v, pattern: "^ord", apply-to: queues, priority: 7, definition: {max-length: 5}}
  - {name: all, vhost: v, pattern: ".*", apply-to: all, priority: 4, definition: {max-length: 5}}
  - {name: others, vhost: v, pattern: "^invoices", apply-to: queues, priority: 50, definition: {max-length: 5}}
  - {name: exchanges, vhost: v, pattern: "orders", apply-to: exchanges, priority: 40, definition: {alternate-exchange: x}}
  - {name: own, vhost: w, pattern: ".*", apply-to: queues, priority: 60, definition: {max-length: 5}}
  - {name: capped, vhost: v, pattern: ".*", apply-to: queues, priority: 100, definition: {max-length: 5}}
  - {name: warren-migrate.capped, vhost: v, pattern: "^(orders)$", apply-to: queues, priority: 30, definition: {federation-upstream: warren-migrate}}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	res := migrate.Transform(old, migrate.Options{Version: "4.0", Upstream: migrate.URITemplate{Literal: "amqp://old"}, LivePolicies: live.Policies})
	if len(res.Problems) > 0 {
		t.Fatal(res.Problems)
	}
	if len(res.Federation.Policies) != 1 || res.Federation.Policies[0].Name != "warren-migrate.capped" || *res.Federation.Policies[0].Priority != 8 {
		t.Errorf("federation policies: %+v, want warren-migrate.capped at priority 8, above the new cluster's own (7)", res.Federation.Policies)
	}
}
