package main

import (
	"context"
	"strings"
	"testing"
)

// TestMigrateLeavesDefaultGuestBehind: the old 3.10 node still has guest
// with its default password (the harness logs in as an administrator of
// its own); the new node was booted without guest. migrate apply must
// not bring guest back, and says so, and lists the administrator it
// moves.
func TestMigrateLeavesDefaultGuestBehind(t *testing.T) {
	old, nw := startPair(t)
	ctx := context.Background()
	if err := old.Call(ctx, "guest", "guest", "GET", "/api/whoami", nil, nil); err != nil {
		t.Fatalf("the old node has no default guest: the test proves nothing: %v", err)
	}
	if err := old.Do(ctx, "PUT", "/api/users/ops", map[string]any{"password": "ops-password-1", "tags": "administrator"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := nw.Do(ctx, "DELETE", "/api/users/guest", nil, nil); err != nil {
		t.Fatal(err)
	}

	t.Setenv("OLD_URI_DEFAULT", amqpURL(old))
	upstream := []string{"--upstream-uri", "env:OLD_URI_{vhost}"}
	code, out, errOut := warren(t, append([]string{"migrate", "plan"}, upstream...)...)
	if code != exitOK {
		t.Fatalf("migrate plan: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{`user "guest": not moved, nor its permissions`, "[W168]", `user "ops": moved as an administrator`, "[W169]"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate plan does not say %q:\n%s", want, out)
		}
	}
	code, out, errOut = warren(t, append([]string{"migrate", "apply", "--yes"}, upstream...)...)
	if code != exitOK {
		t.Fatalf("migrate apply: exit %d\n%s%s", code, out, errOut)
	}
	if err := nw.Do(ctx, "GET", "/api/users/guest", nil, nil); err == nil {
		t.Fatalf("migrate apply brought guest back to the new cluster\n%s%s", out, errOut)
	}
	if err := nw.Call(ctx, "guest", "guest", "GET", "/api/whoami", nil, nil); err == nil {
		t.Fatal("guest/guest logs in to the new cluster")
	}
	var perms []struct{ User string }
	nw.Do(ctx, "GET", "/api/permissions", nil, &perms)
	for _, p := range perms {
		if p.User == "guest" {
			t.Errorf("guest's permissions were moved: %+v", perms)
		}
	}
	if err := nw.Call(ctx, "ops", "ops-password-1", "GET", "/api/whoami", nil, nil); err != nil {
		t.Errorf("the administrator ops was not moved: %v", err)
	}
}
