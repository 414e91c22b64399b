package rabbitmqtest

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

func TestMain(m *testing.M) {
	if how := os.Getenv(orphanEnv); how != "" {
		orphanChild(how) // TestNodeStopsWithItsProcess's child
	}
	Main(m)
}

func TestSharedNodeResets(t *testing.T) {
	n := Shared(t)
	ctx := context.Background()
	if err := n.Do(ctx, "PUT", "/api/vhosts/"+url.PathEscape("left over"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "PUT", "/api/users/guest", map[string]any{"password": "changed", "tags": ""}, nil); err != nil {
		t.Fatal(err)
	}
	n = Shared(t)
	var vhosts []struct{ Name string }
	if err := n.Do(ctx, "GET", "/api/vhosts", nil, &vhosts); err != nil {
		t.Fatal(err)
	}
	if len(vhosts) != 1 || vhosts[0].Name != "/" {
		t.Errorf("after reset, vhosts = %v, want only /", vhosts)
	}
	var who struct {
		Name string
		Tags []string
	}
	if err := n.call(ctx, "guest", "guest", "GET", "/api/whoami", nil, &who); err != nil {
		t.Fatalf("guest cannot log in after reset: %v", err)
	}
	if who.Name != "guest" || len(who.Tags) != 1 || who.Tags[0] != "administrator" {
		t.Errorf("guest after reset: %+v", who)
	}
	out, err := n.Ctl(ctx, "list_vhosts", "--quiet")
	if err != nil || out == "" {
		t.Errorf("rabbitmqctl: %q, %v", out, err)
	}
}

// A node can be of another series than WARREN_RABBITMQ's, so that one test
// can run several versions side by side (a migration, a mixed fleet).
func TestNodeOfEachSeries(t *testing.T) {
	for _, series := range AllSeries {
		t.Run(series, func(t *testing.T) {
			if err := AvailableSeries(series); err != nil {
				Unavailable(t, err)
			}
			n, err := Start(context.Background(), Options{Series: series})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop()
			if !strings.HasPrefix(n.Version, series+".") {
				t.Errorf("Options{Series: %q} started RabbitMQ %s", series, n.Version)
			}
		})
	}
}

// freePorts never hands out a port twice in one process: nodes started at
// once (a cluster, a fleet) each bind theirs only later, and a port
// handed to two of them stopped one with eaddrinuse.
// They lie below the kernel's ephemeral range, which outgoing connections
// of other processes draw from.
func TestFreePortsNeverTwice(t *testing.T) {
	_, hi := portRange()
	seen := map[int]bool{}
	for range 300 {
		ports, err := freePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		if seen[ports[0]] {
			t.Fatalf("port %d handed out twice", ports[0])
		}
		if ports[0] >= hi {
			t.Fatalf("port %d is in the ephemeral range, from %d", ports[0], hi)
		}
		seen[ports[0]] = true
	}
}

// A node whose distribution port was taken is started again: 4.0.5 says so
// in its prelaunch error, not with eaddrinuse.
func TestPortTaken(t *testing.T) {
	for msg, want := range map[string]bool{
		"ERROR: could not bind to distribution port 39391 on host localhost": true,
		"{dist_port_already_used,39391,not_erlang,\"localhost\"}":            true,
		"{listen_error,eaddrinuse}":                                          true,
		"the node exited: exit status 1":                                     false,
	} {
		if got := portTaken(errors.New(msg)); got != want {
			t.Errorf("portTaken(%q) = %v, want %v", msg, got, want)
		}
	}
}

// PostDefinitions never sends its import on a kept-alive connection (one a
// reset or the server's idle timeout may have closed: make bench's import
// failed with "use of closed network connection").
func TestPostDefinitionsOwnConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	n := &Node{URL: srv.URL, Admin: "a", AdminPassword: "p"}
	ctx := context.Background()
	if err := n.Do(ctx, "GET", "/api/overview", nil, nil); err != nil { // leaves an idle connection
		t.Fatal(err)
	}
	for range 2 {
		if err := n.PostDefinitions(ctx, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("%d connections for a GET and two imports, want 3 (an import took a kept-alive one)", got)
	}
}

// Under -short (make check) no node is started: Shared, SharedCluster and
// Unavailable skip the test, in CI too, and Start and StartCluster refuse.
func TestShortStartsNoNode(t *testing.T) {
	was := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flag.Set("test.short", was) })
	t.Setenv("CI", "true")
	sharedMu.Lock()
	nodeBefore, errBefore := sharedNode, sharedErr // another test may have started it
	sharedMu.Unlock()
	for name, needsNode := range map[string]func(t *testing.T){
		"Shared":        func(t *testing.T) { Shared(t) },
		"SharedCluster": func(t *testing.T) { SharedCluster(t) },
		"Unavailable":   func(t *testing.T) { Unavailable(t, errors.New("no rabbitmq-server")) },
	} {
		var skipped bool
		t.Run(name, func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			needsNode(t)
		})
		if !skipped {
			t.Errorf("%s under -short with CI set: the test was not skipped", name)
		}
	}
	sharedMu.Lock()
	node, nodeErr := sharedNode, sharedErr
	sharedMu.Unlock()
	if node != nodeBefore || nodeErr != errBefore {
		t.Errorf("under -short the shared node was tried: %v, %v", node, nodeErr)
	}
	if err := Available(); !errors.Is(err, ErrShort) {
		t.Errorf("Available() = %v, want ErrShort", err)
	}
	if n, err := Start(context.Background(), Options{}); !errors.Is(err, ErrShort) {
		if n != nil {
			n.Stop()
		}
		t.Errorf("Start under -short: %v, want ErrShort", err)
	}
	if cl, err := StartCluster(context.Background(), 3, Options{}); !errors.Is(err, ErrShort) {
		if cl != nil {
			cl.Stop()
		}
		t.Errorf("StartCluster under -short: %v, want ErrShort", err)
	}
}
