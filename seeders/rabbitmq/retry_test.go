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
