package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenKubernetesDocs keeps the snippets of docs/kubernetes.md equal to
// what warren boot --format kubernetes writes with its defaults (the
// blocks after the "warren boot --format kubernetes: FILE" markers);
// WARREN_UPDATE=1 rewrites them.
func TestGoldenKubernetesDocs(t *testing.T) {
	const page = "../../docs/kubernetes.md"
	t.Setenv("OPS_PASSWORD", "ops-password-1")
	defs := writeTemp(t, "defs.yaml", "users:\n  - {name: ops, password: {env: OPS_PASSWORD}, tags: [administrator]}\nvhosts:\n  - {name: orders}\n")
	dir := t.TempDir()
	if code, out, errOut := warren(t, "boot", "--format", "kubernetes", "--namespace", "mq", "--cluster", "orders-mq", "--out", dir, defs); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	doc, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for _, name := range []string{"statefulset.yaml", "rabbitmqcluster.yaml", "bitnami-values.yaml"} {
		want, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		marker := "<!-- warren boot --format kubernetes: " + name + " "
		i := strings.Index(text, marker)
		if i < 0 {
			t.Fatalf("%s has no %q marker", page, marker)
		}
		start := i + strings.Index(text[i:], "```yaml\n") + len("```yaml\n")
		end := start + strings.Index(text[start:], "```\n<!-- end -->")
		if start < i || end < start {
			t.Fatalf("%s: no ```yaml block ending in <!-- end --> after %q", page, marker)
		}
		if got := text[start:end]; got != string(want) {
			if update {
				text = text[:start] + string(want) + text[end:]
				continue
			}
			t.Errorf("%s: the %s block is not what warren writes (WARREN_UPDATE=1 go test -run TestGoldenKubernetesDocs ./cmd/warren rewrites it):\n--- %s\n%s--- warren\n%s", page, name, page, got, want)
		}
	}
	if update && text != string(doc) {
		if err := os.WriteFile(page, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
