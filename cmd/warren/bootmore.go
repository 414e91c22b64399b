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
)

// warren boot's other outputs: a Kubernetes Secret (with what RabbitMQ's
// cluster operator and the Bitnami chart need to load it), and the https
// import backend for nodes that fetch their definitions from a server.

const bootMoreHelp = "--format kubernetes writes DIR/secret.yaml (a v1 Secret holding definitions.json and the conf.d\n" +
	"fragment), DIR/rabbitmqcluster-patch.yaml (for RabbitMQ's cluster operator: additionalConfig, and an\n" +
	"override that mounts the Secret at --mount-path) and DIR/bitnami-values.yaml (the Bitnami chart's\n" +
	"loadDefinition values).\n\n" +
	"--import-backend https --url URL --ca-cert FILE writes a fragment that makes the node fetch the\n" +
	"definitions from URL at boot (serve DIR/definitions.json there), verifying the server with FILE;\n" +
	"--client-cert and --client-key add a client certificate. Paths are as the node sees them.\n\n"

func bootMoreFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "format", Value: "files", Usage: "files (definitions.json and a conf.d fragment) or kubernetes (a Secret, a RabbitmqCluster patch, Bitnami chart values)"},
		&cli.StringFlag{Name: "name", Value: "warren-definitions", Usage: "--format kubernetes: the Secret's name"},
		&cli.StringFlag{Name: "namespace", Usage: "--format kubernetes: the Secret's namespace (default: kubectl's)"},
		&cli.StringFlag{Name: "mount-path", Value: boot.DefaultKubernetesMountPath, Usage: "--format kubernetes: where the RabbitmqCluster override mounts the Secret"},
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
		boot.KubernetesOptions{Name: c.String("name"), Namespace: c.String("namespace"), MountPath: c.String("mount-path")})
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
		{"rabbitmqcluster-patch.yaml", out.ClusterPatch, 0o644},
		{"bitnami-values.yaml", out.BitnamiValues, 0o644},
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.App.Writer, "wrote %s (Secret %q: %s), %s and %s\n",
		filepath.Join(dir, "secret.yaml"), c.String("name"), counts(doc),
		filepath.Join(dir, "rabbitmqcluster-patch.yaml"), filepath.Join(dir, "bitnami-values.yaml"))
	return nil
}
