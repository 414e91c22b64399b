package rabbitmq_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// recorder stands between warren and a real node and notes every request
// (method and path with its query), in the order they arrive.
type recorder struct {
	URL  string
	mu   sync.Mutex
	reqs []string
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
		r.mu.Unlock()
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
