package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// savedInSync applies applyDefs, then saves a plan of them (which changes
// nothing) and returns the files and the plan.
func savedInSync(t *testing.T, n *rabbitmqtest.Node, args ...string) (defs, plan string) {
	t.Helper()
	applyEnv(t, n)
	defs = writeTemp(t, "defs.yaml", applyDefs)
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", defs); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	plan = filepath.Join(t.TempDir(), "plan.json")
	if code, out, errOut := warren(t, append(append([]string{"diff", "--keep-guest", "-o", plan}, args...), defs)...); code != exitOK {
		t.Fatalf("diff -o: exit %d\n%s%s", code, out, errOut)
	}
	return defs, plan
}

// mustRefuse applies plan and wants it refused with every one of wants in
// the error output.
func mustRefuse(t *testing.T, plan string, wants ...string) {
	t.Helper()
	code, out, errOut := warren(t, "apply", "--yes", plan)
	if code != exitError || !strings.Contains(errOut, "is not the plan apply would carry out now; nothing was applied") {
		t.Fatalf("apply of a plan that differs: exit %d, want %d\n%s%s", code, exitError, out, errOut)
	}
	for _, w := range wants {
		if !strings.Contains(errOut, w) {
			t.Errorf("the refusal does not show %q:\n%s", w, errOut)
		}
	}
}

// TestSavedPlanIsTheContract: a saved plan is carried out only as it was
// reviewed (Terraform's planfile).
func TestSavedPlanIsTheContract(t *testing.T) {
	t.Run("password variable changed after saving", func(t *testing.T) {
		n := rabbitmqtest.Shared(t)
		_, plan := savedInSync(t, n)
		t.Setenv("APP_PASSWORD", "app-password-2")
		mustRefuse(t, plan, `+ in the plan made now only: {"action":"update"`, `"field":"password","sensitive":true`)
		// Nothing changed: app still logs in with the first password.
		if err := n.Call(context.Background(), "app", "app-password-1", "GET", "/api/whoami", nil, nil); err != nil {
			t.Fatalf("app's password changed: %v", err)
		}
	})
	t.Run("options.prune edited in the file", func(t *testing.T) {
		n := rabbitmqtest.Shared(t)
		_, plan := savedInSync(t, n)
		for _, v := range []string{"extra-1", "extra-2", "extra-3"} {
			if err := n.Do(context.Background(), "PUT", "/api/vhosts/"+v, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		// Made again after the vhosts appeared, with 0 deletions.
		defs := writeTemp(t, "defs.yaml", applyDefs)
		if code, out, errOut := warren(t, "diff", "--keep-guest", "-o", plan, defs); code != exitOK {
			t.Fatalf("diff -o: exit %d\n%s%s", code, out, errOut)
		}
		data, _ := os.ReadFile(plan)
		edited := strings.Replace(string(data), `"prune": false`, `"prune": true`, 1)
		if edited == string(data) {
			t.Fatalf("no prune option in the saved plan:\n%s", data)
		}
		os.WriteFile(plan, []byte(edited), 0o644)
		mustRefuse(t, plan, `+ in the plan made now only: {"action":"delete"`)
		var vhosts []struct{ Name string }
		n.Do(context.Background(), "GET", "/api/vhosts", nil, &vhosts)
		if len(vhosts) < 5 {
			t.Fatalf("vhosts were deleted: %v", vhosts)
		}
	})
	t.Run("prune on the command line, not in the plan", func(t *testing.T) {
		n := rabbitmqtest.Shared(t)
		_, plan := savedInSync(t, n)
		code, _, errOut := warren(t, "apply", "--yes", "--prune", plan)
		if code != exitError || !strings.Contains(errOut, `options: {"destroy_messages":false,"keep_guest":true,"prune":false`) {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
	})
	t.Run("applied as another user", func(t *testing.T) {
		n := rabbitmqtest.Shared(t)
		_, plan := savedInSync(t, n)
		// ops is an administrator of the files.
		t.Setenv("WARREN_USERNAME", "ops")
		t.Setenv("WARREN_PASSWORD", "ops-password-1")
		mustRefuse(t, plan, `acting user: "`+n.Admin+`" in the saved plan, "ops" now`)
	})
	t.Run("cluster renamed", func(t *testing.T) {
		n := rabbitmqtest.Shared(t)
		applyEnv(t, n)
		defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: orders}\n")
		plan := filepath.Join(t.TempDir(), "plan.json")
		if code, _, errOut := warren(t, "diff", "-o", plan, defs); code != exitDrift {
			t.Fatalf("diff -o: exit %d\n%s", code, errOut)
		}
		if err := n.Do(context.Background(), "PUT", "/api/global-parameters/cluster_name", map[string]any{"name": "cluster_name", "value": "elsewhere"}, nil); err != nil {
			t.Fatal(err)
		}
		mustRefuse(t, plan, `broker: {"cluster_name":`, `"cluster_name":"elsewhere"`)
	})
	t.Run("the same plan is carried out", func(t *testing.T) {
		n := rabbitmqtest.Shared(t)
		applyEnv(t, n)
		defs := writeTemp(t, "defs.yaml", applyDefs)
		plan := filepath.Join(t.TempDir(), "plan.json")
		if code, _, errOut := warren(t, "diff", "--keep-guest", "-o", plan, defs); code != exitDrift {
			t.Fatalf("diff -o: exit %d\n%s", code, errOut)
		}
		// URLs come from the plan when none is given.
		t.Setenv("WARREN_URL", "")
		os.Unsetenv("WARREN_URL")
		if code, out, errOut := warren(t, "apply", "--yes", plan); code != exitOK {
			t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
		}
		t.Setenv("WARREN_URL", n.URL)
		mustInSync(t, "--keep-guest", defs)
	})
}

// TestSavedPlanThatDoesNotRead: a file that says it is a plan and does not
// read as one is an error, never definitions that change nothing.
func TestSavedPlanThatDoesNotRead(t *testing.T) {
	for name, content := range map[string]string{
		"type error":    `{"warren": "plan", "format_version": 2, "options": {"prune": "yes"}}`,
		"unknown field": `{"warren": "plan", "format_version": 2, "optoins": {}}`,
		"old format":    `{"warren": "plan", "format_version": 1}`,
		"not a plan":    `{"warren": "plans", "format_version": 2}`,
		"bad version":   `{"warren": "plan", "format_version": "2"}`,
	} {
		t.Run(name, func(t *testing.T) {
			plan := writeTemp(t, "plan.json", content)
			code, out, errOut := warren(t, "apply", "--yes", "--url", "http://127.0.0.1:1", plan)
			if code != exitError || !strings.Contains(errOut, "plan.json: ") || strings.Contains(out, "No changes") {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
