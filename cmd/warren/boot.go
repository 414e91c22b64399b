package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/atomicfile"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/seeders/rabbitmq/boot"

	"strings"
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

// warren boot's other outputs: a Kubernetes Secret (with what the official
// image, RabbitMQ's cluster operator and the Bitnami chart need to load
// it), and the https
// import backend for nodes that fetch their definitions from a server.

const bootMoreHelp = "--format kubernetes writes DIR/secret.yaml (a v1 Secret holding definitions.json and the conf.d\n" +
	"fragment), DIR/statefulset.yaml (for the official rabbitmq image: a Service and a StatefulSet of one\n" +
	"node that mount the Secret's definitions at --mount-path and its fragment in /etc/rabbitmq/conf.d),\n" +
	"DIR/rabbitmqcluster.yaml (for RabbitMQ's cluster operator: a complete RabbitmqCluster named --cluster,\n" +
	"with additionalConfig and an override that mounts the Secret) and DIR/bitnami-values.yaml (legacy: the\n" +
	"Bitnami chart's loadDefinition values; its images moved to docker.io/bitnamilegacy). Apply the Secret\n" +
	"with one of them: kubectl apply -f DIR/secret.yaml -f DIR/statefulset.yaml.\n\n" +
	"--import-backend https --url URL --ca-cert FILE writes a fragment that makes the node fetch the\n" +
	"definitions from URL at boot (serve DIR/definitions.json there), verifying the server with FILE;\n" +
	"--client-cert and --client-key add a client certificate. Paths are as the node sees them.\n\n"

func bootMoreFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Value: "files", Usage: "files (definitions.json and a conf.d fragment) or kubernetes (a Secret, a StatefulSet for the official image, a RabbitmqCluster, legacy Bitnami chart values)"},
		&cli.StringFlag{Name: "name", Value: "warren-definitions", Usage: "--format kubernetes: the Secret's name"},
		&cli.StringFlag{Name: "namespace", Usage: "--format kubernetes: the namespace of every object (default: kubectl's)"},
		&cli.StringFlag{Name: "mount-path", Value: boot.DefaultKubernetesMountPath, Usage: "--format kubernetes: where the pods mount the Secret's definitions"},
		&cli.StringFlag{Name: "cluster", Value: "rabbitmq", Usage: "--format kubernetes: the name of the RabbitmqCluster, and of the official image's StatefulSet and Service"},
		&cli.StringFlag{Name: "image", Usage: "--format kubernetes: the RabbitMQ image (default: " + boot.DefaultImage + " for the StatefulSet, the operator's own for the RabbitmqCluster)"},
		&cli.StringFlag{Name: "import-backend", Value: boot.BackendLocal, Usage: "how the node gets the definitions: local_filesystem (a file on the node) or https (fetched from --url)"},
		&cli.StringFlag{Name: "url", Usage: "--import-backend https: the https:// URL the node fetches the definitions from"},
		&cli.StringFlag{Name: "ca-cert", Usage: "--import-backend https: the CA file (PEM) the node verifies the server with, as the node sees it"},
		&cli.StringFlag{Name: "client-cert", Usage: "--import-backend https: the node's client certificate (PEM), as the node sees it"},
		&cli.StringFlag{Name: "client-key", Usage: "--import-backend https: the key of --client-cert, as the node sees it"},
	}
}

// httpsSource reads the https import backend's flags; nil for the local
// file backend.
func httpsSource(c *cli.Context) (*boot.HTTPSSource, error) {
	switch c.String("import-backend") {
	case boot.BackendLocal:
		for _, f := range []string{"url", "ca-cert", "client-cert", "client-key"} {
			if c.IsSet(f) {
				return nil, fmt.Errorf("--%s is for --import-backend https", f)
			}
		}
		return nil, nil
	case boot.BackendHTTPS:
		if c.IsSet("node-path") {
			return nil, fmt.Errorf("--node-path is for --import-backend local_filesystem: a node with the https backend fetches the definitions from --url")
		}
		return &boot.HTTPSSource{URL: c.String("url"), CACertFile: c.String("ca-cert"),
			CertFile: c.String("client-cert"), KeyFile: c.String("client-key")}, nil
	}
	return nil, fmt.Errorf("unknown --import-backend %q: use local_filesystem or https", c.String("import-backend"))
}

func runBootKubernetes(c *cli.Context, doc *definitions.Document, alg string) error {
	if c.IsSet("node-path") {
		return fmt.Errorf("--node-path is for --format files; with --format kubernetes the node reads the definitions under --mount-path")
	}
	if c.String("import-backend") != boot.BackendLocal {
		return fmt.Errorf("--format kubernetes puts the definitions in a Secret; --import-backend https is for --format files")
	}
	out, err := boot.Kubernetes(doc,
		boot.Options{HashingAlgorithm: alg, Force: c.Bool("force")},
		boot.KubernetesOptions{Name: c.String("name"), Namespace: c.String("namespace"), MountPath: c.String("mount-path"),
			Cluster: c.String("cluster"), Image: c.String("image")})
	if err != nil {
		return operation.SecretError(newView(c, "text"), doc, err)
	}
	for _, w := range out.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warren: warning: %s\n", w)
	}
	dir := c.String("out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{"secret.yaml", out.Secret, 0o600}, // password hashes
		{"statefulset.yaml", out.StatefulSet, 0o644},
		{"rabbitmqcluster.yaml", out.Cluster, 0o644},
		{"bitnami-values.yaml", out.BitnamiValues, 0o644},
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (Secret %q: %s), %s, %s and %s\n",
		filepath.Join(dir, "secret.yaml"), c.String("name"), counts(doc), filepath.Join(dir, "statefulset.yaml"),
		filepath.Join(dir, "rabbitmqcluster.yaml"), filepath.Join(dir, "bitnami-values.yaml"))
	return nil
}
