package rabbitmq

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The retry mechanism is plain HTTP, not RabbitMQ behaviour, so it is
// tested against a bare HTTP server that fails on purpose: answers 503
// twice to a GET, then the JSON a GET expects. (Everything that depends on
// what RabbitMQ does is tested against a real node.)
func TestRetriesSafeRequestsOn5xx(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"service_unavailable","reason":"starting"}`))
			return
		}
		w.Write([]byte(`{"name":"ops","tags":["administrator"]}`))
	}))
	defer srv.Close()
	c, err := New(Config{URLs: []string{srv.URL}, Username: "ops", Password: "x", Retries: 3, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	who, err := c.Whoami(context.Background())
	if err != nil || who.Name != "ops" || calls.Load() != 3 {
		t.Fatalf("whoami after two 503s: %+v, %v, %d calls", who, err, calls.Load())
	}

	// A POST that reached the server is not repeated.
	calls.Store(0)
	err = c.do(context.Background(), http.MethodPost, "/api/definitions", []byte("{}"), nil)
	if err == nil || calls.Load() != 1 {
		t.Fatalf("POST after a 503: %v, %d calls", err, calls.Load())
	}
	if ae, ok := err.(*APIError); !ok || ae.Status != 503 || ae.Reason != "starting" {
		t.Errorf("want the server's own reason, got %v", err)
	}
}

func TestNewRefusesCredentialsInTheURL(t *testing.T) {
	_, err := New(Config{URLs: []string{"https://ops:secret@mq.example.com"}})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v", err)
	}
}

// closedURL is the URL of a port that refuses connections.
func closedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// A cluster whose every node is down is an error, never an empty success.
func TestEveryNodeDownIsAnError(t *testing.T) {
	c, err := New(Config{URLs: []string{closedURL(t), closedURL(t)}, Username: "ops", Password: "x", Retries: 1, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	err = c.getJSON(context.Background(), "/api/users", &out)
	if err == nil || !strings.Contains(err.Error(), "GET /api/users") {
		t.Fatalf("every node down: got %v, want the connection's error", err)
	}
}

// An import whose connection is cut (the node died under it) goes to the
// next node: an import is idempotent. A GET does the same; any other POST
// does not.
func TestCutImportGoesToTheNextNode(t *testing.T) {
	var cut, answered atomic.Int32
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cut.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer dying.Close()
	alive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answered.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer alive.Close()
	c, err := New(Config{URLs: []string{dying.URL, alive.URL}, Username: "ops", Password: "x", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PostDefinitions(context.Background(), []byte("{}")); err != nil || cut.Load() != 1 || answered.Load() != 1 {
		t.Fatalf("import cut on the first node: %v (cut %d, answered %d)", err, cut.Load(), answered.Load())
	}
	if c.URL() != alive.URL {
		t.Errorf("the client goes on with %s, want %s", c.URL(), alive.URL)
	}
	// Another POST is not sent again once it may have reached a node.
	c, _ = New(Config{URLs: []string{dying.URL, alive.URL}, Username: "ops", Password: "x", Timeout: time.Second})
	cut.Store(0)
	answered.Store(0)
	if err := c.do(context.Background(), http.MethodPost, "/api/users/bulk-delete", []byte("{}"), nil); err == nil || answered.Load() != 0 {
		t.Fatalf("a cut bulk-delete: %v, answered %d; want an error and no second try", err, answered.Load())
	}
}

// TestImportTimeout: an import is the broker's work on every object at
// once and may take minutes; it gets ImportTimeout, other requests Timeout.
func TestImportTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(400 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := New(Config{URLs: []string{srv.URL}, Username: "ops", Password: "x", Retries: 1, Timeout: 100 * time.Millisecond, ImportTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.do(context.Background(), http.MethodPost, "/api/definitions", []byte("{}"), nil); err != nil {
		t.Errorf("an import slower than Timeout but within ImportTimeout failed: %v", err)
	}
	if err := c.do(context.Background(), http.MethodPut, "/api/vhosts/v", []byte("{}"), nil); err == nil {
		t.Error("a PUT slower than Timeout succeeded")
	}
}
