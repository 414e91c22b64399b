package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/atomicfile"
)

// formatTopology is the --format (export) and --to (fmt) that writes
// Messaging Topology Operator resources.
const formatTopology = "topology-operator"

func topologyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cluster", Usage: formatTopology + ": the RabbitmqCluster every resource's rabbitmqClusterReference names"},
		&cli.StringFlag{Name: "namespace", Usage: formatTopology + ": the resources' metadata.namespace (default: none, kubectl's current one)"},
		&cli.BoolFlag{Name: "secrets", Usage: formatTopology + ": also write the Secrets the resources reference (passwords, hashes, URIs) beside -o FILE, as FILE's name with -secrets before its extension, mode 0600"},
	}
}

// topologyRequest is what the topology flags ask for, checked before
// anything is read.
type topologyRequest struct {
	opts        definitions.TopologyOptions
	out, secret string // the files; out "" is standard output
}

func parseTopologyFlags(c *cli.Context, out string) (*topologyRequest, error) {
	r := &topologyRequest{out: out, opts: definitions.TopologyOptions{Cluster: c.String("cluster"), Namespace: c.String("namespace"), Secrets: c.Bool("secrets")}}
	if r.opts.Cluster == "" {
		return nil, fmt.Errorf("%s needs --cluster NAME: the RabbitmqCluster the resources reference", formatTopology)
	}
	if r.opts.Secrets {
		if out == "" {
			return nil, fmt.Errorf("--secrets writes the Secrets beside the resources: give -o FILE")
		}
		ext := filepath.Ext(out)
		r.secret = strings.TrimSuffix(out, ext) + "-secrets" + ext
		if ext == "" {
			r.secret = out + "-secrets.yaml"
		}
	}
	return r, nil
}

func anyTopologyFlag(c *cli.Context) bool {
	return c.IsSet("cluster") || c.IsSet("namespace") || c.IsSet("secrets")
}

// writeTopology converts doc and writes the resources, and the Secrets
// when asked. What the operator cannot express is printed as warnings.
func writeTopology(c *cli.Context, doc *definitions.Document, r *topologyRequest) error {
	res, diags := definitions.Topology(doc, r.opts)
	printDiagnostics(c.App.ErrWriter, diags)
	if diags.HasErrors() {
		return exitCodeError{exitError}
	}
	if r.out == "" {
		if _, err := c.App.Writer.Write(res.Resources); err != nil {
			return err
		}
	} else if err := atomicfile.Write(r.out, res.Resources, 0o644); err != nil {
		return err
	}
	if r.secret != "" && res.Secrets != nil {
		if err := atomicfile.Write(r.secret, res.Secrets, 0o600); err != nil {
			return err
		}
		fmt.Fprintf(c.App.ErrWriter, "warren: wrote %d Secrets to %s (mode 0600: it holds passwords and URIs, keep it out of git; apply it before the resources)\n", res.Count["Secret"], r.secret)
	}
	return nil
}
