package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/schema"
	"golang.org/x/term"
)

// Exit codes are API: scripts and CI jobs depend on them.
const (
	exitOK    = 0 // success; for diff: in sync
	exitError = 1 // invalid input, a failed command, or a usage error
	exitDrift = 2 // diff found differences
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const exitCodesHelp = `Exit codes: 0 success (diff: in sync), 1 error (invalid files, failed command, bad usage), 2 diff found drift (migrate status: messages left on the old cluster).`

// exitCodeError carries an exit code out of an action without printing
// anything more: the action has already said what went wrong.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return "exit " + strconv.Itoa(e.code) }

// run is warren's one exit path: it runs the command line and returns the
// exit code. It never calls os.Exit, so tests run it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	unsetEmptyEnv(app)
	err := app.RunContext(context.Background(), flagsFirst(app, args))
	var ec exitCodeError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.code
	case operation.IsReported(err): // shown already
		return exitError
	}
	fmt.Fprintf(stderr, "warren: %v\n", err)
	return exitError
}

// unsetEmptyEnv removes the environment variables of app's flags that are
// set to nothing (or blanks): urfave/cli counts such a variable as the flag
// given, with an empty value, so a pipeline's WARREN_TARGET= or
// WARREN_MAX_SIZE= was refused as a value, and WARREN_INSTANCE_TYPE= as a
// flag export does not take. Empty is not given.
func unsetEmptyEnv(app *cli.App) {
	var walk func(flags []cli.Flag, cmds []*cli.Command)
	walk = func(flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			if e, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, name := range e.GetEnvVars() {
					if v, set := os.LookupEnv(name); set && strings.TrimSpace(v) == "" {
						os.Unsetenv(name)
					}
				}
			}
		}
		for _, c := range cmds {
			walk(c.Flags, c.Subcommands)
		}
	}
	walk(app.Flags, app.Commands)
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "warren",
		Usage:   "keep a message broker's users, vhosts and permissions in files, and make live brokers match them",
		Version: currentBuild().Version,
		Description: "warren validates definitions files (JSON or YAML, RabbitMQ's format) against a JSON Schema and\n" +
			"checks what a schema cannot express, pointing every problem at file:line:col.\n\n" + exitCodesHelp,
		Writer:          stdout,
		ErrWriter:       stderr,
		Reader:          stdin,
		HideHelpCommand: true,
		// warren completion bash|zsh asks warren for the words that fit.
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // run decides the exit code
		Commands: []*cli.Command{
			withInventory(validateCommand()), // fleet.go
			fmtCommand(),
			withInventory(exportCommand()),
			withInventory(diffCommand()),
			withInventory(applyCommand()),
			withInventory(accessCommand()),
			withInventory(watchCommand()),
			bootCommand(),
			migrateCommand(),
			schemaCommand(),
			hashCommand(),
			completionCommand(),
			versionCommand(),
		},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%v (see 'warren %s --help')", err, c.Command.Name)
		},
	}
	return app
}

// Flags shared by the commands that load files. Each command gets its own:
// urfave/cli writes a value read from the environment into the flag.
func maxSizeFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "max-size",
		Usage:   "largest file to read (bytes, or with KiB, MiB, GiB)",
		Value:   "128MiB",
		EnvVars: []string{"WARREN_MAX_SIZE"},
	}
}

func targetFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "target",
		Usage:   "add a broker target's rules: " + operation.TargetNames(),
		Value:   string(definitions.TargetRabbitMQ),
		EnvVars: []string{"WARREN_TARGET"},
	}
}

// parseSize reads a size such as 1048576, 512KiB, 20MiB or 1GiB.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid size %q: use a number of bytes, or KiB, MiB, GiB", s)
	}
	return n * mult, nil
}

// printDiagnostics writes diagnostics one per line, sorted.
func printDiagnostics(w io.Writer, diags schema.Diagnostics) {
	diags.Sort()
	var line []byte
	for _, d := range diags {
		line = append(d.AppendText(line[:0]), '\n')
		w.Write(line)
	}
}

// isTerminal reports whether w is a terminal (not a pipe, a file or
// /dev/null).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// flagsFirst moves a subcommand's flags before its arguments, so that
// "warren diff defs/ --url URL" works as well as "warren diff --url URL
// defs/": urfave/cli stops reading flags at the first argument.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	var cmd *cli.Command
	at := -1
	for i := 1; i < len(args); i++ {
		if !strings.HasPrefix(args[i], "-") {
			cmd, at = app.Command(args[i]), i
			break
		}
	}
	if cmd == nil {
		return args
	}
	// A command with subcommands (migrate plan): the subcommand's flags.
	for at+1 < len(args) && cmd.Subcommands != nil {
		sub := cmd.Command(args[at+1])
		if sub == nil {
			break
		}
		cmd, at = sub, at+1
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, name := range f.Names() {
			takesValue[name] = !isBool
		}
	}
	var flags, rest []string
	tail := args[at+1:]
	for i := 0; i < len(tail); i++ {
		a := tail[i]
		if a == "--" {
			rest = append(rest, tail[i:]...)
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(tail) {
			flags = append(flags, tail[i+1])
			i++
		}
	}
	out := append([]string{}, args[:at+1]...)
	out = append(out, flags...)
	return append(out, rest...)
}
