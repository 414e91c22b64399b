package operation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// DefaultURL is where a RabbitMQ broker's management API is, when nothing
// says otherwise.
const DefaultURL = "http://localhost:15672"

// Login is who a connection logs in as, and where the password comes
// from: Known (an inventory entry's, already read), else the file, else
// the visible flag's value, else the environment variable, else a prompt
// through the UI. Without PasswordEnv (a fleet's broker) there is neither
// a variable nor a prompt: the entry gives the password or nothing does.
type Login struct {
	User         string
	Known        string
	PasswordFile string
	// FileFlag names where PasswordFile came from, for messages
	// ("password-file" when empty).
	FileFlag    string
	Password    string // the --password flag's value
	PasswordEnv string // "WARREN_PASSWORD" for one broker
}

// TLS says how to check the broker and prove who warren is.
type TLS struct {
	CACert, ClientCert, ClientKey string
	Insecure                      bool
}

// Connection is how to reach a RabbitMQ broker's management API (and its
// AMQP listener, where warren counts messages).
type Connection struct {
	// URLs are the nodes' management URLs; an element may list several,
	// separated by commas (WARREN_URL).
	URLs          []string
	Login         Login
	TLS           TLS
	Timeout       time.Duration
	ImportTimeout time.Duration
	AMQPURL       string
	// Wait, when positive, waits that long for the broker (or the
	// cluster's nodes, WaitFor "all" or "quorum") to be ready.
	Wait    time.Duration
	WaitFor string
}

// Connect makes a management API client and, before any other request,
// waits for the broker when asked and checks that several URLs are nodes
// of one cluster (using only those that are).
func Connect(ctx context.Context, ui UI, conn Connection) (*rabbitmq.Client, error) {
	l := conn.Login
	if l.FileFlag == "" {
		l.FileFlag = "password-file"
	}
	var urls []string
	for _, u := range conn.URLs {
		for _, part := range strings.Split(u, ",") {
			if part = strings.TrimSpace(part); part != "" {
				urls = append(urls, part)
			}
		}
	}
	user, password := l.User, ""
	switch {
	case l.Known != "":
		password = l.Known
	case l.PasswordFile != "" && l.Password != "":
		return nil, fmt.Errorf("both a password file (--%s or its variable) and --password give the password: give one", l.FileFlag)
	case l.PasswordFile != "":
		p, err := definitions.ReadSecretFile(l.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("reading --%s %s: %w", l.FileFlag, l.PasswordFile, err)
		}
		if p == "" {
			return nil, fmt.Errorf("--%s %s is empty", l.FileFlag, l.PasswordFile)
		}
		password = p
	// The command line wins over the environment (WARREN_PASSWORD), as for
	// every other flag.
	case l.Password != "":
		logf(ui, "warren: warning: --password is visible to every user of this machine; use WARREN_PASSWORD or --password-file")
		password = l.Password
	case l.PasswordEnv != "" && os.Getenv(l.PasswordEnv) != "":
		password = os.Getenv(l.PasswordEnv)
	}
	if user == "" || password == "" {
		if (user == "" || user == "guest") && password == "" && AllLoopback(urls) {
			user, password = "guest", "guest" // RabbitMQ's default, which only works on loopback
		}
	}
	if user == "" {
		return nil, errors.New("no user: set --username or WARREN_USERNAME (guest is used only for a loopback URL)")
	}
	if password == "" && l.PasswordEnv == "" {
		return nil, fmt.Errorf("no password for user %q: give the inventory entry password: {env: NAME} or {file: PATH}", user)
	}
	if password == "" {
		p, err := ui.Password(user)
		if err != nil {
			return nil, err
		}
		password = p
	}
	WarnClearText(ui, urls, "the password (Basic auth) and, on an import, users' passwords")
	if raw := conn.AMQPURL; raw != "" {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "amqp" && !AllLoopback([]string{raw}) {
			logf(ui, "warren: warning: --amqp-url %s is plain amqp: the password crosses the network in clear text when warren counts messages; use amqps://", u.Redacted())
		}
	}
	cfg := rabbitmq.Config{
		URLs: urls, Username: user, Password: password,
		CACert: conn.TLS.CACert, ClientCert: conn.TLS.ClientCert, ClientKey: conn.TLS.ClientKey,
		Insecure: conn.TLS.Insecure, Timeout: conn.Timeout, ImportTimeout: conn.ImportTimeout,
		AMQPURL: conn.AMQPURL,
	}
	if cfg.Insecure {
		logf(ui, "warren: warning: --insecure: the broker's TLS certificate is not verified; anyone on the path can pose as the broker and read the password")
	}
	client, err := rabbitmq.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := joinCluster(ctx, ui, client, conn.Wait, conn.WaitFor); err != nil {
		return nil, err
	}
	return client, nil
}

// WarnClearText warns about each http:// URL to a host that is not the
// loopback: what is sent there travels in clear text. warren warns rather
// than refuses: a broker inside a private network or a sidecar often has
// no TLS, and a refusal would only teach users a flag.
func WarnClearText(ui UI, urls []string, what string) {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || AllLoopback([]string{raw}) {
			continue
		}
		logf(ui, "warren: warning: %s is plain http: %s cross the network in clear text; use https://", u.Redacted(), what)
	}
}

// AllLoopback says whether every URL is on the loopback (and there is
// one).
func AllLoopback(urls []string) bool {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		host := u.Hostname()
		if host == "localhost" {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return len(urls) > 0
}
