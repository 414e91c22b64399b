package definitions_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/golden"
)

// TestDiagnosticsGolden loads the files of each testdata/diagnostics/*.txtar
// archive (every file but "want", in archive order), checks them, and
// compares the diagnostics with "want". A first line "-- args --" in the
// comment section can name a target: "target=amazonmq-activemq", and a
// RabbitMQ version: "rabbitmq-version=4.0", and a Huawei Cloud DMS edition:
// "edition=3.x".
func TestDiagnosticsGolden(t *testing.T) {
	for _, ar := range golden.Glob(t, "testdata/diagnostics/*.txtar") {
		t.Run(ar.Name(), func(t *testing.T) {
			dir := t.TempDir()
			var files []string
			for _, f := range ar.Files {
				if f.Name == "want" {
					continue
				}
				p := filepath.Join(dir, f.Name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f.Name)
			}
			opts := definitions.CheckOptions{Resolve: fakeResolve}
			if v, ok := ar.Option("target"); ok {
				opts.Target = definitions.TargetName(v)
			}
			if v, ok := ar.Option("rabbitmq-version"); ok {
				opts.RabbitMQVersion = v
			}
			if v, ok := ar.Option("edition"); ok {
				opts.Edition = v
			}
			wd, _ := os.Getwd()
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			doc, diags := definitions.Load(files, definitions.LoadOptions{})
			if doc != nil {
				diags = append(diags, definitions.Check(doc, opts)...)
			}
			os.Chdir(wd) // before Check, which may rewrite the archive by its relative path
			diags.Sort()
			var got bytes.Buffer
			for _, d := range diags {
				got.WriteString(d.String() + "\n")
			}
			ar.Check(t, []string{"want"}, map[string]string{"want": got.String()})
		})
	}
}

// fakeResolve resolves {env: NAME} from a fixed table, so golden files do
// not depend on the environment. {file} and literals resolve as usual.
func fakeResolve(s *definitions.Secret) (string, error) {
	if s.Env != "" {
		if v, ok := fakeEnv[s.Env]; ok {
			return v, nil
		}
	}
	return definitions.ResolveSecret(s)
}

var fakeEnv = map[string]string{
	"GOOD_ACTIVEMQ": "correct-horse-battery",
	"SHORT":         "short",
	"REPEATS":       "aaaabbbbaaaabbbb",
	"WITH_COLON":    "correct:horse:battery",
	"GOOD_HUAWEI":   "Secret-Key-42",
	"TWO_CLASSES":   "onlylowercase42",
	"REVERSED_NAME": "1ppa_yrotnevnI",
	"LEADING_DASH":  "-Secret-Key-42",
}
