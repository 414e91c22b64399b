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
// valid. Before 4.3 nothing is locked before the files are loaded.
func TestApplyLocksWhileFilesLoad(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := t.Context()
	whole := !strings.HasPrefix(n.Version, "3.") && !strings.HasPrefix(n.Version, "4.0")
	t.Cleanup(func() {
		n.Do(context.Background(), "DELETE", "/api/vhosts/early-lock", nil, nil)
		n.Do(context.Background(), "DELETE", "/api/global-parameters/warren-lock", nil, nil)
	})
	good := `{"vhosts": [{"name": "/"}, {"name": "early-lock"}]}`
	held := func() bool {
		_, h, err := mustClient(t, n).ReadLock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// start runs apply --yes on files given through a pipe, and returns
	// once the broker has been asked for its version, and, on 4.3, the lock
	// is written.
	start := func(args ...string) (*exec.Cmd, *bytes.Buffer, string) {
		t.Helper()
		fifo := filepath.Join(t.TempDir(), "defs.json")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(warrenBinary(t), append(append([]string{"apply", "--yes", "--keep-guest"}, args...), fifo)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		deadline := time.Now().Add(time.Minute)
		for whole && !held() {
			if time.Now().After(deadline) {
				cmd.Process.Signal(syscall.SIGQUIT)
				time.Sleep(time.Second)
				t.Fatalf("RabbitMQ %s: no lock while the files load:\n%s", n.Version, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !whole {
			time.Sleep(time.Second)
			if held() {
				t.Fatalf("RabbitMQ %s: the lock is written before the files are loaded", n.Version)
			}
		}
		return cmd, &out, fifo
	}
	feed := func(fifo, content string) {
		t.Helper()
		if err := os.WriteFile(fifo, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	exit := func(cmd *exec.Cmd) int {
		t.Helper()
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		t.Fatal(err)
		return -1
	}

	// A good file: another apply meanwhile finds the lock (4.3).
	cmd, out, fifo := start()
	other := writeTemp(t, "other.json", good)
	code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", other)
	if whole && (code != exitError || !strings.Contains(errOut, "another warren apply holds the broker's lock")) {
		t.Errorf("RabbitMQ %s: an apply while another's files load: exit %d\n%s", n.Version, code, errOut)
	}
	if !whole && code != exitOK {
		t.Errorf("RabbitMQ %s: an apply while another's files load: exit %d\n%s", n.Version, code, errOut)
	}
	n.Do(ctx, "DELETE", "/api/vhosts/early-lock", nil, nil)
	feed(fifo, good)
	if code := exit(cmd); code != exitOK || !strings.Contains(out.String(), `+ vhost "early-lock"`) {
		t.Fatalf("RabbitMQ %s: apply of files through a pipe: exit %d\n%s", n.Version, code, out)
	}
	if held() {
		t.Error("the apply left its lock")
	}
	mustInSync(t, "--keep-guest", other)

	// A bad file: its error alone, and the lock given back.
	n.Do(ctx, "DELETE", "/api/vhosts/early-lock", nil, nil)
	cmd, out, fifo = start()
	feed(fifo, `{"vhosts": [{"name": "early-lock", "tags": 7}]}`)
	if code := exit(cmd); code != exitError || !strings.Contains(out.String(), "defs.json:1:") || strings.Contains(out.String(), "lock") {
		t.Errorf("RabbitMQ %s: apply of a bad file: exit %d\n%s", n.Version, code, out)
	}
	if held() {
		t.Error("the apply of a bad file left its lock")
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/early-lock", nil, nil); err == nil {
		t.Error("the apply of a bad file created its vhost")
	}

	// Interrupted while the files load: the lock is given back.
	cmd, out, _ = start()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := exit(cmd); code != exitError {
		t.Errorf("RabbitMQ %s: an apply interrupted while its files load: exit %d\n%s", n.Version, code, out)
	}
	if held() {
		t.Errorf("RabbitMQ %s: an apply interrupted while its files load left its lock:\n%s", n.Version, out)
	}

	// Another's lock: said once the files are valid, and left alone.
	theirs := map[string]any{"value": rabbitmq.LockInfo{Holder: "someone", Host: "elsewhere", PID: 1, Since: time.Now(), Renewed: time.Now(), Token: "theirs"}}
	if err := n.Do(ctx, "PUT", "/api/global-parameters/warren-lock", theirs, nil); err != nil {
		t.Fatal(err)
	}
	bad := writeTemp(t, "bad.json", `{"vhosts": [{"name": "early-lock", "tags": 7}]}`)
	if code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", bad); code != exitError || strings.Contains(errOut, "lock") {
		t.Errorf("a bad file while another apply holds the lock: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := warren(t, "apply", "--yes", "--keep-guest", other); code != exitError || !strings.Contains(errOut, `user "someone" on host "elsewhere"`) {
		t.Errorf("a good file while another apply holds the lock: exit %d\n%s", code, errOut)
	}
	if l, h, _ := mustClient(t, n).ReadLock(ctx); !h || l.Token != "theirs" {
		t.Errorf("another apply's lock was not left alone: %v %v", h, l)
	}
}
