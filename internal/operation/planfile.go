package operation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/internal/atomicfile"
)

// Saved plans: diff -o writes one (plan.SavedPlan), apply PLAN.json makes
// the plan again and carries it out only when it is the same, made
// against the same broker, as the same user, with the same options. A
// migration plan (plan.SavedMigration) holds one for the new cluster.

// NewSavedPlan is p as a saved plan made against the broker id names;
// Files are left to the caller.
func NewSavedPlan(id plan.BrokerID, opts plan.Options, p *plan.Plan) *plan.SavedPlan {
	return &plan.SavedPlan{Warren: "plan", FormatVersion: plan.SavedPlanFormat, Broker: id,
		Options: opts, LiveDigest: p.LiveDigest, Plan: render.ToJSON(p)}
}

// ReadSavedPlan returns the saved plan when args are one file that is
// one. A file that says it is a plan and does not read as one is an
// error; anything else is nil, to be loaded as definitions. Only a
// regular file can be a plan: the definitions a pipe gives can be read
// only once, by the loader.
func ReadSavedPlan(args []string) (*plan.SavedPlan, error) {
	if len(args) != 1 || !strings.HasSuffix(args[0], ".json") {
		return nil, nil
	}
	if fi, err := os.Stat(args[0]); err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		return nil, nil // not readable as a plan: load it as definitions
	}
	sp, err := plan.ReadSavedPlan(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", args[0], err)
	}
	return sp, nil
}

// SavedPaths are the files a saved plan was made from.
func SavedPaths(sp *plan.SavedPlan) []string {
	out := make([]string, len(sp.Files))
	for i, f := range sp.Files {
		out[i] = f.Path
	}
	return out
}

// CheckFiles refuses a saved plan whose files changed since.
func CheckFiles(sp *plan.SavedPlan) error {
	for _, f := range sp.Files {
		sum, err := fileDigest(f.Path)
		if err != nil {
			return fmt.Errorf("the plan's file %s: %w", f.Path, err)
		}
		if sum != f.SHA256 {
			return fmt.Errorf("%s changed since the plan was made; run warren diff -o again", f.Path)
		}
	}
	return nil
}

func fileDigest(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// addFiles records the files named by absolute path and digest.
func addFiles(sp *plan.SavedPlan, args []string) error {
	paths, diags := definitions.Expand(args)
	if len(diags) > 0 {
		return diags
	}
	for _, p := range paths {
		if p == "-" {
			return fmt.Errorf("-o needs files: a plan read from standard input cannot be checked again at apply time")
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		sum, err := fileDigest(abs)
		if err != nil {
			return err
		}
		sp.Files = append(sp.Files, plan.SavedFile{Path: abs, SHA256: sum})
	}
	return nil
}

// writeJSON writes v, indented, atomically.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o644)
}
