package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/atomicfile"
	"github.com/warren-tool/warren/internal/operation"
)

func fmtCommand() *cli.Command {
	return &cli.Command{
		Name:      "fmt",
		Usage:     "rewrite definitions files in canonical form (sorted objects, stable key order)",
		ArgsUsage: "FILE|DIR|- ...",
		Description: "Rewrites each file in place in warren's canonical form, so that reviews of definition changes show\n" +
			"only real changes, and prints the names of the files it changed. A directory's .json, .yaml and .yml\n" +
			"files are formatted one by one; - reads standard input and writes standard output.\n" +
			"--to converts between JSON and YAML; it writes to standard output (or -o FILE), never in place.\n" +
			"--to topology-operator converts all the files given (merged) to RabbitMQ Messaging Topology Operator\n" +
			"resources (--cluster names the RabbitmqCluster; --secrets writes the Secrets beside -o FILE, 0600; see\n" +
			"docs/kubernetes.md). Files of operator resources are not formatted (fmt names them and leaves them alone).\n" +
			"A file with errors is left alone and its errors are printed. A YAML file keeps its header comment;\n" +
			"one with comments further in is refused unless --drop-comments.\n\n" +
			"Exit codes: 0 success, 1 errors, or with --check files that are not canonical.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "change nothing; list files that are not canonical and exit 1 if there are any"},
			&cli.BoolFlag{Name: "diff", Usage: "print what formatting changes, as a line diff"},
			&cli.StringFlag{Name: "to", Usage: "output format: json or yaml (default: the input's)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead (one input only)"},
			&cli.BoolFlag{Name: "drop-comments", Usage: "format YAML files even though comments inside them will be lost"},
			maxSizeFlag(),
		}, topologyFlags()...),
		Action: runFmt,
	}
}

func runFmt(c *cli.Context) error {
	to := c.String("to")
	if to != "" && to != "json" && to != "yaml" && to != formatTopology {
		return fmt.Errorf("unknown --to %q: use json, yaml or %s", to, formatTopology)
	}
	if c.NArg() == 0 {
		return fmt.Errorf("no files given: name definitions files or directories, or - for standard input")
	}
	size, err := parseSize(c.String("max-size"))
	if err != nil {
		return err
	}
	if to == formatTopology {
		return fmtTopology(c, size)
	}
	if anyTopologyFlag(c) {
		return fmt.Errorf("--cluster, --namespace and --secrets go with --to %s", formatTopology)
	}
	paths, diags := definitions.Expand(c.Args().Slice())
	if len(diags) > 0 {
		printDiagnostics(c.App.ErrWriter, diags)
		return exitCodeError{exitError}
	}
	out := c.String("output")
	if (out != "" || to != "") && len(paths) != 1 {
		return fmt.Errorf("--to and --output take exactly one input file")
	}
	failed, unformatted := false, false
	for _, p := range paths {
		doc, diags := definitions.Load([]string{p}, definitions.LoadOptions{MaxSize: size, Stdin: c.App.Reader})
		if doc != nil && doc.Files()[0].Topology() {
			// Checked alone, its Secrets may be in another file: validate
			// reports on resources, fmt only says it has nothing to do.
			fmt.Fprintf(c.App.ErrWriter, "warren: %s holds Topology Operator resources, not a definitions document: left as it is\n", doc.Files()[0].Name)
			continue
		}
		if diags.HasErrors() || doc == nil {
			printDiagnostics(c.App.ErrWriter, diags)
			failed = true
			continue
		}
		f := doc.Files()[0]
		if f.InteriorComments() && !c.Bool("drop-comments") {
			fmt.Fprintf(c.App.ErrWriter, "warren: %s has comments inside the document; formatting would drop them (only the header comment is kept). Move them to the header, or use --drop-comments\n", f.Name)
			failed = true
			continue
		}
		format := to
		if format == "" {
			format = f.Format
		}
		doc.Sort()
		var formatted []byte
		if format == "json" {
			formatted = doc.EncodeJSON()
		} else {
			formatted = doc.EncodeYAML(f.HeaderComment())
		}
		changed := !bytes.Equal(formatted, f.Data())
		if c.Bool("diff") && changed {
			writeDiff(c.App.Writer, f.Name, string(f.Data()), string(formatted))
		}
		switch {
		case c.Bool("check"):
			if changed {
				unformatted = true
				if !c.Bool("diff") {
					fmt.Fprintln(c.App.Writer, f.Name)
				}
			}
		case out != "":
			if err := atomicfile.Write(out, formatted, outputMode(p, doc)); err != nil {
				return err
			}
		case p == "-" || to != "":
			if _, err := c.App.Writer.Write(formatted); err != nil {
				return err
			}
		case changed:
			if err := atomicfile.Rewrite(p, formatted); err != nil {
				return err
			}
			if !c.Bool("diff") {
				fmt.Fprintln(c.App.Writer, f.Name)
			}
		}
	}
	if failed || unformatted {
		return exitCodeError{exitError}
	}
	return nil
}

// outputMode is the mode of what fmt -o writes: no more open than the
// input file, and only its owner's when it holds users or credentials (as
// an export is).
func outputMode(input string, doc *definitions.Document) os.FileMode {
	perm := operation.ExportMode(doc)
	if input != "-" {
		if st, err := os.Stat(input); err == nil {
			perm &= st.Mode().Perm()
		}
	}
	return perm
}

// writeDiff prints a line diff between two texts, with - and + markers.
func writeDiff(w io.Writer, name, before, after string) {
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(before, after)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines)
	fmt.Fprintf(w, "--- %s\n+++ %s (formatted)\n", name, name)
	for _, d := range diffs {
		marker := " "
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			marker = "-"
		case diffmatchpatch.DiffInsert:
			marker = "+"
		}
		for _, line := range strings.SplitAfter(d.Text, "\n") {
			if line == "" {
				continue
			}
			fmt.Fprint(w, marker, line)
			if !strings.HasSuffix(line, "\n") {
				fmt.Fprintln(w)
			}
		}
	}
}

// fmtTopology converts every file given, merged, to operator resources.
func fmtTopology(c *cli.Context, size int64) error {
	r, err := parseTopologyFlags(c, c.String("output"))
	if err != nil {
		return err
	}
	doc, diags := definitions.Load(c.Args().Slice(), definitions.LoadOptions{MaxSize: size, Stdin: c.App.Reader})
	if diags.HasErrors() || doc == nil {
		printDiagnostics(c.App.ErrWriter, diags)
		return exitCodeError{exitError}
	}
	printDiagnostics(c.App.ErrWriter, diags)
	return writeTopology(c, doc, r)
}
