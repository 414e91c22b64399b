package rabbitmq_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// recorder stands between warren and a real node and notes every request
// (method and path with its query), in the order they arrive.
type recorder struct {
	URL  string
	mu   sync.Mutex
	reqs []string
	// slow, when set, says which requests to hold for a while before
	// passing them on, so that requests that overlap surely do.
	slow           func(method, path string) bool
	inFlight, most int
}

func record(t *testing.T, n *rabbitmqtest.Node) *recorder {
	t.Helper()
	u, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI())
		slow := r.slow != nil && r.slow(req.Method, req.URL.Path)
		if slow {
			r.inFlight++
			r.most = max(r.most, r.inFlight)
		}
		r.mu.Unlock()
		if slow {
			time.Sleep(50 * time.Millisecond)
			defer func() {
				r.mu.Lock()
				r.inFlight--
				r.mu.Unlock()
			}()
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func (r *recorder) client(t *testing.T, n *rabbitmqtest.Node) *rabbitmq.Client {
	t.Helper()
	c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{r.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTargetReadsOverviewOnce: Identity and Version read GET /api/overview
// once between them, without its statistics (which cost RabbitMQ 4.0.5
// up to a second on a node with 10,000 queues), and still say what the
// full overview says.
func TestTargetReadsOverviewOnce(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	var full rabbitmq.Overview
	if err := n.Do(ctx, "GET", "/api/overview", nil, &full); err != nil {
		t.Fatal(err)
	}
	rec := record(t, n)
	target := rabbitmq.NewTarget(rec.client(t, n), "")
	id, err := target.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	version, err := target.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := target.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if version != full.RabbitMQVersion || version == "" {
		t.Errorf("Version = %q, the overview says %q", version, full.RabbitMQVersion)
	}
	if id.Cluster["cluster_name"] != full.ClusterName || full.ClusterName == "" {
		t.Errorf("cluster_name = %q, the overview says %q", id.Cluster["cluster_name"], full.ClusterName)
	}
	if id.Cluster["internal_cluster_id"] == "" || again.Cluster["internal_cluster_id"] != id.Cluster["internal_cluster_id"] || id.ActingUser != n.Admin {
		t.Errorf("Identity = %+v, then %+v", id, again)
	}
	var overviews []string
	for _, r := range rec.requests() {
		if strings.HasPrefix(r, "GET /api/overview") {
			overviews = append(overviews, r)
		}
	}
	if !slices.Equal(overviews, []string{"GET /api/overview?disable_stats=true"}) {
		t.Errorf("overview requests: %q, want one, without statistics", overviews)
	}
}

// TestUngrantsRunTogether: the grants RabbitMQ gives the user that creates
// a vhost are taken back a few at a time, not one after another, and all
// of them are taken back.
func TestUngrantsRunTogether(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	rec := record(t, n)
	rec.slow = func(method, path string) bool {
		return method == "DELETE" && strings.HasPrefix(path, "/api/permissions/")
	}
	c := rec.client(t, n)
	var vhosts []string
	for i := range 8 {
		vhosts = append(vhosts, fmt.Sprintf("ungrant-%d-%d", time.Now().UnixNano(), i))
	}
	t.Cleanup(func() {
		for _, v := range vhosts {
			n.Do(context.Background(), "DELETE", "/api/vhosts/"+url.PathEscape(v), nil, nil)
		}
	})
	desired := &definitions.Document{}
	for _, v := range vhosts {
		desired.Vhosts = append(desired.Vhosts, &definitions.Vhost{Name: v})
	}
	live, err := c.ReadKinds(ctx, []definitions.Kind{definitions.KindVhost, definitions.KindPermission})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Diff(desired, live, plan.WithActingUser(n.Admin), plan.WithKeepGuest(true))
	if err != nil {
		t.Fatal(err)
	}
	ungrants := 0
	for _, ch := range p.Changes {
		if ch.Step == plan.StepUngrant {
			ungrants++
		}
	}
	if ungrants != len(vhosts) {
		var b strings.Builder
		render.Text(&b, p, render.Options{})
		t.Fatalf("the plan takes back %d grants, want %d:\n%s", ungrants, len(vhosts), b.String())
	}
	if err := c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin}); err != nil {
		t.Fatal(err)
	}
	if rec.most < 2 {
		t.Errorf("the grants were taken back one at a time (at most %d request at once)", rec.most)
	}
	for _, v := range vhosts {
		err := n.Do(ctx, "GET", "/api/permissions/"+url.PathEscape(v)+"/"+url.PathEscape(n.Admin), nil, nil)
		if err == nil {
			t.Errorf("%s: the acting user still has the permissions RabbitMQ gave it", v)
		}
	}
}
