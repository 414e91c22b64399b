package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
