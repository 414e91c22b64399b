package rabbitmq_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// deletePlan is a plan that deletes the given objects, as Diff makes it
// with pruning.
func deletePlan(objs ...definitions.Object) *plan.Plan {
	p := &plan.Plan{Pruning: true}
	for _, o := range objs {
		p.Changes = append(p.Changes, plan.Change{Action: plan.Delete, Step: plan.StepDelete, Kind: o.Kind(), Addr: plan.AddrOf(o), Before: o})
	}
	return p
}

// The attack: pruning the topic permission of user "users" in
// vhost ".." for exchange "ADMIN" sent DELETE /api/topic-permissions/../users/ADMIN,
// which the broker serves as DELETE /api/users/ADMIN.
func TestDotSegmentNamesDeleteNothing(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.Do(ctx, "PUT", "/api/users/ADMIN", map[string]any{"password": "admin-pw", "tags": "administrator"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/vhosts/v1", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	c := client(t, n)
	for _, vhost := range []string{"..", ".", "%2E%2E", "%2e."} {
		t.Run(vhost, func(t *testing.T) {
			p := deletePlan(
				&definitions.TopicPermission{Vhost: vhost, User: "users", Exchange: "ADMIN"},
				&definitions.Permission{Vhost: vhost, User: "vhosts/v1"},
			)
			err := c.Apply(ctx, p, rabbitmq.ApplyOptions{})
			if err == nil || !strings.Contains(err.Error(), "dot segment") {
				t.Errorf("apply: got %v, want a refusal naming the dot segment", err)
			}
			if err := n.Do(ctx, "GET", "/api/users/ADMIN", nil, nil); err != nil {
				t.Errorf("user ADMIN is gone: %v", err)
			}
			if err := n.Do(ctx, "GET", "/api/vhosts/v1", nil, nil); err != nil {
				t.Errorf("vhost v1 is gone: %v", err)
			}
		})
	}
}

// A binding whose routing key holds % can be deleted (its properties key
// is escaped again as a path segment).
func TestDeleteBindingWithPercent(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	importDefs(t, n, map[string]any{
		"vhosts":    []any{map[string]any{"name": "v"}},
		"exchanges": []any{map[string]any{"name": "x", "vhost": "v", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": map[string]any{}}},
		"queues":    []any{map[string]any{"name": "q", "vhost": "v", "durable": true, "auto_delete": false, "arguments": map[string]any{}}},
		"bindings": []any{
			map[string]any{"vhost": "v", "source": "x", "destination": "q", "destination_type": "queue", "routing_key": "100%.done", "arguments": map[string]any{}},
			map[string]any{"vhost": "v", "source": "x", "destination": "q", "destination_type": "queue", "routing_key": "a%25b #", "arguments": map[string]any{}},
		},
	})
	c := client(t, n)
	p := deletePlan(
		&definitions.Binding{Vhost: "v", Source: "x", Destination: "q", DestinationType: "queue", RoutingKey: "100%.done", Arguments: definitions.Table{}},
		&definitions.Binding{Vhost: "v", Source: "x", Destination: "q", DestinationType: "queue", RoutingKey: "a%25b #", Arguments: definitions.Table{}},
	)
	if err := c.Apply(ctx, p, rabbitmq.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	var left []map[string]any
	if err := n.Do(ctx, "GET", "/api/bindings/v/e/x/q/q", nil, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("bindings left after deleting them: %v", left)
	}
}

// A 404 on DELETE counts as done only when a GET confirms that the object
// is gone.
func TestDelete404IsChecked(t *testing.T) {
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodDelete:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"Object Not Found","reason":"Not Found"}`))
		case http.MethodGet:
			gets.Add(1)
			w.Write([]byte(`{"name":"app","tags":[]}`)) // still there
		}
	}))
	defer srv.Close()
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Apply(context.Background(), deletePlan(&definitions.User{Name: "app"}), rabbitmq.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "still there") {
		t.Errorf("apply: got %v, want an error saying the user is still there", err)
	}
	if gets.Load() == 0 {
		t.Error("no GET checked the 404")
	}
}

// redirector answers every request with code, pointing at target (with
// the request's path), and counts what target receives.
func redirector(t *testing.T, code int) (first, second *httptest.Server, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	second = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{}`))
	}))
	first = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, second.URL+r.URL.Path, code)
	}))
	t.Cleanup(func() { first.Close(); second.Close() })
	return first, second, hits
}

// Redirects are refused: a 307 would re-send an import with every user's
// password, and the credentials, to another host.
func TestRedirectsAreRefused(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			first, second, hits := redirector(t, code)
			c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{first.URL}, Username: "admin", Password: "s3cret", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = c.PostDefinitions(context.Background(), []byte(`{"users":[{"name":"u","password":"plaintext"}]}`))
			if err == nil || !strings.Contains(err.Error(), "does not follow redirects") || !strings.Contains(err.Error(), "use --url "+second.URL) {
				t.Errorf("POST: got %v, want a refusal that names --url %s", err, second.URL)
			}
			if _, err := c.Whoami(context.Background()); err == nil {
				t.Error("GET through a redirect: no error")
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the server redirected to received %d requests", n)
			}
		})
	}
}

// endless answers every request with 200 and JSON that never ends.
func endless(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"name":"`))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Answers are bounded: an endless answer is an error, not an out-of-memory
// crash.
func TestEndlessAnswersAreBounded(t *testing.T) {
	srv := endless(t)
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Timeout: 30 * time.Second, MaxAnswer: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Definitions(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("GET /api/definitions: got %v, want an error about the size", err)
	}
	c, err = rabbitmq.New(rabbitmq.Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Whoami(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than 16 MiB") {
		t.Errorf("GET /api/whoami: got %v, want an error about the size", err)
	}
}

// Broker error text is printed with its control characters escaped.
func TestBrokerErrorTextIsEscaped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"bad_request","reason":"\u001b[2J\u001b]0;pwned\u0007 gone\r\u202e"}`))
	}))
	defer srv.Close()
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = c.PostDefinitions(context.Background(), []byte(`{}`))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.ContainsAny(err.Error(), "\x1b\x07\r\u202e") {
		t.Errorf("control characters printed raw: %q", err.Error())
	}
	if !strings.Contains(err.Error(), `\x1b[2J`) {
		t.Errorf("want the escape shown escaped, got %q", err.Error())
	}
}

// A broker answer with values of the wrong type is an error, never objects
// with empty names (a plan to delete user "").
func TestWrongTypesInAnswerAreAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/users":
			w.Write([]byte(`[{"name": 42, "tags": []}, {"tags": []}]`))
		case "/api/definitions":
			w.Write([]byte(`{"users": [{"name": ["x"], "tags": []}]}`))
		default:
			w.Write([]byte(`[]`))
		}
	}))
	defer srv.Close()
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if doc, err := c.ReadKinds(context.Background(), []definitions.Kind{definitions.KindUser}); err == nil {
		t.Errorf("ReadKinds: no error, users %v", doc.Users)
	}
	if doc, err := c.Read(context.Background()); err == nil {
		t.Errorf("Read: no error, users %v", doc.Users)
	}
}
