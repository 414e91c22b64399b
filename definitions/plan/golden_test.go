package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
)

// update rewrites golden files instead of comparing: WARREN_UPDATE=1 go test ./...
var update = os.Getenv("WARREN_UPDATE") != ""

// TestPlansGolden diffs desired.yaml against live.json in each
// testdata/*.txtar and compares the plan, rendered as text and as
// JSON, with plan.txt and plan.json. The comment may say "prune",
// "keep-guest", "acting=NAME" and "rabbitmq=VERSION" (the broker's).
func TestPlansGolden(t *testing.T) {
	// The goldens' one secret reference: set, so that no plan depends on
	// the environment.
	t.Setenv("GOOD_ACTIVEMQ", "correct-horse-battery")
	archives, _ := filepath.Glob("testdata/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no golden plans")
	}
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			files := map[string][]byte{}
			for _, f := range ar.Files {
				files[f.Name] = f.Data
			}
			desired, diags := definitions.Parse("desired.yaml", files["desired.yaml"])
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			live, diags := definitions.Parse("live.json", files["live.json"])
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			var opts []plan.DiffOption
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if line == "prune" {
					opts = append(opts, plan.WithPrune(true))
				}
				if line == "keep-guest" {
					opts = append(opts, plan.WithKeepGuest(true))
				}
				if name, ok := strings.CutPrefix(line, "acting="); ok {
					opts = append(opts, plan.WithActingUser(name))
				}
				if v, ok := strings.CutPrefix(line, "rabbitmq="); ok {
					opts = append(opts, plan.WithRabbitMQVersion(v))
				}
			}
			p, err := plan.Diff(desired, live, opts...)
			got := map[string]string{}
			if err != nil {
				got["error"] = err.Error() + "\n"
			} else {
				var text bytes.Buffer
				render.Text(&text, p, render.Options{})
				got["plan.txt"] = text.String()
				pj := render.ToJSON(p)
				// The digest changes with the digest's code, not with the
				// plan: the golden pins that it is there, not its value.
				if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(pj.LiveDigest) {
					t.Errorf("live_digest %q is not a SHA-256", pj.LiveDigest)
				}
				pj.LiveDigest = "(sha-256 of live.json, normalized)"
				j, _ := json.MarshalIndent(pj, "", "  ")
				got["plan.json"] = string(j) + "\n"
			}
			// Rewriting goldens must not write a secret into them either.
			for _, secret := range []string{"kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "correct-horse-battery", "hunter2"} {
				for name, v := range got {
					if strings.Contains(v, secret) {
						t.Errorf("%s shows a secret: %s", name, secret)
					}
				}
			}
			if update {
				var kept []txtar.File
				for _, f := range ar.Files {
					if f.Name != "plan.txt" && f.Name != "plan.json" && f.Name != "error" {
						kept = append(kept, f)
					}
				}
				for _, name := range []string{"error", "plan.txt", "plan.json"} {
					if v, ok := got[name]; ok {
						kept = append(kept, txtar.File{Name: name, Data: []byte(v)})
					}
				}
				ar.Files = kept
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for name, v := range got {
				if diff := cmp.Diff(string(files[name]), v); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
			}
		})
	}
}
