package definitions_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/warren-tool/warren/definitions"
)

// update rewrites golden files instead of comparing: WARREN_UPDATE=1 go test ./...
var update = os.Getenv("WARREN_UPDATE") != ""

// TestDiagnosticsGolden loads the files of each testdata/diagnostics/*.txtar
// archive (every file but "want", in archive order), checks them, and
// compares the diagnostics with "want". A first line "-- args --" in the
// comment section can name a target: "target=amazonmq-activemq", and a
// RabbitMQ version: "rabbitmq-version=4.0".
func TestDiagnosticsGolden(t *testing.T) {
	archives, _ := filepath.Glob("testdata/diagnostics/*.txtar")
	if len(archives) == 0 {
		t.Fatal("no golden archives")
	}
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var files []string
			wantIdx := -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					wantIdx = i
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
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if v, ok := strings.CutPrefix(line, "target="); ok {
					opts.Target = definitions.TargetName(v)
				}
				if v, ok := strings.CutPrefix(line, "rabbitmq-version="); ok {
					opts.RabbitMQVersion = v
				}
			}
			wd, _ := os.Getwd()
			if err := os.Chdir(dir); err != nil {
				t.Fatal(err)
			}
			doc, diags := definitions.Load(files, definitions.LoadOptions{})
			if doc != nil {
				diags = append(diags, definitions.Check(doc, opts)...)
			}
			os.Chdir(wd)
			diags.Sort()
			var got bytes.Buffer
			for _, d := range diags {
				got.WriteString(d.String() + "\n")
			}
			if update {
				if wantIdx < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantIdx = len(ar.Files) - 1
				}
				ar.Files[wantIdx].Data = got.Bytes()
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if wantIdx < 0 {
				t.Fatal("archive has no want section (run with WARREN_UPDATE=1)")
			}
			if diff := cmp.Diff(string(ar.Files[wantIdx].Data), got.String()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
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
