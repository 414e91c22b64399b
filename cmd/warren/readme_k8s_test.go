package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeKubernetesGolden keeps the README's Kubernetes snippets equal to
// what warren boot --format kubernetes writes with its defaults (the
// blocks after the "warren boot --format kubernetes: FILE" markers);
// WARREN_UPDATE=1 rewrites them.
func TestReadmeKubernetesGolden(t *testing.T) {
	t.Setenv("OPS_PASSWORD", "ops-password-1")
	defs := writeTemp(t, "defs.yaml", "users:\n  - {name: ops, password: {env: OPS_PASSWORD}, tags: [administrator]}\nvhosts:\n  - {name: orders}\n")
	dir := t.TempDir()
	if code, out, errOut := warren(t, "boot", "--format", "kubernetes", "--namespace", "mq", "--out", dir, defs); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for _, name := range []string{"rabbitmqcluster-patch.yaml", "bitnami-values.yaml"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		marker := "<!-- warren boot --format kubernetes: " + name + " "
		i := strings.Index(text, marker)
		if i < 0 {
			t.Fatalf("README.md has no %q marker", marker)
		}
		start := i + strings.Index(text[i:], "```yaml\n") + len("```yaml\n")
		end := start + strings.Index(text[start:], "```\n<!-- end -->")
		if start < i || end < start {
			t.Fatalf("README.md: no ```yaml block ending in <!-- end --> after %q", marker)
		}
		if got := text[start:end]; got != string(want) {
			if update {
				text = text[:start] + string(want) + text[end:]
				continue
			}
			t.Errorf("README.md's %s block is not what warren writes (WARREN_UPDATE=1 go test -run TestReadmeKubernetesGolden ./cmd/warren rewrites it):\n--- README\n%s--- warren\n%s", name, got, want)
		}
	}
	if update && text != string(readme) {
		if err := os.WriteFile("../../README.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
