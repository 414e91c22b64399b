package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// These tests run warren's commands in-process against a real RabbitMQ
// node, one after another (they share the node). diff and export against a
// node are scripts in testdata/broker.

// warren runs the CLI in-process and returns its exit code and output.
func warren(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"warren"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// useNode points warren at a node through the environment, as a user would.
func useNode(t *testing.T, n *rabbitmqtest.Node) {
	t.Setenv("WARREN_URL", n.URL)
	t.Setenv("WARREN_USERNAME", n.Admin)
	t.Setenv("WARREN_PASSWORD", n.AdminPassword)
	t.Setenv("APP_PASSWORD", "app-password-1")
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTLS starts a node with a TLS management listener signed by a test CA.
func TestTLS(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	dir := t.TempDir()
	files, err := rabbitmqtest.WriteTestCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{TLS: files})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	useNode(t, n)
	t.Setenv("WARREN_URL", n.TLSURL)
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - name: /\n    description: Default virtual host\n")
	if code, out, errOut := warren(t, "diff", "--ca-cert", files.CACert, defs); code != exitOK {
		t.Errorf("https with the test CA: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := warren(t, "diff", defs); code != exitError || !strings.Contains(errOut, "certificate") {
		t.Errorf("https without trusting the CA must fail on the certificate: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := warren(t, "diff", "--insecure", defs); code != exitOK {
		t.Errorf("--insecure: exit %d\n%s%s", code, out, errOut)
	}
}

func sleep() { time.Sleep(100 * time.Millisecond) }

// urlPath escapes the slashes of a vhost or queue name for a management
// API path.
func urlPath(s string) string { return strings.ReplaceAll(s, "/", "%2F") }
