package rabbitmq_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// targetPlan makes a plan as warren diff and apply do: the target's own
// diff options (acting user, broker version, vhost contents), guest kept.
func targetPlan(t *testing.T, tg *rabbitmq.Target, desired *definitions.Document, prune bool) (*plan.Plan, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := tg.Identity(ctx); err != nil {
		t.Fatal(err)
	}
	live, err := tg.Read(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(tg.DiffOptions(ctx, plan.Options{}), plan.WithPrune(prune), plan.WithKeepGuest(true))
	p, err := plan.Diff(desired, live, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	render.Text(&b, p, render.Options{})
	return p, b.String()
}

// applyAndSync applies the plan of desired and checks that a diff right
// after it is empty; it returns the apply's error.
func applyAndSync(t *testing.T, tg *rabbitmq.Target, desired *definitions.Document, prune bool) (*plan.Plan, error) {
	t.Helper()
	p, text := targetPlan(t, tg, desired, prune)
	t.Logf("plan:\n%s", text)
	err := tg.Apply(context.Background(), p, seeders.ApplyOptions{})
	if after, text := targetPlan(t, tg, desired, prune); !after.Empty() {
		t.Errorf("a diff right after the apply is not empty:\n%s", text)
	}
	return p, err
}

func vhostProtected(t *testing.T, n *rabbitmqtest.Node, name string) bool {
	t.Helper()
	var v struct {
		Protected bool `json:"protected_from_deletion"`
	}
	if err := n.Do(context.Background(), "GET", "/api/vhosts/"+strings.ReplaceAll(name, "/", "%2F"), nil, &v); err != nil {
		t.Fatal(err)
	}
	return v.Protected
}

func exists(n *rabbitmqtest.Node, path string) bool {
	return n.Do(context.Background(), "GET", path, nil, nil) == nil
}

func honours(n *rabbitmqtest.Node, rule string) bool {
	return !definitions.Rule(rule).AppliesTo(n.Version)
}

// TestVhostProtectionAsCode: files protect a vhost and unprotect it again
// (also with its default queue type, which goes by PUT); a diff right after
// each apply is empty. Versions that ignore the key create the vhost, with
// nothing to compare.
func TestVhostProtectionAsCode(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	files := func(protected bool, queueType string) *definitions.Document {
		return parse(t, "vhosts.yaml", fmt.Appendf(nil, "vhosts:\n  - {name: prot, default_queue_type: %s, metadata: {protected_from_deletion: %t}}\n", queueType, protected))
	}
	if _, err := applyAndSync(t, tg, files(true, "classic"), false); err != nil {
		t.Fatal(err)
	}
	if got, want := vhostProtected(t, n, "prot"), honours(n, definitions.RuleVhostProtected); got != want {
		t.Fatalf("after applying protected_from_deletion: true on RabbitMQ %s the vhost is protected: %v, want %v", n.Version, got, want)
	}
	if !honours(n, definitions.RuleVhostProtected) {
		return
	}
	// Drift both ways.
	importDefs(t, n, map[string]any{"vhosts": []any{map[string]any{"name": "prot", "metadata": map[string]any{"protected_from_deletion": false}}}})
	if p, text := targetPlan(t, tg, files(true, "classic"), false); !strings.Contains(text, "protected_from_deletion: false → true") || p.Empty() {
		t.Errorf("an unprotected vhost the files protect shows no drift:\n%s", text)
	}
	if _, err := applyAndSync(t, tg, files(true, "classic"), false); err != nil || !vhostProtected(t, n, "prot") {
		t.Fatalf("protecting again: %v", err)
	}
	p, err := applyAndSync(t, tg, files(false, "quorum"), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Step != plan.StepVhostQueueType {
		t.Errorf("the plan: %+v", p.Changes)
	}
	if vhostProtected(t, n, "prot") {
		t.Errorf("the files unprotect the vhost with a new default queue type; it is still protected")
	}
	if _, err := applyAndSync(t, tg, files(true, "quorum"), false); err != nil || !vhostProtected(t, n, "prot") {
		t.Fatalf("protecting with an unchanged default queue type: %v", err)
	}
	// Export writes it, and the export is in sync.
	doc, err := client(t, n).Export(context.Background(), rabbitmq.ExportOptions{Trims: definitions.DefaultTrims(), Vhost: "prot"})
	if err != nil {
		t.Fatal(err)
	}
	if out := string(doc.EncodeJSON()); !strings.Contains(out, `"protected_from_deletion": true`) {
		t.Errorf("the export lost the protection:\n%s", out)
	}
}

// TestPruneLeavesProtectedVhost: a prune of files that do not name a vhost
// protected on the broker leaves it, and what is in it (RabbitMQ 4.0.6+);
// the apply succeeds and changes nothing there. Where the key is ignored
// the vhost is pruned as any other.
func TestPruneLeavesProtectedVhost(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	importDefs(t, n, map[string]any{
		"vhosts":   []any{map[string]any{"name": "p", "metadata": map[string]any{"protected_from_deletion": true}}, map[string]any{"name": "gone"}},
		"queues":   []any{map[string]any{"name": "q", "vhost": "p", "durable": true, "auto_delete": false, "arguments": map[string]any{}}},
		"bindings": []any{map[string]any{"source": "amq.direct", "vhost": "p", "destination": "q", "destination_type": "queue", "routing_key": "k", "arguments": map[string]any{}}},
	})
	files := parse(t, "files.yaml", []byte("vhosts:\n  - name: /\n  - name: a\nqueues: []\nbindings: []\n"))
	p, err := applyAndSync(t, tg, files, true)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !slices.Contains(p.DeletedVhosts(), "gone") {
		t.Errorf("the unprotected vhost is not pruned: %v", p.DeletedVhosts())
	}
	if !honours(n, definitions.RuleVhostProtected) {
		if exists(n, "/api/vhosts/p") {
			t.Errorf("RabbitMQ %s ignores the protection; the vhost should be pruned", n.Version)
		}
		return
	}
	if slices.Contains(p.DeletedVhosts(), "p") || !slices.ContainsFunc(p.Skipped, func(s plan.Skip) bool { return s.Addr.String() == `vhost "p"` }) {
		t.Errorf("the protected vhost is not left alone: deletes %v, skipped %v", p.DeletedVhosts(), p.Skipped)
	}
	if !exists(n, "/api/vhosts/p") || !exists(n, "/api/queues/p/q") || !exists(n, "/api/bindings/p/e/amq.direct/q/q/k") {
		t.Errorf("the protected vhost was emptied or deleted")
	}
}

// TestApplyRefusesVhostProtectedSince: a vhost protected after the plan
// was made is refused before its queues are deleted, and the failure says
// so.
func TestApplyRefusesVhostProtectedSince(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	if !honours(n, definitions.RuleVhostProtected) {
		t.Logf("RabbitMQ %s cannot protect a vhost: nothing to check", n.Version)
		return
	}
	tg := rabbitmq.NewTarget(client(t, n), "")
	importDefs(t, n, map[string]any{
		"vhosts": []any{map[string]any{"name": "late"}},
		"queues": []any{map[string]any{"name": "q", "vhost": "late", "durable": true, "auto_delete": false, "arguments": map[string]any{}}},
	})
	p, _ := targetPlan(t, tg, parse(t, "files.yaml", []byte("vhosts:\n  - name: /\n")), true)
	if err := n.Do(context.Background(), "POST", "/api/vhosts/late/deletion/protection", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := tg.Apply(context.Background(), p, seeders.ApplyOptions{})
	var ae *plan.ApplyError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "protects vhost \"late\" from deletion") {
		t.Fatalf("apply: %v", err)
	}
	if !exists(n, "/api/queues/late/q") {
		t.Errorf("the queue of the protected vhost was deleted")
	}
}

// TestProtectedUserLeftAlone: a user tagged protected (RabbitMQ 4.2+) is
// neither changed through the import nor deleted, nor are its permissions;
// the plan says so. Before 4.2 the tag protects nothing and the user is
// managed as any other.
func TestProtectedUserLeftAlone(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	ctx := context.Background()
	importDefs(t, n, map[string]any{
		"users": []any{
			map[string]any{"name": "svc", "password": "old-secret", "tags": "protected,management"},
			map[string]any{"name": "system", "password": "sys-secret", "tags": "protected"},
		},
		"permissions": []any{
			map[string]any{"user": "svc", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
			map[string]any{"user": "system", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
		},
	})
	var before map[string]any
	n.Do(ctx, "GET", "/api/users/svc", nil, &before)
	files := parse(t, "users.yaml", fmt.Appendf(nil, `users:
  - {name: %s, password: %s, tags: [administrator]}
  - {name: svc, password: new-secret, tags: [monitoring]}
permissions:
  - {user: %s, vhost: /, configure: ".*", write: ".*", read: ".*"}
  - {user: svc, vhost: /, configure: "", write: "", read: ".*"}
`, n.Admin, n.AdminPassword, n.Admin))
	p, err := applyAndSync(t, tg, files, true)
	if err != nil {
		t.Fatal(err)
	}
	var after map[string]any
	n.Do(ctx, "GET", "/api/users/svc", nil, &after)
	var perm map[string]any
	n.Do(ctx, "GET", "/api/permissions/%2F/svc", nil, &perm)
	if !honours(n, definitions.RuleProtectedTag) {
		if fmt.Sprint(after["tags"]) != "[monitoring]" || exists(n, "/api/users/system") {
			t.Errorf("RabbitMQ %s does not protect users; the files should manage them: %v", n.Version, after)
		}
		return
	}
	if fmt.Sprint(after["tags"]) != fmt.Sprint(before["tags"]) || after["password_hash"] != before["password_hash"] {
		t.Errorf("the protected user changed: %v → %v", before["tags"], after["tags"])
	}
	if perm["configure"] != ".*" {
		t.Errorf("the protected user's permission changed: %v", perm)
	}
	if !exists(n, "/api/users/system") || !exists(n, "/api/permissions/%2F/system") {
		t.Errorf("the protected user system or its permission was pruned")
	}
	var text bytes.Buffer
	render.Text(&text, p, render.Options{})
	for _, want := range []string{`user "svc": tagged protected`, "change tags, password", "rabbitmqctl set_user_tags svc management", `user "system": tagged protected`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the plan does not say %q:\n%s", want, text.String())
		}
	}
	for _, secret := range []string{"new-secret", "old-secret", "sys-secret"} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("the plan shows a secret")
		}
	}
}

// TestPruneKeepsWhatTheFilesNeed: files that grant permissions on vhost /
// and bind from an exchange without defining either: a prune keeps both,
// and the permission the files ask for is there after the apply.
func TestPruneKeepsWhatTheFilesNeed(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	importDefs(t, n, map[string]any{
		"exchanges": []any{map[string]any{"name": "in", "vhost": "/", "type": "direct", "durable": true, "auto_delete": false, "internal": false, "arguments": map[string]any{}}},
	})
	files := parse(t, "files.yaml", fmt.Appendf(nil, `vhosts:
  - name: a
users:
  - {name: %s, password: %s, tags: [administrator]}
  - {name: app, password: app-secret, tags: []}
permissions:
  - {user: %s, vhost: /, configure: ".*", write: ".*", read: ".*"}
  - {user: app, vhost: /, configure: "", write: ".*", read: ".*"}
exchanges: []
queues:
  - {name: q, vhost: /}
bindings:
  - {source: in, vhost: /, destination: q, destination_type: queue, routing_key: k}
`, n.Admin, n.AdminPassword, n.Admin))
	p, err := applyAndSync(t, tg, files, true)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(p.DeletedVhosts(), "/") || !exists(n, "/api/vhosts/%2F") || !exists(n, "/api/permissions/%2F/app") || !exists(n, "/api/exchanges/%2F/in") {
		t.Errorf("the prune deleted what the files refer to")
	}
}

// TestPerVhostFilePrunesItsVhostOnly: a per-vhost export applied with
// --prune reaches no other vhost.
func TestPerVhostFilePrunesItsVhostOnly(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	q := func(name, vhost string) map[string]any {
		return map[string]any{"name": name, "vhost": vhost, "durable": true, "auto_delete": false, "arguments": map[string]any{}}
	}
	importDefs(t, n, map[string]any{"vhosts": []any{map[string]any{"name": "a"}, map[string]any{"name": "b"}},
		"queues": []any{q("keep", "a"), q("other", "b")}})
	var raw bytes.Buffer
	var export map[string]any
	if err := n.Do(context.Background(), "GET", "/api/definitions/a", nil, &export); err != nil {
		t.Fatal(err)
	}
	if export["rabbitmq_definition_format"] == nil {
		// 3.10 writes the vhost's objects without saying so.
		export["rabbitmq_definition_format"], export["original_vhost_name"] = definitions.FormatSingleVhost, "a"
	}
	importDefs(t, n, map[string]any{"queues": []any{q("old", "a")}})
	raw.WriteString(string(mustJSON(t, export)))
	p, err := applyAndSync(t, tg, parse(t, "a.json", raw.Bytes()), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Addr.String() != `queue "old" on vhost "a"` {
		t.Errorf("the plan: %v", p.Changes)
	}
	if !exists(n, "/api/queues/b/other") || !exists(n, "/api/vhosts/b") {
		t.Errorf("the per-vhost file pruned outside its vhost")
	}
}

// TestPruneKeepsClusterTags: cluster_tags is node configuration, never
// pruned.
func TestPruneKeepsClusterTags(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	if err := n.Do(context.Background(), "PUT", "/api/global-parameters/cluster_tags", map[string]any{"name": "cluster_tags", "value": []any{}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := applyAndSync(t, tg, parse(t, "g.yaml", []byte("global_parameters:\n  - {name: mine, value: 1}\n")), true); err != nil {
		t.Fatal(err)
	}
	if !exists(n, "/api/global-parameters/cluster_tags") {
		t.Errorf("cluster_tags was pruned")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestApplyRefusesVhostProtectedSinceBeforeEmptyingIt: files that manage
// queues, exchanges and policies plan the deletion of a vhost's objects
// apart, before the vhost's; a vhost protected after the plan was made
// (a saved plan) is refused before any of them is deleted, also with
// --destroy-messages, which would otherwise destroy its messages.
func TestApplyRefusesVhostProtectedSinceBeforeEmptyingIt(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	if !honours(n, definitions.RuleVhostProtected) {
		t.Logf("RabbitMQ %s cannot protect a vhost: nothing to check", n.Version)
		return
	}
	tg := rabbitmq.NewTarget(client(t, n), "")
	importDefs(t, n, map[string]any{
		"vhosts":    []any{map[string]any{"name": "late"}},
		"queues":    []any{map[string]any{"name": "q", "vhost": "late", "durable": true, "auto_delete": false, "arguments": map[string]any{}}},
		"exchanges": []any{map[string]any{"name": "e", "vhost": "late", "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": map[string]any{}}},
		"policies":  []any{map[string]any{"name": "p", "vhost": "late", "pattern": "^q$", "apply-to": "queues", "priority": 0, "definition": map[string]any{"max-length": 10}}},
	})
	p, text := targetPlan(t, tg, parse(t, "files.yaml", []byte("vhosts:\n  - name: /\nqueues: []\nexchanges: []\npolicies: []\n")), true)
	t.Logf("plan:\n%s", text)
	if !slices.ContainsFunc(p.Changes, func(c plan.Change) bool { return c.Addr.String() == `queue "q" on vhost "late"` }) {
		t.Fatalf("the plan does not delete the queue apart")
	}
	if err := n.Do(context.Background(), "POST", "/api/vhosts/late/deletion/protection", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := tg.Apply(context.Background(), p, seeders.ApplyOptions{Options: plan.Options{DestroyMessages: true}})
	if err == nil || !strings.Contains(err.Error(), "protects vhost \"late\" from deletion") {
		t.Errorf("apply: %v", err)
	}
	for _, path := range []string{"/api/queues/late/q", "/api/exchanges/late/e", "/api/policies/late/p"} {
		if !exists(n, path) {
			t.Errorf("%s of the protected vhost was deleted", path)
		}
	}
}

// TestVhostDeletionSaysWhatWentFirst: a vhost is deleted after its empty
// queues, each only when empty; when a message reached one of them after
// the plan was made, the vhost stays, and the error says which queues had
// been deleted already (they are gone: the report must not hide them).
func TestVhostDeletionSaysWhatWentFirst(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	tg := rabbitmq.NewTarget(client(t, n), "")
	ctx := context.Background()
	importDefs(t, n, map[string]any{
		"vhosts": []any{map[string]any{"name": "late"}},
		"queues": []any{
			map[string]any{"name": "a-empty", "vhost": "late", "durable": true, "auto_delete": false, "arguments": map[string]any{}},
			map[string]any{"name": "z-full", "vhost": "late", "durable": true, "auto_delete": false, "arguments": map[string]any{}},
		},
	})
	p, text := targetPlan(t, tg, parse(t, "files.yaml", []byte("vhosts:\n  - name: /\n")), true)
	t.Logf("plan:\n%s", text)
	if err := n.Do(ctx, "POST", "/api/exchanges/late/amq.default/publish",
		map[string]any{"properties": map[string]any{"delivery_mode": 2}, "routing_key": "z-full", "payload": "m", "payload_encoding": "string"}, nil); err != nil {
		t.Fatal(err)
	}
	err := tg.Apply(ctx, p, seeders.ApplyOptions{})
	if err == nil {
		t.Fatalf("RabbitMQ %s: apply deleted a vhost whose queue holds a message", n.Version)
	}
	t.Logf("apply: %v", err)
	if !exists(n, "/api/queues/late/z-full") {
		t.Errorf("RabbitMQ %s: the queue holding a message was deleted", n.Version)
	}
	if exists(n, "/api/queues/late/a-empty") {
		if strings.Contains(err.Error(), "a-empty") {
			t.Errorf("RabbitMQ %s: the error names a-empty, which is still there: %v", n.Version, err)
		}
		return // refused before anything was deleted: nothing to report
	}
	if !strings.Contains(err.Error(), `its empty queue "a-empty" had been deleted first`) {
		t.Errorf("RabbitMQ %s: a-empty is gone and the error does not say so: %v", n.Version, err)
	}
}
