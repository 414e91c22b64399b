package rabbitmq

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// accessDefinitions has users, vhosts, permissions and topic permissions.
const accessDefinitions = `{
  "vhosts": [{"name": "orders"}, {"name": "billing"}],
  "users": [
    {"name": "app", "password_hash": "", "tags": []},
    {"name": "ops", "password_hash": "", "tags": ["monitoring"]},
    {"name": "idle", "password_hash": "", "tags": []}
  ],
  "permissions": [
    {"user": "app", "vhost": "orders", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "ops", "vhost": "billing", "configure": "", "write": "", "read": ".*"}
  ],
  "topic_permissions": [{"user": "app", "vhost": "orders", "exchange": "amq.topic", "write": "^a", "read": ".*"}]
}`

// dropProxy is a proxy to a node that empties the listed keys of the next
// answers of the given paths (drops[path] of them, -1 for all), as a
// broker whose store fails a query answers: with an empty list. It records
// the path of every request.
type dropProxy struct {
	url   string
	mu    sync.Mutex
	drops map[string]int // path → how many answers still to empty
	keys  []string       // what an answer of /api/definitions loses
	seen  []string
}

func newDropProxy(t *testing.T, n *rabbitmqtest.Node, keys []string, drops map[string]int) *dropProxy {
	t.Helper()
	target, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{drops: drops, keys: keys}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Accept-Encoding") // an answer to change is read plain
	}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		path := resp.Request.URL.Path
		p.mu.Lock()
		left := p.drops[path]
		if left > 0 {
			p.drops[path]--
		}
		p.mu.Unlock()
		if left == 0 || resp.StatusCode != 200 {
			return nil
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if path == "/api/definitions" {
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(data, &doc); err != nil {
				return err
			}
			for _, k := range p.keys {
				doc[k] = json.RawMessage("[]")
			}
			data, _ = json.Marshal(doc)
		} else {
			data = []byte("[]")
		}
		resp.Body = io.NopCloser(bytes.NewReader(data))
		resp.ContentLength = int64(len(data))
		resp.Header.Set("Content-Length", strconv.Itoa(len(data)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.URL.Path)
		p.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// count is how many requests went to path.
func (p *dropProxy) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range p.seen {
		if s == path {
			n++
		}
	}
	return n
}

func (p *dropProxy) paths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

func proxyClient(t *testing.T, n *rabbitmqtest.Node, u string) *Client {
	t.Helper()
	c, err := New(Config{URLs: []string{u}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An export that lists none of the broker's permissions (or none of its
// users, or vhosts), as RabbitMQ 4.x on Khepri answers when its store
// fails the query, is completed from the listings: Read reads what the
// broker holds, and a diff against it finds nothing to do.
func TestReadCompletesAnIncompleteExport(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(accessDefinitions)); err != nil {
		t.Fatal(err)
	}
	direct := proxyClient(t, n, n.URL)
	want, err := direct.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Permissions) == 0 || len(want.Users) == 0 || len(want.TopicPermissions) == 0 {
		t.Fatalf("the node holds no permissions, users or topic permissions:\n%s", want.EncodeJSON())
	}
	for _, tc := range []struct {
		name  string
		keys  []string
		reads []string // what is read again
	}{
		{"permissions", []string{"permissions"}, []string{"/api/permissions"}},
		{"users and permissions", []string{"users", "permissions"}, []string{"/api/users", "/api/permissions"}},
		{"vhosts", []string{"vhosts"}, []string{"/api/vhosts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newDropProxy(t, n, tc.keys, map[string]int{"/api/definitions": 1})
			before := incompleteExports.Load()
			got, err := proxyClient(t, n, p.url).Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if definitions.Digest(got) != definitions.Digest(want) {
				t.Errorf("Read of an export without %v differs from the broker's:\n%s\n%s", tc.keys, want.EncodeJSON(), got.EncodeJSON())
			}
			if d := incompleteExports.Load() - before; d != int64(len(tc.reads)) {
				t.Errorf("%d exports counted as incomplete, want %d", d, len(tc.reads))
			}
			for _, path := range tc.reads {
				if p.count(path) == 0 {
					t.Errorf("%s was not read again (%v)", path, p.paths())
				}
			}
			pl, err := plan.Diff(want, got, plan.WithKeepGuest(true))
			if err != nil {
				t.Fatal(err)
			}
			if len(pl.Changes) != 0 {
				t.Errorf("a diff against the completed export has %d changes", len(pl.Changes))
			}
		})
	}
}

// An export that lists permissions costs no request more; one of a broker
// that has users but no permissions at all costs two (the permissions, and
// the users without permissions), and is read as it is.
func TestReadChecksAccessOnlyWhenEmpty(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(accessDefinitions)); err != nil {
		t.Fatal(err)
	}
	p := newDropProxy(t, n, nil, map[string]int{})
	c := proxyClient(t, n, p.url)
	if _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/permissions", "/api/users", "/api/users/without-permissions"} {
		if k := p.count(path); k != 0 {
			t.Errorf("a complete export: %d requests to %s, want none", k, path)
		}
	}

	// No permissions at all: every one is deleted.
	var perms []struct{ User, Vhost string }
	if err := n.Do(ctx, "GET", "/api/permissions", nil, &perms); err != nil {
		t.Fatal(err)
	}
	for _, pm := range perms {
		if err := n.Do(ctx, "DELETE", "/api/permissions/"+url.PathEscape(pm.Vhost)+"/"+url.PathEscape(pm.User), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	p = newDropProxy(t, n, nil, map[string]int{})
	before := incompleteExports.Load()
	got, err := proxyClient(t, n, p.url).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Permissions) != 0 || len(got.Users) == 0 {
		t.Fatalf("%d permissions, %d users; want none and some", len(got.Permissions), len(got.Users))
	}
	if d := incompleteExports.Load() - before; d != 0 {
		t.Errorf("%d exports counted as incomplete, want none", d)
	}
	for _, path := range []string{"/api/permissions", "/api/users/without-permissions"} {
		if k := p.count(path); k != 1 {
			t.Errorf("no permissions: %d requests to %s, want 1 (%v)", k, path, p.paths())
		}
	}
}

// When the export and the listing keep listing no permissions though users
// have some, or no users though the broker holds the one warren logs in
// as, Read fails: it never returns what a diff would take for missing
// permissions or users. A listing that lists them on a later try is read.
func TestReadRefusesAnExportWithoutPermissions(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(accessDefinitions)); err != nil {
		t.Fatal(err)
	}
	waits := accessWaits
	accessWaits = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
	t.Cleanup(func() { accessWaits = waits })
	p := newDropProxy(t, n, []string{"permissions"}, map[string]int{"/api/definitions": -1, "/api/permissions": -1})
	_, err := proxyClient(t, n, p.url).Read(ctx)
	if err == nil || !strings.Contains(err.Error(), "list no permissions") {
		t.Fatalf("Read: %v, want an error saying the broker lists no permissions", err)
	}
	if k := p.count("/api/permissions"); k != len(accessWaits)+1 {
		t.Errorf("%d requests to /api/permissions, want %d", k, len(accessWaits)+1)
	}
	p = newDropProxy(t, n, []string{"users", "permissions"}, map[string]int{"/api/definitions": -1, "/api/users": -1})
	_, err = proxyClient(t, n, p.url).Read(ctx)
	if err == nil || !strings.Contains(err.Error(), "list no users") {
		t.Fatalf("Read: %v, want an error saying the broker lists no users", err)
	}
	if k := p.count("/api/users"); k != len(accessWaits)+1 {
		t.Errorf("%d requests to /api/users, want %d", k, len(accessWaits)+1)
	}
	p = newDropProxy(t, n, []string{"permissions"}, map[string]int{"/api/definitions": -1, "/api/permissions": 2})
	got, err := proxyClient(t, n, p.url).Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Permissions) == 0 {
		t.Error("the permissions listed on the third try were not read")
	}
}

// ReadKinds gives its users and permissions the same checks: a listing
// that answers none the first time is read again.
func TestReadKindsCompletesAnEmptyListing(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(accessDefinitions)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		kinds []definitions.Kind
		drops map[string]int
	}{
		{"permissions", []definitions.Kind{definitions.KindUser, definitions.KindVhost, definitions.KindPermission}, map[string]int{"/api/permissions": 1}},
		{"permissions alone", []definitions.Kind{definitions.KindPermission}, map[string]int{"/api/permissions": 1}},
		{"users and permissions", []definitions.Kind{definitions.KindUser, definitions.KindPermission}, map[string]int{"/api/users": 1, "/api/permissions": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := proxyClient(t, n, n.URL).ReadKinds(ctx, tc.kinds)
			if err != nil {
				t.Fatal(err)
			}
			p := newDropProxy(t, n, nil, tc.drops)
			before := incompleteExports.Load()
			got, err := proxyClient(t, n, p.url).ReadKinds(ctx, tc.kinds)
			if err != nil {
				t.Fatal(err)
			}
			if definitions.Digest(got) != definitions.Digest(want) {
				t.Errorf("ReadKinds(%v) of listings answering none differs from the broker's:\n%s\n%s", tc.kinds, want.EncodeJSON(), got.EncodeJSON())
			}
			if d := incompleteExports.Load() - before; d != int64(len(tc.drops)) {
				t.Errorf("%d listings counted as incomplete, want %d", d, len(tc.drops))
			}
		})
	}
}
