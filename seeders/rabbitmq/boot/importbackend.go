package boot

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The import backends a node can load its definitions from at boot
// (rabbit.schema: definitions.import_backend).
const (
	// BackendLocal reads a file (or a directory of files) on the node.
	BackendLocal = "local_filesystem"
	// BackendHTTPS fetches the definitions from a URL at every boot
	// (rabbit_definitions_import_https: an HTTP GET with the node's
	// definitions.tls.* client settings).
	BackendHTTPS = "https"
)

// HTTPSSource is where a node configured with the https import backend
// fetches its definitions, and the TLS settings it uses. Paths are as the
// node sees them: the node reads them at boot (RabbitMQ's schema checks
// that they are readable, and refuses to start otherwise).
type HTTPSSource struct {
	URL string
	// CACertFile verifies the server (definitions.tls.cacertfile);
	// required: Erlang's TLS client does not read the system's CAs by
	// itself, so a public server needs the node's CA bundle named here.
	CACertFile string
	// CertFile and KeyFile authenticate the node to the server (mutual
	// TLS); both or neither.
	CertFile, KeyFile string
}

// bootConfig is the rabbitmq.conf fragment that makes a node import its
// definitions at boot, from the local file path or from src, re-importing
// only when the content changes. Every key is one of rabbit.schema's
// (3.10 and 4.0 alike).
func bootConfig(path string, src *HTTPSSource) (string, error) {
	var b strings.Builder
	b.WriteString("# Written by warren boot: import these definitions at boot. A node configured so creates no\n" +
		"# guest user and no / vhost; it re-imports only when the definitions' content changes.\n")
	if src == nil {
		b.WriteString("definitions.import_backend = " + BackendLocal + "\n")
		b.WriteString("definitions.local.path = " + path + "\n")
		b.WriteString("definitions.skip_if_unchanged = true\n")
		return b.String(), nil
	}
	if err := src.check(); err != nil {
		return "", err
	}
	b.WriteString("definitions.import_backend = " + BackendHTTPS + "\n")
	b.WriteString("definitions.https.url = " + src.URL + "\n")
	b.WriteString("definitions.tls.verify = verify_peer\n")
	b.WriteString("definitions.tls.cacertfile = " + src.CACertFile + "\n")
	if src.CertFile != "" {
		b.WriteString("definitions.tls.certfile = " + src.CertFile + "\n")
		b.WriteString("definitions.tls.keyfile = " + src.KeyFile + "\n")
	}
	b.WriteString("definitions.skip_if_unchanged = true\n")
	return b.String(), nil
}

func (s *HTTPSSource) check() error {
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		return errors.New("the https import backend needs the URL the node fetches its definitions from")
	case err != nil:
		return fmt.Errorf("the definitions URL: %w", err)
	case u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("the definitions URL %q is not https://host/…: the definitions hold password hashes, and a node should verify where they come from", s.URL)
	case u.User != nil:
		return errors.New("the definitions URL carries credentials: they would be written into the node's configuration in clear (use a client certificate)")
	case s.CACertFile == "":
		return errors.New("the https import backend needs the CA file the node verifies the server with (as the node sees it; on Debian-based images the system bundle is /etc/ssl/certs/ca-certificates.crt)")
	case (s.CertFile == "") != (s.KeyFile == ""):
		return errors.New("a client certificate needs its key, and a key its certificate")
	}
	for _, p := range []string{s.URL, s.CACertFile, s.CertFile, s.KeyFile} {
		if strings.ContainsAny(p, "\n\r") {
			return fmt.Errorf("%q: a value of rabbitmq.conf cannot span lines", p)
		}
	}
	return nil
}
