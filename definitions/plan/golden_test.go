package plan_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/internal/golden"
)

// TestPlansGolden diffs desired.yaml against live.json in each
// testdata/*.txtar and compares the plan, rendered as text and as
// JSON, with plan.txt and plan.json. The comment may say "prune",
// "keep-guest", "acting=NAME" and "rabbitmq=VERSION" (the broker's).
func TestPlansGolden(t *testing.T) {
	// The goldens' one secret reference: set, so that no plan depends on
	// the environment.
	t.Setenv("GOOD_ACTIVEMQ", "correct-horse-battery")
	for _, ar := range golden.Glob(t, "testdata/*.txtar") {
		t.Run(ar.Name(), func(t *testing.T) {
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
			if ar.Flag("prune") {
				opts = append(opts, plan.WithPrune(true))
			}
			if ar.Flag("keep-guest") {
				opts = append(opts, plan.WithKeepGuest(true))
			}
			if name, ok := ar.Option("acting"); ok {
				opts = append(opts, plan.WithActingUser(name))
			}
			if v, ok := ar.Option("rabbitmq"); ok {
				opts = append(opts, plan.WithRabbitMQVersion(v))
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
			ar.Check(t, []string{"error", "plan.txt", "plan.json"}, got)
		})
	}
}
