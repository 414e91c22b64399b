package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// commit is set at build time with -ldflags "-X main.commit=…" (make build,
// make release); without it the Go toolchain's VCS stamp is used.
var commit = ""

// buildInfo is what warren version prints.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// readBuildInfo returns the version and commit from the linker flags, or
// else from what the Go toolchain recorded: the module version for
// "go install …@v1.2.3", the VCS revision for a build inside a checkout.
func readBuildInfo(bi *debug.BuildInfo, ok bool) buildInfo {
	out := buildInfo{Version: version, Commit: commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok {
		if out.Commit == "" {
			out.Commit = "unknown"
		}
		return out
	}
	if out.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		out.Version = bi.Main.Version
	}
	if out.Commit == "" {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" && modified == "true" {
			rev += "-dirty"
		}
		out.Commit = rev
	}
	if out.Commit == "" {
		out.Commit = "unknown"
	}
	return out
}

func currentBuild() buildInfo { return readBuildInfo(debug.ReadBuildInfo()) }

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print warren's version and the commit it was built from",
		Description: "Prints the version (a git tag, or git describe's name, set by make build and make release), the\n" +
			"commit, and the Go version and platform. --format json prints them as an object\n" +
			"({\"version\",\"commit\",\"go\",\"platform\"}).\n\n" +
			"Exit codes: 0 success, 1 error.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text or json"},
		},
		Action: func(c *cli.Context) error {
			b := currentBuild()
			switch c.String("format") {
			case "json":
				out, _ := json.MarshalIndent(b, "", "  ")
				fmt.Fprintf(c.App.Writer, "%s\n", out)
			case "text":
				fmt.Fprintf(c.App.Writer, "warren %s (commit %s, %s, %s)\n", b.Version, b.Commit, b.Go, b.Platform)
			default:
				return fmt.Errorf("unknown --format %q: use text or json", c.String("format"))
			}
			return nil
		},
	}
}
