package boot_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/boot"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

func TestHTTPSSourceRefusals(t *testing.T) {
	doc := parse(t, "defs.yaml", []byte(kubeDefs))
	for _, src := range []boot.HTTPSSource{
		{URL: "", CACertFile: "/ca.pem"},
		{URL: "http://defs.example.com/defs.json", CACertFile: "/ca.pem"},
		{URL: "https://user:secret@defs.example.com/defs.json", CACertFile: "/ca.pem"},
		{URL: "https://defs.example.com/defs.json"},
		{URL: "https://defs.example.com/defs.json", CACertFile: "/ca.pem", CertFile: "/cert.pem"},
		{URL: "https://defs.example.com/defs.json\nload_definitions = /etc/passwd", CACertFile: "/ca.pem"},
	} {
		if _, err := boot.Files(doc, boot.Options{HTTPS: &src}); err == nil {
			t.Errorf("%+v accepted", src)
		}
	}
}

// TestBootFromHTTPS boots a real node configured by warren boot's https
// import backend: it fetches the definitions from a local HTTPS server,
// verifying it with the CA the configuration names and presenting the
// client certificate it names (the server requires one).
func TestBootFromHTTPS(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	dir := t.TempDir()
	files, err := rabbitmqtest.WriteTestCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(files.Cert, files.Key)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(files.CACert)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)

	doc := parse(t, "defs.yaml", []byte(kubeDefs))
	// The node sees its files in its own directory (a 4.0 node runs in a
	// chroot): the paths are written as it sees them.
	var served atomic.Int32
	var defs []byte
	mux := http.NewServeMux()
	mux.HandleFunc("/warren/definitions.json", func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(defs)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}}
	go srv.ServeTLS(l, "", "")
	defer srv.Close()
	url := fmt.Sprintf("https://localhost:%d/warren/definitions.json", l.Addr().(*net.TCPAddr).Port)

	res, err := boot.Files(doc, boot.Options{HTTPS: &boot.HTTPSSource{URL: url,
		CACertFile: "{{dir}}/tls/ca.pem", CertFile: "{{dir}}/tls/cert.pem", KeyFile: "{{dir}}/tls/key.pem"}})
	if err != nil {
		t.Fatal(err)
	}
	defs = res.Definitions
	for _, want := range []string{"definitions.import_backend = https", "definitions.https.url = " + url,
		"definitions.tls.verify = verify_peer", "definitions.tls.cacertfile = {{dir}}/tls/ca.pem",
		"definitions.tls.certfile = {{dir}}/tls/cert.pem", "definitions.tls.keyfile = {{dir}}/tls/key.pem"} {
		if !strings.Contains(res.Config, want+"\n") {
			t.Errorf("the fragment lacks %q:\n%s", want, res.Config)
		}
	}
	var config []string
	for _, l := range strings.Split(res.Config, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			config = append(config, l)
		}
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Config: config, NoAdmin: true,
		Files: map[string]string{"tls/ca.pem": files.CACert, "tls/cert.pem": files.Cert, "tls/key.pem": files.Key}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	ctx := context.Background()
	// Queues come last in an import: wait for them.
	var perms, queues []map[string]any
	for range 300 {
		perms, queues = nil, nil
		n.Call(ctx, "ops", "opspass-1", "GET", "/api/permissions", nil, &perms)
		n.Call(ctx, "ops", "opspass-1", "GET", "/api/queues", nil, &queues)
		if len(perms) == 2 && len(queues) == 1 {
			break
		}
		sleepShort()
	}
	if len(perms) != 2 || served.Load() == 0 {
		t.Fatalf("on RabbitMQ %s, the node that fetched its definitions (%d requests) has permissions %v; its log: %s",
			n.Version, served.Load(), perms, filepath.Join(n.Dir, "log"))
	}
	if len(queues) != 1 || queues[0]["type"] != "quorum" {
		t.Errorf("on RabbitMQ %s, queues %v", n.Version, queues)
	}
	if err := n.Call(ctx, "guest", "guest", "GET", "/api/whoami", nil, nil); err == nil {
		t.Errorf("on RabbitMQ %s, a node booted from an https source has a guest user", n.Version)
	}
}
