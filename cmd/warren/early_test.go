package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestDiffReadsWhileFilesLoad: diff opens the broker and, on RabbitMQ 4.3,
// starts its one GET /api/definitions while the files load; the plan is
// the same. What the user sees keeps its order: a bad file's error alone
// (nothing from the broker), the prompt's absence as before, and a broker
// that cannot be reached said once.
func TestDiffReadsWhileFilesLoad(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	u, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var paths []string
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	count := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		c := 0
		for _, p := range paths {
			if p == path {
				c++
			}
		}
		paths = nil
		return c
	}
	t.Cleanup(func() { n.Do(t.Context(), "DELETE", "/api/vhosts/early", nil, nil) })
	file := writeTemp(t, "defs.json", `{"vhosts": [{"name": "early"}], "queues": [{"name": "q", "vhost": "early", "durable": true}]}`)
	if code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", file); code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("WARREN_URL", srv.URL)
	count("")

	code, out, errOut := warren(t, "diff", "--keep-guest", file)
	if code != exitOK {
		t.Fatalf("diff right after apply: exit %d\n%s%s", code, out, errOut)
	}
	whole := !strings.HasPrefix(n.Version, "3.") && !strings.HasPrefix(n.Version, "4.0") // 4.3: see rabbitmq.Target.Read
	want := 0
	if whole {
		want = 1
	}
	if got := count("/api/definitions"); got != want {
		t.Errorf("RabbitMQ %s: diff read GET /api/definitions %d times, want %d", n.Version, got, want)
	}

	// The files come through a pipe that gives nothing until the broker
	// has been asked for its definitions (4.3) or its version (before).
	fifo := filepath.Join(t.TempDir(), "defs.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := warren(t, "diff", "--keep-guest", fifo)
		done <- result{code, out, errOut}
	}()
	first := "/api/overview"
	if whole {
		first = "/api/definitions"
	}
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		seen := slices.Contains(paths, first)
		mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RabbitMQ %s: no GET %s while the files were still loading: %v", n.Version, first, paths)
		}
		time.Sleep(20 * time.Millisecond)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fifo, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.code != exitOK {
		t.Fatalf("diff of the files through a pipe: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if got := count("/api/definitions"); got != want {
		t.Errorf("RabbitMQ %s: diff through a pipe read GET /api/definitions %d times, want %d", n.Version, got, want)
	}

	bad := writeTemp(t, "bad.json", "{\"vhosts\": [{\"name\": \"early\"}],\n \"queues\": [{\"vhost\": \"early\"}]}")
	code, out, errOut = warren(t, "diff", "--keep-guest", bad)
	if code != exitError || out != "" || !strings.Contains(errOut, "bad.json:2:") || strings.Contains(errOut, "rabbitmq") {
		t.Errorf("diff of a bad file: exit %d, want %d, with the file's error alone:\nstdout: %s\nstderr: %s", code, exitError, out, errOut)
	}

	t.Setenv("WARREN_PASSWORD", "")
	code, _, errOut = warren(t, "diff", "--keep-guest", file)
	if code != exitError || !strings.Contains(errOut, "no password for user") {
		t.Errorf("diff without a password: exit %d, want the error that names its sources:\n%s", code, errOut)
	}
	t.Setenv("WARREN_PASSWORD", n.AdminPassword)

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	t.Setenv("WARREN_URL", gone.URL)
	code, _, errOut = warren(t, "diff", "--keep-guest", file)
	if code != exitError || strings.Count(errOut, "connection refused") != 1 {
		t.Errorf("diff against a closed port: exit %d, want the refusal said once:\n%s", code, errOut)
	}
}

// TestApplyLocksWhileFilesLoad: apply --yes on RabbitMQ 4.3 writes the
// broker's lock and starts its read under it while the files load. The
// lock keeps another apply out meanwhile; a bad file gets its own error
// alone and gives the lock back, as does an apply interrupted while its
// files load; a lock another apply holds is said once the files are
// valid, and broken (--break-lock) only then. Before 4.3 nothing is
// locked before the files are loaded.
func TestApplyLocksWhileFilesLoad(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := t.Context()
	whole := !strings.HasPrefix(n.Version, "3.") && !strings.HasPrefix(n.Version, "4.0")
	cleanEarlyLock(t, n)
	good := `{"vhosts": [{"name": "/"}, {"name": "early-lock"}]}`
	bad := `{"vhosts": [{"name": "early-lock", "tags": 7}]}`

	// A good file: another apply meanwhile finds the lock (4.3).
	a := startPiped(t, n, whole, n.URL)
	other := writeTemp(t, "other.json", good)
	code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", other)
	if whole && (code != exitError || !strings.Contains(errOut, "another warren apply holds the broker's lock")) {
		t.Errorf("RabbitMQ %s: an apply while another's files load: exit %d\n%s", n.Version, code, errOut)
	}
	if !whole && code != exitOK {
		t.Errorf("RabbitMQ %s: an apply while another's files load: exit %d\n%s", n.Version, code, errOut)
	}
	n.Do(ctx, "DELETE", "/api/vhosts/early-lock", nil, nil)
	if code := a.feed(good); code != exitOK || !strings.Contains(a.out.String(), `+ vhost "early-lock"`) {
		t.Fatalf("RabbitMQ %s: apply of files through a pipe: exit %d\n%s", n.Version, code, a.out)
	}
	mustNoLock(t, n, "the apply")
	mustInSync(t, "--keep-guest", other)

	// A bad file: its error alone, and the lock given back.
	n.Do(ctx, "DELETE", "/api/vhosts/early-lock", nil, nil)
	a = startPiped(t, n, whole, n.URL)
	if code := a.feed(bad); code != exitError || !strings.Contains(a.out.String(), "defs.json:1:") || strings.Contains(a.out.String(), "lock") {
		t.Errorf("RabbitMQ %s: apply of a bad file: exit %d\n%s", n.Version, code, a.out)
	}
	mustNoLock(t, n, "the apply of a bad file")
	if err := n.Do(ctx, "GET", "/api/vhosts/early-lock", nil, nil); err == nil {
		t.Error("the apply of a bad file created its vhost")
	}

	// Interrupted while the files load: the lock is given back.
	a = startPiped(t, n, whole, n.URL)
	if code := a.interrupt(); code != exitError || !strings.Contains(a.out.String(), "stopped before changing anything") {
		t.Errorf("RabbitMQ %s: an apply interrupted while its files load: exit %d\n%s", n.Version, code, a.out)
	}
	mustNoLock(t, n, "an apply interrupted while its files load")

	// Another's lock: said once the files are valid, left alone, and
	// broken with --break-lock only when the files are.
	putForeignLock(t, n)
	if code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", writeTemp(t, "bad.json", bad)); code != exitError || strings.Contains(errOut, "lock") {
		t.Errorf("a bad file while another apply holds the lock: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", other); code != exitError || !strings.Contains(errOut, `user "someone" on host "elsewhere"`) {
		t.Errorf("a good file while another apply holds the lock: exit %d\n%s", code, errOut)
	}
	mustForeignLock(t, n, "after an apply refused for it")
	a = startPiped(t, n, false, n.URL, "--break-lock")
	if code := a.feed(bad); code != exitError {
		t.Errorf("apply --break-lock of a bad file: exit %d\n%s", code, a.out)
	}
	mustForeignLock(t, n, "after apply --break-lock of a bad file")

	// A lock there when the files begin to load, gone when they are
	// loaded: the apply goes ahead.
	n.Do(ctx, "DELETE", "/api/vhosts/early-lock", nil, nil)
	a = startPiped(t, n, false, n.URL)
	time.Sleep(500 * time.Millisecond)
	n.Do(ctx, "DELETE", "/api/global-parameters/warren-lock", nil, nil)
	if code := a.feed(good); code != exitOK {
		t.Errorf("RabbitMQ %s: apply once another's lock is gone: exit %d\n%s", n.Version, code, a.out)
	}
	mustNoLock(t, n, "the apply after another's lock")
}

// TestApplyEarlyLockSlowBroker: the early lock (RabbitMQ 4.3) is given
// back when the files turn out bad while its PUT is still on its way; and
// on every version, warren interrupted after the files are loaded, before
// the apply has begun, leaves no lock and changes nothing.
func TestApplyEarlyLockSlowBroker(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	whole := !strings.HasPrefix(n.Version, "3.") && !strings.HasPrefix(n.Version, "4.0")
	applyEnv(t, n)
	ctx := t.Context()
	cleanEarlyLock(t, n)
	u, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy holds back the answer to the request the test names (a
	// method and a path), and says when it has it.
	var mu sync.Mutex
	holdMethod, holdPath := "", ""
	seen := make(chan struct{}, 1)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hold := r.Method == holdMethod && r.URL.Path == holdPath
		mu.Unlock()
		if hold {
			rp.ServeHTTP(w, r) // done by the broker,
			select {
			case seen <- struct{}{}:
			default:
			}
			time.Sleep(2 * time.Second) // and said late
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	hold := func(method, path string) {
		mu.Lock()
		holdMethod, holdPath = method, path
		mu.Unlock()
	}
	waitSeen := func(what string) {
		t.Helper()
		select {
		case <-seen:
		case <-time.After(time.Minute):
			t.Fatalf("no %s", what)
		}
	}

	// A bad file while the lock's PUT is on its way (4.3; before, no lock
	// is written while the files load).
	hold("PUT", "/api/global-parameters/warren-lock")
	a := startPiped(t, n, false, srv.URL)
	if whole {
		waitSeen("PUT of the lock")
	}
	if code := a.feed(`{"vhosts": [{"name": "early-lock", "tags": 7}]}`); code != exitError {
		t.Errorf("apply of a bad file: exit %d\n%s", code, a.out)
	}
	mustNoLock(t, n, "the apply of a bad file whose lock was slow to be written")

	// Interrupted after the files are loaded, while the apply checks the
	// broker, before it has changed anything.
	hold("GET", "/api/whoami")
	a = startPiped(t, n, whole, srv.URL)
	a.feedOnly(`{"vhosts": [{"name": "/"}, {"name": "early-lock"}]}`)
	waitSeen("GET /api/whoami")
	if code := a.interrupt(); code != exitError || !strings.Contains(a.out.String(), "interrupted") {
		t.Errorf("apply interrupted before it changed anything: exit %d\n%s", code, a.out)
	}
	mustNoLock(t, n, "an apply interrupted before it changed anything")
	if err := n.Do(ctx, "GET", "/api/vhosts/early-lock", nil, nil); err == nil {
		t.Error("the interrupted apply created its vhost")
	}
}

// piped is warren apply --yes running on files given through a pipe.
type piped struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *bytes.Buffer
	fifo string
}

// startPiped runs apply --yes on files given through a pipe, against the
// broker at brokerURL, and returns once the broker has been asked for its
// version, and, when locked, the lock is written (or, when not, a second
// later, with the lock checked absent).
func startPiped(t *testing.T, n *rabbitmqtest.Node, locked bool, brokerURL string, args ...string) *piped {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "defs.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(warrenBinary(t), append(append([]string{"apply", "--yes", "--keep-guest"}, args...), fifo)...)
	cmd.Env = append(os.Environ(), "WARREN_URL="+brokerURL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(time.Minute)
	for locked && !lockHeld(t, n) {
		if time.Now().After(deadline) {
			t.Fatalf("RabbitMQ %s: no lock while the files load:\n%s", n.Version, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !locked {
		time.Sleep(time.Second)
	}
	return &piped{t, cmd, &out, fifo}
}

// feed gives the files and returns warren's exit code.
func (p *piped) feed(content string) int {
	p.t.Helper()
	p.feedOnly(content)
	return p.exit()
}

func (p *piped) feedOnly(content string) {
	p.t.Helper()
	if err := os.WriteFile(p.fifo, []byte(content), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// interrupt sends SIGINT and returns warren's exit code.
func (p *piped) interrupt() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatal(err)
	}
	return p.exit()
}

func (p *piped) exit() int {
	p.t.Helper()
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	p.t.Fatal(err)
	return -1
}

func lockHeld(t *testing.T, n *rabbitmqtest.Node) bool {
	t.Helper()
	_, h, err := mustClient(t, n).ReadLock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustNoLock(t *testing.T, n *rabbitmqtest.Node, who string) {
	t.Helper()
	if l, h, _ := mustClient(t, n).ReadLock(t.Context()); h {
		t.Errorf("RabbitMQ %s: %s left a lock: %v", n.Version, who, l)
	}
}

func putForeignLock(t *testing.T, n *rabbitmqtest.Node) {
	t.Helper()
	theirs := map[string]any{"value": rabbitmq.LockInfo{Holder: "someone", Host: "elsewhere", PID: 1, Since: time.Now(), Renewed: time.Now(), Token: "theirs"}}
	if err := n.Do(t.Context(), "PUT", "/api/global-parameters/warren-lock", theirs, nil); err != nil {
		t.Fatal(err)
	}
}

func mustForeignLock(t *testing.T, n *rabbitmqtest.Node, when string) {
	t.Helper()
	if l, h, _ := mustClient(t, n).ReadLock(t.Context()); !h || l.Token != "theirs" {
		t.Errorf("RabbitMQ %s: another apply's lock was not left alone %s: %v %v", n.Version, when, h, l)
	}
}

func cleanEarlyLock(t *testing.T, n *rabbitmqtest.Node) {
	t.Cleanup(func() {
		n.Do(context.Background(), "DELETE", "/api/vhosts/early-lock", nil, nil)
		n.Do(context.Background(), "DELETE", "/api/global-parameters/warren-lock", nil, nil)
	})
}
