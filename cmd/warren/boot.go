package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/atomicfile"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/seeders/rabbitmq/boot"
)

func bootCommand() *cli.Command {
	return &cli.Command{
		Name:      "boot",
		Usage:     "write what a blank RabbitMQ node imports at its first boot (no guest user)",
		ArgsUsage: "FILE|DIR|- ...",
		Description: "Writes DIR/definitions.json (mode 0600: every password turned into a salted hash, RabbitMQ's\n" +
			"layout) and DIR/10-warren-definitions.conf, a rabbitmq.conf fragment (for conf.d) that makes the node\n" +
			"import it at boot and again only when it changes. A node configured to import definitions creates no\n" +
			"guest user and no / vhost, so boot refuses files that define no administrator or no vhost (--force\n" +
			"writes them anyway, with a warning).\n\n" +
			bootMoreHelp +
			"Exit codes: 0 success, 1 error.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "out", Required: true, Usage: "directory to write definitions.json and the configuration fragment to"},
			&cli.StringFlag{Name: "hash", Value: "sha256", Usage: "password hashing: sha256 or sha512"},
			&cli.StringFlag{Name: "node-path", Usage: "where the node will see definitions.json (default: its path under --out)"},
			&cli.BoolFlag{Name: "force", Usage: "write even when the files define no administrator or no vhost"},
			maxSizeFlag(),
		}, bootMoreFlags()...),
		Action: runBoot,
	}
}

func runBoot(c *cli.Context) error {
	alg := map[string]string{"sha256": definitions.HashSHA256, "sha512": definitions.HashSHA512}[c.String("hash")]
	if alg == "" {
		return fmt.Errorf("unknown --hash %q: use sha256 or sha512", c.String("hash"))
	}
	src, err := httpsSource(c)
	if err != nil {
		return err
	}
	desired, err := loadValid(c, newView(c, "text"), definitions.TargetRabbitMQ, false)
	if err != nil {
		return err
	}
	doc := desired.Doc
	out := c.String("out") // made once what goes in it is made: a failed boot leaves no directory
	switch c.String("format") {
	case "kubernetes":
		return runBootKubernetes(c, doc, alg)
	case "files":
	default:
		return fmt.Errorf("unknown --format %q: use files or kubernetes", c.String("format"))
	}
	defsPath := filepath.Join(out, "definitions.json")
	nodePath := c.String("node-path")
	if nodePath == "" {
		if nodePath, err = filepath.Abs(defsPath); err != nil {
			return err
		}
	}
	res, err := boot.Files(doc, boot.Options{HashingAlgorithm: alg, Force: c.Bool("force"), DefinitionsPath: nodePath, HTTPS: src})
	if err != nil {
		return operation.SecretError(newView(c, "text"), doc, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warren: warning: %s\n", w)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(defsPath, res.Definitions, 0o600); err != nil {
		return err
	}
	confPath := filepath.Join(out, "10-warren-definitions.conf")
	if err := atomicfile.Write(confPath, []byte(res.Config), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (%s) and %s\n", defsPath, counts(doc), confPath)
	return nil
}

// counts says how many objects of each kind doc holds: "2 users, 1 vhost,
// 3 permissions" (kinds it has none of are left out).
func counts(doc *definitions.Document) string {
	var parts []string
	for _, k := range definitions.Kinds {
		if n := doc.Count(k); n > 0 {
			parts = append(parts, definitions.CountOf(k, n))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	return strings.Join(parts, ", ")
}
