package main

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/inventory"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"golang.org/x/term"
)

const defaultURL = "http://localhost:15672"

// connectionFlags are shared by the commands that talk to a broker.
func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "url", Value: cli.NewStringSlice(defaultURL), EnvVars: []string{"WARREN_URL"},
			Usage: "management API URL; repeat for the nodes of a cluster (tried in turn when one is down)"},
		&cli.StringFlag{Name: "username", EnvVars: []string{"WARREN_USERNAME"},
			Usage: "user to log in as (an administrator); guest only for a loopback URL"},
		&cli.StringFlag{Name: "password-file", EnvVars: []string{"WARREN_PASSWORD_FILE"},
			Usage: "read the password from this file (or set WARREN_PASSWORD; without either warren prompts on a terminal)"},
		&cli.StringFlag{Name: "password", Hidden: true,
			Usage: "the password on the command line, where every user of the machine can read it; prefer WARREN_PASSWORD or --password-file"},
		&cli.StringFlag{Name: "ca-cert", EnvVars: []string{"WARREN_CA_CERT"}, Usage: "PEM file of the CAs that sign the broker's certificate"},
		&cli.StringFlag{Name: "client-cert", EnvVars: []string{"WARREN_CLIENT_CERT"}, Usage: "PEM client certificate for TLS client authentication"},
		&cli.StringFlag{Name: "client-key", EnvVars: []string{"WARREN_CLIENT_KEY"}, Usage: "PEM key of --client-cert"},
		&cli.BoolFlag{Name: "insecure", Usage: "do not verify the broker's TLS certificate"},
		&cli.DurationFlag{Name: "timeout", Value: 60 * time.Second, EnvVars: []string{"WARREN_TIMEOUT"}, Usage: "time limit for each request"},
		&cli.StringFlag{Name: "amqp-url", EnvVars: []string{"WARREN_AMQP_URL"},
			Usage: "the broker's AMQP 0-9-1 listener (amqp://host:port or amqps://host:port), where warren reads queues' message counts before deleting them; default: the listener the management API lists"},
		&cli.DurationFlag{Name: "import-timeout", Value: rabbitmq.DefaultImportTimeout, EnvVars: []string{"WARREN_IMPORT_TIMEOUT"}, Usage: "time limit for an import (POST /api/definitions), the broker's own work on every object at once"},
	}
}

// connect makes a management API client from the connection flags; the
// URLs given (a saved plan's) stand for --url.
func connect(c *cli.Context, given ...string) (*rabbitmq.Client, error) {
	if len(given) == 0 {
		given = c.StringSlice("url")
	}
	l := login{user: c.String("username"), passwordFile: c.String("password-file"),
		passwordEnv: "WARREN_PASSWORD", password: c.String("password"), known: brokerPassword(c)}
	if br := brokerRunOf(c); br != nil && br.fleet {
		l.passwordEnv = "" // fleet.go: the entry's own password source, or none
	}
	return connectAs(c, l, given...)
}

// login is who connectAs logs in as, and where the password comes from:
// known (an inventory entry's, already read), else the file, else the
// environment variable, else the (hidden) flag's value, else a prompt on
// the terminal.
type login struct {
	user, passwordFile, passwordEnv, password, known string
	tls                                              *inventory.TLS // an inventory entry's, instead of the TLS flags
	fileFlag                                         string         // the flag that named passwordFile ("password-file")
}

// connectAs is connect for a broker of the command's choosing (warren
// migrate talks to two).
func connectAs(c *cli.Context, l login, given ...string) (*rabbitmq.Client, error) {
	if l.fileFlag == "" {
		l.fileFlag = "password-file"
	}
	var urls []string
	for _, u := range given {
		for _, part := range strings.Split(u, ",") { // WARREN_URL may list several
			if part = strings.TrimSpace(part); part != "" {
				urls = append(urls, part)
			}
		}
	}
	user, password := l.user, ""
	switch {
	case l.known != "": // an inventory entry's {env: NAME} (fleet.go)
		password = l.known
	case l.passwordFile != "" && l.password != "":
		return nil, fmt.Errorf("both a password file (--%s or its variable) and --password give the password: give one", l.fileFlag)
	case l.passwordFile != "":
		p, err := definitions.ReadSecretFile(l.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("reading --%s %s: %w", l.fileFlag, l.passwordFile, err)
		}
		if p == "" {
			return nil, fmt.Errorf("--%s %s is empty", l.fileFlag, l.passwordFile)
		}
		password = p
	// The command line wins over the environment (WARREN_PASSWORD), as for
	// every other flag.
	case l.password != "":
		fmt.Fprintln(c.App.ErrWriter, "warren: warning: --password is visible to every user of this machine; use WARREN_PASSWORD or --password-file")
		password = l.password
	case os.Getenv(l.passwordEnv) != "":
		password = os.Getenv(l.passwordEnv)
	}
	if user == "" || password == "" {
		if (user == "" || user == "guest") && password == "" && allLoopback(urls) {
			user, password = "guest", "guest" // RabbitMQ's default, which only works on loopback
		}
	}
	if user == "" {
		return nil, errors.New("no user: set --username or WARREN_USERNAME (guest is used only for a loopback URL)")
	}
	if password == "" && l.passwordEnv == "" {
		return nil, fmt.Errorf("no password for user %q: give the inventory entry password: {env: NAME} or {file: PATH}", user)
	}
	if password == "" {
		p, err := prompt(c, user)
		if err != nil {
			return nil, err
		}
		password = p
	}
	warnClearText(c, urls, "the password (Basic auth) and, on an import, users' passwords")
	if raw := c.String("amqp-url"); raw != "" {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "amqp" && !allLoopback([]string{raw}) {
			fmt.Fprintf(c.App.ErrWriter, "warren: warning: --amqp-url %s is plain amqp: the password crosses the network in clear text when warren counts messages; use amqps://\n", u.Redacted())
		}
	}
	cfg := rabbitmq.Config{
		URLs: urls, Username: user, Password: password,
		CACert: c.String("ca-cert"), ClientCert: c.String("client-cert"), ClientKey: c.String("client-key"),
		Insecure: c.Bool("insecure"), Timeout: c.Duration("timeout"), ImportTimeout: c.Duration("import-timeout"),
		AMQPURL: c.String("amqp-url"),
	}
	if t := l.tls; t != nil {
		cfg.CACert, cfg.ClientCert, cfg.ClientKey = cmp.Or(t.CA, cfg.CACert), cmp.Or(t.ClientCert, cfg.ClientCert), cmp.Or(t.ClientKey, cfg.ClientKey)
		cfg.Insecure = cfg.Insecure || t.Insecure
	}
	if cfg.Insecure {
		fmt.Fprintln(c.App.ErrWriter, "warren: warning: --insecure: the broker's TLS certificate is not verified; anyone on the path can pose as the broker and read the password")
	}
	client, err := rabbitmq.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := joinCluster(c, client); err != nil { // cluster.go
		return nil, err
	}
	return client, nil
}

// prompt asks for the password on the terminal, without echo.
func prompt(c *cli.Context, user string) (string, error) {
	f, ok := c.App.Reader.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fmt.Errorf("no password for user %q: set WARREN_PASSWORD or --password-file", user)
	}
	fmt.Fprintf(c.App.ErrWriter, "Password for %s: ", user)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.App.ErrWriter)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// warnClearText warns, on standard error, about each http:// URL to a host
// that is not the loopback: what is sent there travels in clear text.
// warren warns rather than refuses: a broker inside a private network or a
// sidecar often has no TLS, and a refusal would only teach users a flag.
func warnClearText(c *cli.Context, urls []string, what string) {
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || allLoopback([]string{raw}) {
			continue
		}
		fmt.Fprintf(c.App.ErrWriter, "warren: warning: %s is plain http: %s cross the network in clear text; use https://\n", u.Redacted(), what)
	}
}

func allLoopback(urls []string) bool {
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
