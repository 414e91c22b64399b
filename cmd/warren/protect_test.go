package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// Protection as code end to end: warren apply protects a vhost and says
// the broker matches; on a version that ignores the key, diff warns at the
// key's place naming the broker's version. A user tagged protected is left
// alone, and apply says so instead of claiming the broker matches the files.
func TestProtectionEndToEnd(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - name: /\n  - name: prot\n    metadata: {protected_from_deletion: true}\n")
	code, out, errOut := warren(t, "apply", "--yes", defs)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	var v struct {
		Protected bool `json:"protected_from_deletion"`
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/prot", nil, &v); err != nil {
		t.Fatal(err)
	}
	honoured := !definitions.Rule(definitions.RuleVhostProtected).AppliesTo(n.Version)
	if v.Protected != honoured {
		t.Errorf("RabbitMQ %s: the vhost is protected: %v", n.Version, v.Protected)
	}
	code, out, errOut = warren(t, "diff", defs)
	if code != exitOK {
		t.Errorf("diff after apply: exit %d\n%s%s", code, out, errOut)
	}
	warning := "defs.yaml:4:16: /vhosts/1/metadata/protected_from_deletion: protected_from_deletion on vhost \"prot\" is ignored by RabbitMQ " + n.Version
	if got := strings.Contains(errOut, warning); got == honoured {
		t.Errorf("RabbitMQ %s: the diff's warning naming the version: %v, want %v:\n%s", n.Version, got, !honoured, errOut)
	}
	// A prune of files that no longer name the vhost.
	gone := writeTemp(t, "gone.yaml", "vhosts:\n  - name: /\n")
	code, out, errOut = warren(t, "apply", "--yes", "--prune", gone)
	if code != exitOK {
		t.Fatalf("apply --prune: exit %d\n%s%s", code, out, errOut)
	}
	if honoured && !strings.Contains(out, `vhost "prot": protected from deletion on the broker`) {
		t.Errorf("the plan does not say the vhost is left alone:\n%s", out)
	}

	if err := n.Do(ctx, "POST", "/api/definitions", map[string]any{"users": []any{map[string]any{"name": "svc", "password": "s3cret-old", "tags": "protected"}}}, nil); err != nil {
		t.Fatal(err)
	}
	users := writeTemp(t, "users.yaml", "users:\n  - {name: "+n.Admin+", password: "+n.AdminPassword+", tags: [administrator]}\n  - {name: svc, password: s3cret-new, tags: [management]}\n  - {name: other, password: x, tags: []}\n")
	code, out, errOut = warren(t, "apply", "--yes", users)
	if code != exitOK {
		t.Fatalf("apply users: exit %d\n%s%s", code, out, errOut)
	}
	if !definitions.Rule(definitions.RuleProtectedTag).AppliesTo(n.Version) {
		if !strings.Contains(errOut, "The broker matches the files, but for 1 object left alone") ||
			!strings.Contains(out, "rabbitmqctl set_user_tags svc") {
			t.Errorf("apply does not say the protected user is left alone:\n%s%s", out, errOut)
		}
		code, out, _ = warren(t, "diff", users)
		if code != exitOK || !strings.Contains(out, "No changes warren can make: 1 object differs from the files") {
			t.Errorf("diff: exit %d\n%s", code, out)
		}
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Errorf("a password shows")
	}
}

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
