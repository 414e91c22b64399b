// Package rabbitmqtest starts disposable RabbitMQ nodes for tests and for
// people (scripts/devnode): each with its own name, free ports, data
// directory and epmd, the management plugin on, ready once its management
// API answers, stopped and removed afterwards.
//
// Three RabbitMQ versions can run here (AllSeries). WARREN_RABBITMQ picks
// one for the whole process: "3.10" (the default) is the host's
// rabbitmq-server package; "4.0" is Debian trixie's package and "4.3"
// Debian testing's, each in a chroot that scripts/ensure-rabbitmq-chroot.sh
// prepares (ChrootDir). A chroot's node runs through chroot(8), so it needs
// root; its data directory lives inside the chroot, and files it must read
// are copied there (Options.Files, Options.TLS).
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
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
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
	// removes, or the node's watchdog when this process dies before Stop
	// (the node stops then, whatever its Dir). A temporary directory left
	// behind all the same is removed, its node stopped, when a node is
	// next started (RemoveLeftovers); a Dir given here is never removed.
	Dir string
	// Config adds lines to rabbitmq.conf (TLS listeners, boot-time
	// definitions, …). {{dir}} is replaced by the node's directory as the
	// node sees it.
	Config []string
	// Files are copied into the node's directory before it starts, by the
	// name given (a path relative to the directory), from the path given:
	// files the node reads, such as boot-time definitions, must be where
	// a node in a chroot can see them.
	Files map[string]string
	// ConfD are the files of a conf.d directory the node reads after
	// rabbitmq.conf (RABBITMQ_CONFIG_FILES), by name, with {{dir}}
	// replaced as in Config: a configuration fragment read the way a
	// container image's conf.d is.
	ConfD map[string]string
	// Plugins to enable besides rabbitmq_management.
	Plugins []string
	// Series picks the RabbitMQ release series of this node ("3.10",
	// "4.0"); "" means Series(), that is WARREN_RABBITMQ. Tests that need
	// both versions at once (a migration from 3.x to 4.x, a fleet of mixed
	// versions) set it.
	Series string
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
	// Cookie, when set, is the node's Erlang cookie, written to
	// .erlang.cookie in its directory (its HOME); the nodes of a cluster
	// share one.
	Cookie string
	// EpmdPort, when set, is the epmd port the node registers with; the
	// nodes of a cluster share one (they find each other there), and Stop
	// leaves that epmd running (Cluster.Stop stops it). 0 gives the node an
	// epmd of its own.
	EpmdPort int
}

// TLSFiles are the PEM files of a TLS listener.
type TLSFiles struct {
	CACert, Cert, Key string
}

// Node is a running RabbitMQ node.
type Node struct {
	Name string // name@localhost
	// Version is the node's RabbitMQ version ("3.10.8", "4.0.5").
	Version string
	// Dir is the node's directory as this process sees it.
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

	tempDir    bool
	sharedEpmd bool // the epmd is the cluster's: Stop leaves it
	log        io.Writer
	console    *bytes.Buffer
	inst       install
	nodeDir    string   // Dir as the node sees it
	env        []string // the node's environment, as the node sees paths
	cmd        *exec.Cmd
	watch      *watchdog // stops the node if this process dies
	exited     chan struct{}
	waitErr    error
	stopped    sync.Once
}

// install is one RabbitMQ installation: the host's, or one in a chroot.
type install struct {
	series string // "3.10", "4.0"
	root   string // the chroot; "" for the host
	bin    string // the directory of rabbitmq-server, rabbitmqctl, as the node sees it
}

// AllSeries are the RabbitMQ release series the tests run, oldest first:
// 3.10 is the host's package, 4.0 and 4.3 run in chroots.
var AllSeries = []string{"3.10", "4.0", "4.3"}

// Releases are the RabbitMQ releases the tests were written against, by
// series. A chroot records the release it installed (Debian's testing
// moves); a test whose expectations come from a real node of one release
// names both when the node runs another (ExpectRelease).
var Releases = map[string]string{"3.10": "3.10.8", "4.0": "4.0.5", "4.3": "4.3.6"}

// ChrootDir is where scripts/ensure-rabbitmq-chroot.sh makes the chroot of
// a series: $WARREN_RABBITMQ_CACHE/rabbitmq-SERIES-SUITE, the cache
// defaulting to ${XDG_CACHE_HOME:-$HOME/.cache}/warren.
func ChrootDir(series string) string {
	cache := os.Getenv("WARREN_RABBITMQ_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "warren")
	}
	suite := map[string]string{"4.0": "trixie", "4.3": "testing"}[series]
	return filepath.Join(cache, "rabbitmq-"+series+"-"+suite)
}

// Release is the release a node of this process's series is expected to
// run (Releases), and Mismatch says so in words when the node runs
// another: a test whose expectation came from a real node of one release
// adds it to its failure, so a later Debian release that behaves
// differently names both versions.
func Release() string { return Releases[Series()] }

// Mismatch is "" when the node runs the release its series' expectations
// were taken from, and otherwise a sentence naming both.
func (n *Node) Mismatch() string {
	want := Releases[n.inst.series]
	if want == "" || n.Version == want || strings.HasPrefix(n.Version, want+"+") {
		return ""
	}
	return fmt.Sprintf(" (expected from RabbitMQ %s; this node runs %s)", want, n.Version)
}

// Series is the RabbitMQ release series this process's nodes run:
// WARREN_RABBITMQ, "3.10" when unset.
func Series() string {
	if v := os.Getenv("WARREN_RABBITMQ"); v != "" {
		return v
	}
	return "3.10"
}

// Available reports whether RabbitMQ of the chosen series can be run here,
// and if not, why. In a test binary run with -short it is ErrShort.
func Available() error {
	return AvailableSeries(Series())
}

// AvailableSeries reports whether RabbitMQ of the given series can be run
// here, and if not, why. In a test binary run with -short it is ErrShort.
func AvailableSeries(series string) error {
	if short() {
		return ErrShort
	}
	_, err := findInstall(series)
	return err
}

// ErrShort is why no node is started in a test binary run with -short
// (make check): Available, AvailableSeries, Start and StartCluster return
// it, and Unavailable skips the test with it, in CI too.
var ErrShort = errors.New("-short: no RabbitMQ node is started; make test runs this")

// short reports whether this is a test binary run with -short. It reads
// the flag rather than calling testing.Short, which panics outside a test
// binary (scripts/devnode and the bench programs start nodes too).
func short() bool {
	f := flag.Lookup("test.short")
	return f != nil && f.Value.String() == "true"
}

func findInstall(series string) (install, error) {
	switch series {
	case "3.10":
		// The scripts under /usr/lib/rabbitmq/bin run as the calling user;
		// the wrappers in /usr/sbin switch to the rabbitmq user, which
		// cannot write a test's directory.
		for _, dir := range []string{"/usr/lib/rabbitmq/bin", "/usr/local/lib/rabbitmq/bin"} {
			if _, err := os.Stat(filepath.Join(dir, "rabbitmq-server")); err == nil {
				return install{series: series, bin: dir}, nil
			}
		}
		if p, err := exec.LookPath("rabbitmq-server"); err == nil {
			return install{series: series, bin: filepath.Dir(p)}, nil
		}
		return install{}, errors.New("rabbitmq-server is not installed (make deps installs it)")
	case "4.0", "4.3":
		root := ChrootDir(series)
		in := install{series: series, root: root, bin: "/usr/lib/rabbitmq/bin"}
		if _, err := os.Stat(filepath.Join(root, in.bin, "rabbitmq-server")); err != nil {
			return install{}, fmt.Errorf("RabbitMQ %s is not prepared in %s (make deps prepares it: scripts/ensure-rabbitmq-chroot.sh %s)", series, root, series)
		}
		if _, err := os.Stat(filepath.Join(root, "proc", "self")); err != nil {
			return install{}, fmt.Errorf("/proc is not mounted in %s (scripts/ensure-rabbitmq-chroot.sh %s mounts it)", root, series)
		}
		if os.Geteuid() != 0 {
			return install{}, fmt.Errorf("a RabbitMQ %s node runs in a chroot, which needs root", series)
		}
		return in, nil
	default:
		return install{}, fmt.Errorf("WARREN_RABBITMQ=%q: the versions here are %s", series, strings.Join(AllSeries, ", "))
	}
}

// command runs a program of the installation (rabbitmq-server,
// rabbitmqctl, …) with env, in a chroot when the installation has one, and
// with the open-file limit raised to the hard limit (streams and many
// queues need it).
func (in install) command(ctx context.Context, env []string, prog string, args ...string) *exec.Cmd {
	script := `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`
	argv := append([]string{"-c", script, "sh", "env", "-i"}, env...)
	argv = append(argv, prog)
	argv = append(argv, args...)
	if in.root == "" {
		return exec.CommandContext(ctx, "/bin/sh", argv...)
	}
	return exec.CommandContext(ctx, "chroot", append([]string{in.root, "/bin/sh"}, argv...)...)
}

// handedOut are the ports freePorts gave this process: a random pick
// may come again, and two nodes started at once (a cluster,
// a fleet, a migration's pair) must not both take it.
var (
	handedOutMu sync.Mutex
	handedOut   = map[int]bool{}
)

// freePorts finds n distinct free TCP ports on loopback that this process
// has not handed out before. It picks them below the kernel's ephemeral
// range: a port the kernel offers for bind(0) is one it also gives to
// outgoing connections, and the HTTP clients and Erlang distribution links
// of the test binaries running beside this one took a node's port that
// way before it could bind it.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	lo, hi := portRange()
	var out []int
	for tries := 0; len(out) < n; tries++ {
		if tries == 10000 {
			return nil, fmt.Errorf("no free port between %d and %d", lo, hi)
		}
		port := lo + mrand.IntN(hi-lo)
		if handedOut[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		ls = append(ls, l) // held until the end, so n distinct ports come back
		handedOut[port] = true
		out = append(out, port)
	}
	return out, nil
}

// portRange is where freePorts looks: from 10000 up to the start of the
// kernel's ephemeral range (32768 where it cannot be read).
func portRange() (lo, hi int) {
	lo, hi = 10000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	var elo, ehi int
	if _, err := fmt.Sscan(string(b), &elo, &ehi); err == nil && elo > lo+1000 {
		hi = elo
	}
	return lo, hi
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Start starts a node and waits until its management API answers. A node
// that lost one of its ports to another process between freePorts and its
// boot is started again on other ports, twice at most. Other test binaries
// run beside this one and ask the kernel for ports too, so a port this
// process found free can be taken before the node binds it.
func Start(ctx context.Context, opts Options) (*Node, error) {
	if short() {
		return nil, ErrShort
	}
	for attempt := 1; ; attempt++ {
		n, err := start(ctx, opts)
		if err == nil || attempt == 3 || !portTaken(err) {
			return n, err
		}
	}
}

// portTaken tells whether a node failed to start because one of its ports
// was in use: a listener's eaddrinuse, or the distribution port, which
// the prelaunch phase reports in words of its own.
func portTaken(err error) bool {
	msg := err.Error()
	for _, s := range []string{"eaddrinuse", "dist_port_already_used", "could not bind to distribution port"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func start(ctx context.Context, opts Options) (*Node, error) {
	series := opts.Series
	if series == "" {
		series = Series()
	}
	inst, err := findInstall(series)
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(5)
	if err != nil {
		return nil, err
	}
	n := &Node{AMQPPort: ports[0], MgmtPort: ports[1], DistPort: ports[2], EpmdPort: ports[3], inst: inst}
	if opts.EpmdPort != 0 {
		n.EpmdPort, n.sharedEpmd = opts.EpmdPort, true
	}
	short := opts.Name
	if short == "" {
		short = "warren-" + randomHex(4)
	}
	n.Name = short + "@localhost"
	n.URL = fmt.Sprintf("http://127.0.0.1:%d", n.MgmtPort)
	if n.Dir, n.nodeDir, n.tempDir, err = nodeDir(inst, opts.Dir); err != nil {
		return nil, err
	}
	for _, d := range []string{"mnesia", "log"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if opts.Cookie != "" {
		// Erlang refuses a cookie file that others can read.
		cookie := filepath.Join(n.Dir, ".erlang.cookie")
		os.Remove(cookie)
		if err := os.WriteFile(cookie, []byte(opts.Cookie), 0o400); err != nil {
			return nil, err
		}
	}
	for name, from := range opts.Files {
		if err := copyFile(from, filepath.Join(n.Dir, name)); err != nil {
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
		for name, from := range map[string]string{"ca.pem": t.CACert, "cert.pem": t.Cert, "key.pem": t.Key} {
			if err := copyFile(from, filepath.Join(n.Dir, "tls", name)); err != nil {
				return nil, err
			}
		}
		conf = append(conf,
			fmt.Sprintf("management.ssl.port = %d", ports[4]),
			"management.ssl.ip = 127.0.0.1",
			"management.ssl.cacertfile = "+n.nodeDir+"/tls/ca.pem",
			"management.ssl.certfile = "+n.nodeDir+"/tls/cert.pem",
			"management.ssl.keyfile = "+n.nodeDir+"/tls/key.pem",
		)
	}
	for _, c := range opts.Config {
		conf = append(conf, strings.ReplaceAll(c, "{{dir}}", n.nodeDir))
	}
	if err := os.WriteFile(filepath.Join(n.Dir, "rabbitmq.conf"), []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	if len(opts.ConfD) > 0 {
		if err := os.MkdirAll(filepath.Join(n.Dir, "conf.d"), 0o755); err != nil {
			return nil, err
		}
		for name, text := range opts.ConfD {
			if err := os.WriteFile(filepath.Join(n.Dir, "conf.d", name), []byte(strings.ReplaceAll(text, "{{dir}}", n.nodeDir)), 0o600); err != nil {
				return nil, err
			}
		}
	}
	plugins := append([]string{"rabbitmq_management"}, opts.Plugins...)
	if err := os.WriteFile(filepath.Join(n.Dir, "enabled_plugins"), []byte("["+strings.Join(plugins, ",")+"].\n"), 0o644); err != nil {
		return nil, err
	}
	nd := n.nodeDir
	n.env = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"HOME=" + nd, // the Erlang cookie lives here
		"RABBITMQ_NODENAME=" + n.Name,
		"RABBITMQ_MNESIA_BASE=" + nd + "/mnesia",
		"RABBITMQ_LOG_BASE=" + nd + "/log",
		"RABBITMQ_CONFIG_FILE=" + nd + "/rabbitmq",
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + nd + "/enabled_plugins",
		"RABBITMQ_PID_FILE=" + nd + "/pid",
		fmt.Sprintf("RABBITMQ_DIST_PORT=%d", n.DistPort),
		fmt.Sprintf("ERL_EPMD_PORT=%d", n.EpmdPort),
	}
	if len(opts.ConfD) > 0 {
		n.env = append(n.env, "RABBITMQ_CONFIG_FILES="+nd+"/conf.d")
	}
	n.log = opts.Log
	if n.log == nil {
		n.log = io.Discard
	}
	if err := n.launch(); err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	user, password := "", ""
	if !opts.NoAdmin {
		user, password = "guest", "guest"
	}
	if err := n.waitReady(ctx, timeout, user, password); err != nil {
		n.Stop()
		return nil, fmt.Errorf("rabbitmq node %s did not start: %w\n%s", n.Name, err, lastLines(n.console.String(), 20))
	}
	if !opts.NoAdmin {
		if err := n.createAdmin(ctx); err != nil {
			n.Stop()
			return nil, err
		}
	}
	n.Version = n.readVersion(ctx)
	return n, nil
}

// launch starts rabbitmq-server, in a process group of its own: the
// script starts the Erlang VM as a child, and a stop that has to kill (or
// Kill) must kill both. The node's watchdog, started with its first
// launch, stops it if this process dies before Stop.
func (n *Node) launch() error {
	if n.watch == nil {
		wd, err := startWatchdog(n.watchedDir(), n.stopEpmdCommand())
		if err != nil {
			return err
		}
		n.watch = wd
	}
	n.exited = make(chan struct{})
	n.waitErr = nil
	n.cmd = n.inst.command(context.Background(), n.env, n.inst.bin+"/rabbitmq-server")
	n.cmd.Dir = n.Dir
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	n.console = new(bytes.Buffer)
	n.cmd.Stdout = io.MultiWriter(n.log, n.console)
	n.cmd.Stderr = n.cmd.Stdout
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.watch.tell("node %d", n.cmd.Process.Pid)
	exited := n.exited
	go func() {
		n.waitErr = n.cmd.Wait()
		n.watch.tell("exited")
		close(exited)
	}()
	return nil
}

// watchedDir is the directory the watchdog removes: a temporary one.
func (n *Node) watchedDir() string {
	if n.tempDir {
		return n.Dir
	}
	return ""
}

// Kill kills the node at once (SIGKILL to its process group, as a crash
// or an OOM kill would), and waits until it is gone. Its directory stays:
// Restart starts it again.
func (n *Node) Kill() error {
	select {
	case <-n.exited:
		return nil
	default:
	}
	if err := syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing node %s: %w", n.Name, err)
	}
	<-n.exited
	return nil
}

// Running reports whether the node's process is still there.
func (n *Node) Running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// Restart starts a node that was killed (or exited) again, with the same
// name, ports and directory, and waits until its API answers its
// administrator. A cluster member rejoins its cluster on its own.
func (n *Node) Restart(ctx context.Context, timeout time.Duration) error {
	if n.Running() {
		return fmt.Errorf("node %s is running", n.Name)
	}
	if err := n.launch(); err != nil {
		return err
	}
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	if err := n.waitReady(ctx, timeout, n.Admin, n.AdminPassword); err != nil {
		n.Kill()
		return fmt.Errorf("rabbitmq node %s did not start again: %w\n%s", n.Name, err, lastLines(n.console.String(), 20))
	}
	return nil
}

// nodeDir makes (or takes) the node's directory: inside the chroot when the
// installation has one. Before it makes a temporary one, it removes the
// leftovers of killed test binaries, once per process. It returns the directory as this process sees it
// and as the node does.
func nodeDir(inst install, dir string) (host, node string, temp bool, err error) {
	if dir == "" {
		base := tempBase(inst)
		removeLeftoversOnce(base, inst.root)
		if dir, err = os.MkdirTemp(base, tempPrefix); err != nil {
			return "", "", false, err
		}
		if err := writeOwner(dir); err != nil {
			os.RemoveAll(dir)
			return "", "", false, err
		}
		temp = true
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", false, err
	}
	if inst.root == "" {
		return dir, dir, temp, nil
	}
	rel, err := filepath.Rel(inst.root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", "", false, fmt.Errorf("a RabbitMQ %s node's directory must be inside its chroot %s; %s is not", inst.series, inst.root, dir)
	}
	return dir, "/" + rel, temp, nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o600)
}

// readVersion asks the node for its RabbitMQ version, without failing: a
// node booted without an administrator of the harness's answers 401.
func (n *Node) readVersion(ctx context.Context) string {
	var overview struct {
		RabbitMQVersion string `json:"rabbitmq_version"`
	}
	if n.Admin != "" && n.Do(ctx, "GET", "/api/overview", nil, &overview) == nil && overview.RabbitMQVersion != "" {
		return overview.RabbitMQVersion
	}
	// The installation's version, from its directory name.
	libs, _ := filepath.Glob(filepath.Join(n.inst.root, "/usr/lib/rabbitmq/lib/rabbitmq_server-*"))
	if len(libs) > 0 {
		return strings.TrimPrefix(filepath.Base(libs[len(libs)-1]), "rabbitmq_server-")
	}
	return n.inst.series
}

func lastLines(s string, k int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls the management API until it answers user (or, when user
// is "", until it answers at all, even 401).
func (n *Node) waitReady(ctx context.Context, timeout time.Duration, user, password string) error {
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
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == 200 || (user == "" && resp.StatusCode == 401) {
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
	cmd := n.inst.command(ctx, n.env, n.inst.bin+"/rabbitmqctl", append([]string{"-n", n.Name}, args...)...)
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
	var vhosts []struct {
		Name      string
		Protected bool `json:"protected_from_deletion"`
	}
	if err := n.Do(ctx, "GET", "/api/vhosts", nil, &vhosts); err != nil {
		return err
	}
	for _, v := range vhosts {
		if v.Protected { // RabbitMQ 4.0.6+ refuses to delete it (412)
			if err := n.Do(ctx, "DELETE", "/api/vhosts/"+url.PathEscape(v.Name)+"/deletion/protection", nil, nil); err != nil {
				return err
			}
		}
		if err := n.deleteVhost(ctx, v.Name); err != nil {
			return err
		}
	}
	var users []struct {
		Name string
		Tags any
	}
	if err := n.Do(ctx, "GET", "/api/users", nil, &users); err != nil {
		return err
	}
	var others []string
	var unprotect []map[string]any
	for _, u := range users {
		if u.Name != n.Admin {
			others = append(others, u.Name)
		}
		if strings.Contains(fmt.Sprint(u.Tags), "protected") {
			// RabbitMQ 4.2+ refuses to delete a user tagged protected over
			// the API (bulk-delete skips it without a word); its import
			// still changes the tags.
			unprotect = append(unprotect, map[string]any{"name": u.Name, "password_hash": "", "tags": ""})
		}
	}
	if len(unprotect) > 0 {
		if err := n.Do(ctx, "POST", "/api/definitions", map[string]any{"users": unprotect}, nil); err != nil {
			return err
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

// deleteVhost deletes a vhost and waits until it is gone. Deleting a vhost
// with thousands of queues can outlast the management API's own request
// timeout (it closes the connection after 60 s, and the deletion goes on),
// so an error is followed by waiting for the vhost to disappear.
func (n *Node) deleteVhost(ctx context.Context, name string) error {
	path := "/api/vhosts/" + url.PathEscape(name)
	err := n.Do(ctx, "DELETE", path, nil, nil)
	if err == nil {
		return nil
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var v map[string]any
		gerr := n.Do(ctx, "GET", path, nil, &v)
		if gerr != nil && strings.Contains(gerr.Error(), ": 404 ") {
			return nil
		}
		time.Sleep(time.Second)
		if gerr == nil {
			// Still there: ask again (a DELETE that failed early did nothing).
			n.Do(ctx, "DELETE", path, nil, nil)
		}
	}
	return fmt.Errorf("deleting vhost %q: %v, and it was still there 5 minutes later", name, err)
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
		if !n.sharedEpmd {
			n.stopEpmd(ctx)
		}
		if n.tempDir {
			err = os.RemoveAll(n.Dir)
		}
		if n.watch != nil {
			n.watch.dismiss()
		}
	})
	return err
}

// stopEpmd stops the epmd the node registers with.
func (n *Node) stopEpmd(ctx context.Context) {
	if epmd, err := findEpmd(n.inst.root); err == nil {
		n.inst.command(ctx, n.env, epmd, "-port", fmt.Sprint(n.EpmdPort), "-kill").Run()
	}
}

// stopEpmdCommand is the command that stops the epmd the node registers
// with (epmd -kill, which an epmd with other nodes registered refuses),
// nil when there is no epmd to be found.
func (n *Node) stopEpmdCommand() *exec.Cmd {
	epmd, err := findEpmd(n.inst.root)
	if err != nil {
		return nil
	}
	return n.inst.command(context.Background(), n.env, epmd, "-port", fmt.Sprint(n.EpmdPort), "-kill")
}

// findEpmd finds the installation's epmd, as the node sees its path.
func findEpmd(root string) (string, error) {
	for _, p := range []string{"/usr/bin/epmd", "/usr/local/bin/epmd"} {
		if _, err := os.Stat(filepath.Join(root, p)); err == nil {
			return p, nil
		}
	}
	m, _ := filepath.Glob(filepath.Join(root, "/usr/lib/erlang/erts-*/bin/epmd"))
	if len(m) > 0 {
		return strings.TrimPrefix(m[0], root), nil
	}
	return "", errors.New("epmd not found")
}

// ownConnection sends each request on a new connection.
var ownConnection = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// PostDefinitions imports a definitions document with RabbitMQ's own
// import (POST /api/definitions), as the node's administrator.
func (n *Node) PostDefinitions(ctx context.Context, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, "POST", n.URL+"/api/definitions", bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.SetBasicAuth(n.Admin, n.AdminPassword)
	req.Header.Set("Content-Type", "application/json")
	// A connection of its own: a kept-alive one may be dead after a
	// rabbitmqctl reset or the server's idle timeout (make bench: "write:
	// use of closed network connection"), and a POST is not retried.
	// req.Close alone was not enough: it closes the connection after the
	// request, but the request still took an idle one from the pool.
	resp, err := ownConnection.Do(req)
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
