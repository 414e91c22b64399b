package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"
)

func hashCommand() *cli.Command {
	return &cli.Command{
		Name:  "hash",
		Usage: "turn a password (from standard input or a file, never the command line) into a RabbitMQ password_hash",
		Description: "Reads one password from standard input (on a terminal: a prompt without echo, asked twice) or from\n" +
			"--password-file, and prints RabbitMQ's password_hash for it (a random 4-byte salt, then SHA-256 or\n" +
			"SHA-512 of salt and password, in base64) with its hashing_algorithm, for definitions files that keep\n" +
			"hashes instead of passwords. One trailing newline is not part of the password. The password is never\n" +
			"read from the command line, where every user of the machine can see it.\n\n" +
			"  printf '%s' \"$PASSWORD\" | warren hash --format yaml\n" +
			"  warren hash --password-file /run/secrets/app --algorithm sha512 --format json\n\n" +
			"Exit codes: 0 success, 1 error.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "password-file", Usage: "read the password from this file instead of standard input"},
			&cli.StringFlag{Name: "algorithm", Value: "sha256", Usage: "sha256 (RabbitMQ's default) or sha512"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json or yaml (the two fields of a user object, ready to paste)"},
			// A fixed salt makes the output reproducible (tests, known vectors).
			&cli.StringFlag{Name: "salt", Hidden: true, Usage: "the salt, 8 hex digits (default: random)"},
		},
		Action: runHash,
	}
}

// hashOutput is what warren hash prints: the two fields of a user object.
type hashOutput struct {
	PasswordHash     string `json:"password_hash" yaml:"password_hash"`
	HashingAlgorithm string `json:"hashing_algorithm" yaml:"hashing_algorithm"`
}

func runHash(c *cli.Context) error {
	if c.NArg() > 0 {
		return errors.New("warren hash reads the password from standard input or --password-file, never from the command line (every user of the machine can read it there)")
	}
	alg := map[string]string{"sha256": definitions.HashSHA256, "sha512": definitions.HashSHA512}[c.String("algorithm")]
	if alg == "" {
		return fmt.Errorf("unknown --algorithm %q: use sha256 or sha512", c.String("algorithm"))
	}
	format := c.String("format")
	if format != "text" && format != "json" && format != "yaml" {
		return fmt.Errorf("unknown --format %q: use text, json or yaml", format)
	}
	var salt []byte
	if s := c.String("salt"); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 4 {
			return fmt.Errorf("--salt is 8 hex digits, not %q", s)
		}
		salt = b
	}
	password, err := readHashInput(c)
	if err != nil {
		return err
	}
	if password == "" {
		return errors.New("the password is empty: RabbitMQ would store a hash nobody can log in with")
	}
	h, err := definitions.HashPassword(password, alg, salt)
	if err != nil {
		return err
	}
	out := hashOutput{PasswordHash: h, HashingAlgorithm: alg}
	w := c.App.Writer
	switch format {
	case "json":
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
	case "yaml":
		b, _ := yaml.Marshal(out)
		w.Write(b)
	default:
		fmt.Fprintf(w, "password_hash:     %s\nhashing_algorithm: %s\n", out.PasswordHash, out.HashingAlgorithm)
	}
	return nil
}

// readHashInput reads the password: --password-file, a prompt on a
// terminal, or all of standard input (one trailing newline removed).
func readHashInput(c *cli.Context) (string, error) {
	if path := c.String("password-file"); path != "" {
		p, err := definitions.ReadSecretFile(path)
		if err != nil {
			return "", fmt.Errorf("reading --password-file %s: %w", path, err)
		}
		return p, nil
	}
	if f, ok := c.App.Reader.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(c.App.ErrWriter, "Password: ")
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		fmt.Fprint(c.App.ErrWriter, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.App.ErrWriter)
		if err != nil {
			return "", err
		}
		if string(first) != string(again) {
			return "", errors.New("the two passwords differ")
		}
		return string(first), nil
	}
	if c.App.Reader == nil {
		return "", errors.New("no standard input: pipe the password in, or use --password-file")
	}
	b, err := io.ReadAll(io.LimitReader(c.App.Reader, definitions.MaxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	if len(b) > definitions.MaxSecretFile {
		return "", fmt.Errorf("standard input is larger than %d KiB; it should hold one password", definitions.MaxSecretFile>>10)
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}
