package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
)

// Saved plans: warren diff -o writes one (plan.SavedPlan), warren
// apply PLAN.json makes the plan again and carries it out only when it is
// the same, made against the same broker, as the same user, with the same
// options.

// planOptionFlags are the flags a saved plan records.
var planOptionFlags = []string{"target", "prune", "keep-guest", "replace", "destroy-messages", "update-passwords"}

// planOptionsOf reads the plan options from the command line.
func planOptionsOf(c *cli.Context, t definitions.TargetName) plan.Options {
	return plan.Options{Target: string(t), Prune: c.Bool("prune"), KeepGuest: c.Bool("keep-guest"),
		Replace: c.Bool("replace"), DestroyMessages: c.Bool("destroy-messages"), UpdatePasswords: c.Bool("update-passwords")}
}

// overrideOptions is a saved plan's options with those the command line
// sets explicitly.
func overrideOptions(c *cli.Context, o plan.Options) plan.Options {
	set := map[string]*bool{"prune": &o.Prune, "keep-guest": &o.KeepGuest, "replace": &o.Replace,
		"destroy-messages": &o.DestroyMessages, "update-passwords": &o.UpdatePasswords}
	for _, name := range planOptionFlags {
		if !c.IsSet(name) {
			continue
		}
		if name == "target" {
			o.Target = c.String(name)
			continue
		}
		*set[name] = c.Bool(name)
	}
	return o
}

// readSavedPlan returns the saved plan when the only argument is one. A
// file that says it is a plan and does not read as one is an error.
func readSavedPlan(c *cli.Context) (*plan.SavedPlan, error) {
	if c.NArg() != 1 || !strings.HasSuffix(c.Args().First(), ".json") {
		return nil, nil
	}
	data, err := os.ReadFile(c.Args().First())
	if err != nil {
		return nil, nil // not readable as a plan: load it as definitions
	}
	sp, err := plan.ReadSavedPlan(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Args().First(), err)
	}
	return sp, nil
}

func savedPaths(sp *plan.SavedPlan) []string {
	if sp == nil {
		return nil
	}
	out := make([]string, len(sp.Files))
	for i, f := range sp.Files {
		out[i] = f.Path
	}
	return out
}

// savedURLs are the saved plan's URLs, unless --url (or WARREN_URL) says
// where to go.
func savedURLs(c *cli.Context, sp *plan.SavedPlan) []string {
	if sp == nil || c.IsSet("url") {
		return nil
	}
	return sp.Broker.URLs
}

func checkFiles(sp *plan.SavedPlan) error {
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

// newSavedPlan is plan as a saved plan made against the broker id names;
// Files are left to the caller.
func newSavedPlan(id plan.BrokerID, opts plan.Options, p *plan.Plan) *plan.SavedPlan {
	return &plan.SavedPlan{Warren: "plan", FormatVersion: plan.SavedPlanFormat, Broker: id,
		Options: opts, LiveDigest: p.LiveDigest, Plan: render.ToJSON(p)}
}

// savePlan writes sp for warren apply PLAN.json, with the command's files
// by absolute path and digest.
func savePlan(c *cli.Context, out string, sp *plan.SavedPlan) error {
	paths, diags := definitions.Expand(c.Args().Slice())
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
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(out, append(data, '\n'), 0o644)
}
