// Package rabbitmqtest starts disposable RabbitMQ nodes for tests and for
// people (scripts/devnode): each with its own name, free ports, data
// directory and epmd, the management plugin on, ready once its management
// API answers, stopped and removed afterwards.
//
// A node is reached through an administrator of its own (Node.Admin), not
// guest: tests import files that change or remove guest.
package rabbitmqtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options tune a node.
type Options struct {
	// Name is the node's short name; "" picks one.
	Name string
	// Dir holds the node's data; "" makes a temporary directory that Stop
	// removes.
	Dir string
	// Config adds lines to rabbitmq.conf (TLS listeners, boot-time
	// definitions, …). {{dir}} is replaced by the node's directory.
	Config []string
	// Plugins to enable besides rabbitmq_management.
	Plugins []string
	// NoAdmin skips creating the node's own administrator; for nodes that
	// boot with definitions and so have no guest to create it with.
	NoAdmin bool
	// TLS, when set, adds a TLS management listener (Node.TLSURL) with
	// these PEM files.
	TLS *TLSFiles
	// StartTimeout bounds the wait for the management API; 0 means 90s.
	StartTimeout time.Duration
	// Log receives the node's console output; nil discards it (it is also
	// in Dir/log).
	Log io.Writer
}

// TLSFiles are the PEM files of a TLS listener.
type TLSFiles struct {
	CACert, Cert, Key string
}

// Node is a running RabbitMQ node.
type Node struct {
	Name     string // name@localhost
	Dir      string
	AMQPPort int
	MgmtPort int
	DistPort int
	EpmdPort int
	// URL is the management API's base URL, http://127.0.0.1:port.
	URL string
	// TLSURL is the TLS management listener's, https://localhost:port,
	// when Options.TLS was set.
	TLSURL string
	// Admin and AdminPassword log in as the node's own administrator.
	Admin, AdminPassword string

	tempDir bool
	env     []string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	stopped sync.Once
}

// Available reports whether RabbitMQ is installed, and if not, why.
func Available() error {
	if _, err := serverBinary(); err != nil {
		return err
	}
	return nil
}

func serverBinary() (string, error) {
	// The scripts under /usr/lib/rabbitmq/bin run as the calling user; the
	// wrappers in /usr/sbin switch to the rabbitmq user, which cannot write
	// a test's directory.
	for _, p := range []string{"/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/local/lib/rabbitmq/bin/rabbitmq-server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("rabbitmq-server"); err == nil {
		return p, nil
	}
	return "", errors.New("rabbitmq-server is not installed (make deps installs it)")
}

// freePorts asks the kernel for n distinct free TCP ports on loopback.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Start starts a node and waits until its management API answers.
func Start(ctx context.Context, opts Options) (*Node, error) {
	server, err := serverBinary()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	n := &Node{AMQPPort: ports[0], MgmtPort: ports[1], DistPort: ports[2], EpmdPort: ports[3], exited: make(chan struct{})}
	short := opts.Name
	if short == "" {
		short = "warren-" + randomHex(4)
	}
	n.Name = short + "@localhost"
	n.URL = fmt.Sprintf("http://127.0.0.1:%d", n.MgmtPort)
	n.Dir = opts.Dir
	if n.Dir == "" {
		if n.Dir, err = os.MkdirTemp("", "warren-rabbitmq-"); err != nil {
			return nil, err
		}
		n.tempDir = true
	}
	for _, d := range []string{"mnesia", "log"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	conf := []string{
		fmt.Sprintf("listeners.tcp.default = 127.0.0.1:%d", n.AMQPPort),
		"management.tcp.ip = 127.0.0.1",
		fmt.Sprintf("management.tcp.port = %d", n.MgmtPort),
	}
	if t := opts.TLS; t != nil {
		n.TLSURL = fmt.Sprintf("https://localhost:%d", ports[4])
		conf = append(conf,
			fmt.Sprintf("management.ssl.port = %d", ports[4]),
			"management.ssl.ip = 127.0.0.1",
			"management.ssl.cacertfile = "+t.CACert,
			"management.ssl.certfile = "+t.Cert,
			"management.ssl.keyfile = "+t.Key,
		)
	}
	for _, c := range opts.Config {
		conf = append(conf, strings.ReplaceAll(c, "{{dir}}", n.Dir))
	}
	if err := os.WriteFile(filepath.Join(n.Dir, "rabbitmq.conf"), []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	plugins := append([]string{"rabbitmq_management"}, opts.Plugins...)
	if err := os.WriteFile(filepath.Join(n.Dir, "enabled_plugins"), []byte("["+strings.Join(plugins, ",")+"].\n"), 0o644); err != nil {
		return nil, err
	}
	n.env = append(os.Environ(),
		"HOME="+n.Dir, // the Erlang cookie lives here
		"RABBITMQ_NODENAME="+n.Name,
		"RABBITMQ_MNESIA_BASE="+filepath.Join(n.Dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(n.Dir, "log"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(n.Dir, "rabbitmq"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(n.Dir, "enabled_plugins"),
		"RABBITMQ_PID_FILE="+filepath.Join(n.Dir, "pid"),
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", n.DistPort),
		fmt.Sprintf("ERL_EPMD_PORT=%d", n.EpmdPort),
	)
	n.cmd = exec.Command(server)
	n.cmd.Dir = n.Dir
	// Its own process group: the script starts the Erlang VM as a child,
	// and a stop that has to kill must kill both.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	n.cmd.Env = n.env
	out := opts.Log
	if out == nil {
		out = io.Discard
	}
	var console bytes.Buffer
	n.cmd.Stdout = io.MultiWriter(out, &console)
	n.cmd.Stderr = n.cmd.Stdout
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		n.waitErr = n.cmd.Wait()
		close(n.exited)
	}()
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	if err := n.waitReady(ctx, timeout, !opts.NoAdmin); err != nil {
		n.Stop()
		return nil, fmt.Errorf("rabbitmq node %s did not start: %w\n%s", n.Name, err, lastLines(console.String(), 20))
	}
	if !opts.NoAdmin {
		if err := n.createAdmin(ctx); err != nil {
			n.Stop()
			return nil, err
		}
	}
	return n, nil
}

func lastLines(s string, k int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls the management API until it answers (with guest when the
// node seeded it, else with any reply at all).
func (n *Node) waitReady(ctx context.Context, timeout time.Duration, asGuest bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return fmt.Errorf("the node exited: %v", n.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", n.URL+"/api/overview", nil)
		if asGuest {
			req.SetBasicAuth("guest", "guest")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 200 || (!asGuest && resp.StatusCode == 401) {
			return nil
		}
	}
	return fmt.Errorf("no answer from %s within %s", n.URL, timeout)
}

func (n *Node) createAdmin(ctx context.Context) error {
	n.Admin, n.AdminPassword = "warren-harness", randomHex(12)
	if err := n.call(ctx, "guest", "guest", "PUT", "/api/users/"+n.Admin, map[string]any{"password": n.AdminPassword, "tags": "administrator"}, nil); err != nil {
		return err
	}
	return n.Do(ctx, "PUT", "/api/permissions/%2F/"+n.Admin, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil)
}

// Do calls the management API as the node's administrator. body is sent
// as JSON when not nil; out receives the JSON reply when not nil. path must
// be escaped already.
func (n *Node) Do(ctx context.Context, method, path string, body, out any) error {
	return n.call(ctx, n.Admin, n.AdminPassword, method, path, body, out)
}

// Call calls the management API as any user.
func (n *Node) Call(ctx context.Context, user, password, method, path string, body, out any) error {
	return n.call(ctx, user, password, method, path, body, out)
}

func (n *Node) call(ctx context.Context, user, password, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.URL+path, r)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Ctl runs rabbitmqctl against the node and returns its output.
func (n *Node) Ctl(ctx context.Context, args ...string) (string, error) {
	server, err := serverBinary()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(server), "rabbitmqctl"), append([]string{"-n", n.Name}, args...)...)
	cmd.Env = n.env
	cmd.Dir = n.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Reset brings the node back to what a blank node has: the vhost /, the
// user guest (password guest, administrator, full permissions on /), and
// nothing else but the node's own administrator. It works through the API
// and takes well under a second, unlike rabbitmqctl reset.
func (n *Node) Reset(ctx context.Context) error {
	var vhosts []struct{ Name string }
	if err := n.Do(ctx, "GET", "/api/vhosts", nil, &vhosts); err != nil {
		return err
	}
	for _, v := range vhosts {
		if err := n.Do(ctx, "DELETE", "/api/vhosts/"+url.PathEscape(v.Name), nil, nil); err != nil {
			return err
		}
	}
	var users []struct{ Name string }
	if err := n.Do(ctx, "GET", "/api/users", nil, &users); err != nil {
		return err
	}
	var others []string
	for _, u := range users {
		if u.Name != n.Admin {
			others = append(others, u.Name)
		}
	}
	if len(others) > 0 {
		if err := n.Do(ctx, "POST", "/api/users/bulk-delete", map[string]any{"users": others}, nil); err != nil {
			return err
		}
	}
	var globals []struct{ Name string }
	if err := n.Do(ctx, "GET", "/api/global-parameters", nil, &globals); err != nil {
		return err
	}
	for _, g := range globals {
		if g.Name != "internal_cluster_id" {
			if err := n.Do(ctx, "DELETE", "/api/global-parameters/"+url.PathEscape(g.Name), nil, nil); err != nil {
				return err
			}
		}
	}
	steps := []struct {
		method, path string
		body         any
	}{
		{"PUT", "/api/vhosts/%2F", map[string]any{"description": "Default virtual host"}},
		{"PUT", "/api/users/guest", map[string]any{"password": "guest", "tags": "administrator"}},
		{"PUT", "/api/permissions/%2F/guest", map[string]any{"configure": ".*", "write": ".*", "read": ".*"}},
		{"PUT", "/api/permissions/%2F/" + n.Admin, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}},
	}
	for _, s := range steps {
		if err := n.Do(ctx, s.method, s.path, s.body, nil); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops the node (rabbitmqctl stop, then a kill if it lingers), stops
// its epmd, and removes a temporary directory.
func (n *Node) Stop() error {
	var err error
	n.stopped.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		select {
		case <-n.exited:
		default:
			n.Ctl(ctx, "stop")
			select {
			case <-n.exited:
			case <-time.After(20 * time.Second):
				syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
				<-n.exited
			}
		}
		if epmd, lerr := findEpmd(); lerr == nil {
			cmd := exec.Command(epmd, "-port", fmt.Sprint(n.EpmdPort), "-kill")
			cmd.Env = n.env
			cmd.Run()
		}
		if n.tempDir {
			err = os.RemoveAll(n.Dir)
		}
	})
	return err
}

func findEpmd() (string, error) {
	if p, err := exec.LookPath("epmd"); err == nil {
		return p, nil
	}
	m, _ := filepath.Glob("/usr/lib/erlang/erts-*/bin/epmd")
	if len(m) > 0 {
		return m[0], nil
	}
	return "", errors.New("epmd not found")
}

// PostDefinitions imports a definitions document with RabbitMQ's own
// import (POST /api/definitions), as the node's administrator.
func (n *Node) PostDefinitions(ctx context.Context, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", n.URL+"/api/definitions", bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.SetBasicAuth(n.Admin, n.AdminPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("POST /api/definitions: %d %s", resp.StatusCode, body)
	}
	return nil
}
