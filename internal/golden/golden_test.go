package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestArchiveRewrite(t *testing.T) {
	tests := []struct {
		name, before string
		got          map[string]string
		after        string
	}{
		{"in place", "opt=1\n-- in --\nx\n-- want --\nold\n-- tail --\nt\n",
			map[string]string{"want": "new\n"},
			"opt=1\n-- in --\nx\n-- want --\nnew\n-- tail --\nt\n"},
		{"appended in the order of names", "-- in --\nx\n",
			map[string]string{"plan.json": "{}\n", "plan.txt": "p\n"},
			"-- in --\nx\n-- plan.txt --\np\n-- plan.json --\n{}\n"},
		{"owned and not produced is removed", "-- in --\nx\n-- plan.txt --\np\n-- plan.json --\n{}\n",
			map[string]string{"error": "bad\n"},
			"-- in --\nx\n-- error --\nbad\n"},
	}
	names := []string{"want", "error", "plan.txt", "plan.json"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.txtar")
			if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
				t.Fatal(err)
			}
			a := Load(t, path)
			a.rewrite(t, names, tt.got)
			data, _ := os.ReadFile(path)
			if string(data) != tt.after {
				t.Errorf("rewritten:\n%s\nwant:\n%s", data, tt.after)
			}
			// What was written compares equal.
			a = Load(t, path)
			if a.Flag("opt=1") != (tt.name == "in place") {
				t.Errorf("comment lost")
			}
			var rec recorder
			a.Check(&rec, names, tt.got)
			if rec.failed {
				t.Errorf("the rewritten archive does not compare equal: %s", rec.msg)
			}
		})
	}
}

func TestArchiveCheckFails(t *testing.T) {
	if Update() {
		t.Skip("compares only")
	}
	path := filepath.Join(t.TempDir(), "a.txtar")
	os.WriteFile(path, []byte("-- in --\nx\n-- want --\nold\n-- error --\nstale\n"), 0o644)
	names := []string{"want", "error", "plan.txt"}
	for _, got := range []map[string]string{
		{"want": "new\n", "error": "stale\n"},                    // differs
		{"want": "old\n"},                                        // error no longer produced
		{"want": "old\n", "error": "stale\n", "plan.txt": "p\n"}, // section missing
	} {
		var rec recorder
		Load(t, path).Check(&rec, names, got)
		if !rec.failed {
			t.Errorf("%v: no failure", got)
		}
	}
}

// recorder is a testing.TB that records Errorf instead of failing.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = true
	r.msg = format
}
