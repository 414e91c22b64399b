package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestBootWritesVhostProtection: boot's definitions carry the protection
// where RabbitMQ's boot-time import reads it.
func TestBootWritesVhostProtection(t *testing.T) {
	defs := writeTemp(t, "defs.yaml", "users:\n  - {name: admin, password: pw, tags: [administrator]}\nvhosts:\n  - name: prot\n    metadata: {protected_from_deletion: true}\n")
	dir := t.TempDir()
	if code, out, errOut := warren(t, "boot", defs, "--out", dir); code != exitOK {
		t.Fatalf("boot: exit %d\n%s%s", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(dir, "definitions.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"protected_from_deletion":true`) && !strings.Contains(string(data), `"protected_from_deletion": true`) {
		t.Errorf("boot's definitions lost the protection:\n%s", data)
	}
}

// TestFleetLeavesProtectedUser: a fleet's apply goes through the same plan:
// a user tagged protected on the broker (4.2+) keeps its tags and password,
// and a protected vhost the files do not name stays, with its queue.
func TestFleetLeavesProtectedUser(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.Do(ctx, "POST", "/api/definitions", map[string]any{
		"users":  []any{map[string]any{"name": "svc", "password": "s3cret-old", "tags": "protected"}},
		"vhosts": []any{map[string]any{"name": "kept", "metadata": map[string]any{"protected_from_deletion": true}}},
		"queues": []any{map[string]any{"name": "q", "vhost": "kept", "durable": true, "auto_delete": false, "arguments": map[string]any{}}},
	}, nil); err != nil {
		t.Fatal(err)
	}
	var before map[string]any
	n.Do(ctx, "GET", "/api/users/svc", nil, &before)
	dir := t.TempDir()
	files := "users:\n  - {name: " + n.Admin + ", password: {env: FLEET_ADMIN_PASSWORD}, tags: [administrator]}\n  - {name: svc, password: s3cret-new, tags: [management]}\nvhosts:\n  - name: /\nqueues: []\n"
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(files), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLEET_ADMIN_PASSWORD", n.AdminPassword)
	inv := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(inv, []byte("brokers:\n  - name: one\n    urls: ["+n.URL+"]\n    username: "+n.Admin+"\n    password: {env: FLEET_ADMIN_PASSWORD}\n    files: [base.yaml]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := warren(t, "apply", "--yes", "--prune", "--inventory", inv)
	if code != exitOK {
		t.Fatalf("fleet apply: exit %d\n%s%s", code, out, errOut)
	}
	var after map[string]any
	n.Do(ctx, "GET", "/api/users/svc", nil, &after)
	userProtected := !definitions.Rule(definitions.RuleProtectedTag).AppliesTo(n.Version)
	if same := fmt.Sprint(after["tags"]) == fmt.Sprint(before["tags"]) && after["password_hash"] == before["password_hash"]; same != userProtected {
		t.Errorf("RabbitMQ %s: the user kept its tags and password: %v, want %v (%v → %v)", n.Version, same, userProtected, before["tags"], after["tags"])
	}
	vhostProtected := !definitions.Rule(definitions.RuleVhostProtected).AppliesTo(n.Version)
	if kept := n.Do(ctx, "GET", "/api/queues/kept/q", nil, nil) == nil; kept != vhostProtected {
		t.Errorf("RabbitMQ %s: the protected vhost's queue is there: %v, want %v", n.Version, kept, vhostProtected)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Errorf("a password shows")
	}
}
