package rabbitmq_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestImportSplitsLargeBodies: on a node that refuses a request body over
// 60,000 bytes (management.http.max_body_size), an apply from scratch of
// about 190,000 bytes of queues, exchanges and bindings succeeds:
//   - with the default ImportChunk, the broker refuses the first import
//     (4.0.5 and 4.3.6 answer 400 "Exceeded HTTP request body size limit";
//     3.10.8 takes it whole) and the apply sends it again in halves until
//     each fits;
//   - with an ImportChunk of 20,000 bytes, and 1,200 topic permissions on
//     the exchanges too (more than an apply PUTs one by one), it sends
//     imports of at most that size, each kind after what it needs
//     (bindings after their queues and exchanges, topic permissions after
//     their exchanges, which RabbitMQ 4.3.2 and later refuse otherwise),
//     and the broker refuses none. (The first
//     case keeps to its 190,000 bytes: a larger body over the limit made
//     4.0.5 close the connection instead of answering 400 once.)
//
// Either way a diff afterwards is empty, and a second apply has nothing
// to do.
func TestImportSplitsLargeBodies(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	const maxBody = 60000
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{
		Config: []string{fmt.Sprintf("management.http.max_body_size = %d", maxBody)}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	t.Logf("RabbitMQ %s", n.Version)

	enforced := !strings.HasPrefix(n.Version, "3.") // 3.10.8 imports a body over the limit
	for _, tc := range []struct {
		name     string
		chunk    int
		refusals bool
		topics   bool // with topic permissions on the exchanges
	}{
		{"default chunk, refused and halved", 0, enforced, false},
		{"chunk of 20,000 bytes", 20000, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vhost := strings.NewReplacer(" ", "-", ",", "").Replace(tc.name)
			var b strings.Builder
			fmt.Fprintf(&b, `{"vhosts": [{"name": "/"}, {"name": %q}], "users": [`, vhost)
			for i, u := range splitUsers {
				fmt.Fprintf(&b, `%s{"name": %q, "password_hash": "", "tags": []}`, comma(i), u)
			}
			b.WriteString(`], "queues": [`)
			const count = 400
			for i := range count {
				fmt.Fprintf(&b, `%s{"name": "split-queue-%04d", "vhost": %q, "durable": true, "auto_delete": false, "arguments": {"x-max-length": %d}}`, comma(i), i, vhost, 1000+i)
			}
			b.WriteString(`], "exchanges": [`)
			for i := range count {
				fmt.Fprintf(&b, `%s{"name": "split-exchange-%04d", "vhost": %q, "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}`, comma(i), i, vhost)
			}
			b.WriteString(`], "topic_permissions": [`)
			for j, u := range splitUsers {
				for i := range count {
					if tc.topics {
						fmt.Fprintf(&b, `%s{"user": %q, "vhost": %q, "exchange": "split-exchange-%04d", "write": "^orders\\.%d\\.", "read": ".*"}`, comma(j*count+i), u, vhost, i, i)
					}
				}
			}
			b.WriteString(`], "bindings": [`)
			for i := range count {
				fmt.Fprintf(&b, `%s{"source": "split-exchange-%04d", "vhost": %q, "destination": "split-queue-%04d", "destination_type": "queue", "routing_key": "orders.%d.#", "arguments": {}}`, comma(i), i, vhost, i, i)
			}
			b.WriteString(`]}`)
			desired := parse(t, "defs.json", []byte(b.String()))
			t.Cleanup(func() {
				n.Do(context.Background(), "DELETE", "/api/vhosts/"+url.PathEscape(vhost), nil, nil)
				for _, u := range splitUsers {
					n.Do(context.Background(), "DELETE", "/api/users/"+u, nil, nil)
				}
			})

			proxy := bodyRecorder(t, n)
			c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{proxy.url}, Username: n.Admin, Password: n.AdminPassword,
				Timeout: 5 * time.Minute, ImportChunk: tc.chunk})
			if err != nil {
				t.Fatal(err)
			}
			acting := plan.WithActingUser(n.Admin)
			p, _ := diff(t, c, desired, acting)
			if err := c.Apply(context.Background(), p, rabbitmq.ApplyOptions{Acting: n.Admin}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			posts := proxy.posts()
			total, refused := 0, 0
			for _, po := range posts {
				if po.status == http.StatusRequestEntityTooLarge || po.status == http.StatusBadRequest {
					refused++
					continue
				}
				total += po.size
				if po.status != http.StatusNoContent && po.status != http.StatusCreated && po.status != http.StatusOK {
					t.Errorf("an import answered %d", po.status)
				}
				if po.size > maxBody && enforced {
					t.Errorf("an import of %d bytes was accepted by a node that refuses more than %d", po.size, maxBody)
				}
				if tc.chunk > 0 && po.size > tc.chunk {
					t.Errorf("an import of %d bytes, over the chunk of %d", po.size, tc.chunk)
				}
			}
			t.Logf("%d imports (%d refused for their size), %d bytes imported", len(posts), refused, total)
			if total < 3*maxBody {
				t.Fatalf("the test's document is too small to need splitting: %d bytes imported", total)
			}
			proxy.mu.Lock()
			puts := proxy.puts
			proxy.mu.Unlock()
			if puts > 0 {
				t.Errorf("%d topic permissions were PUT one by one: the test wants them imported", puts)
			}
			if tc.refusals != (refused > 0) {
				t.Errorf("refused imports: %d, want some: %v", refused, tc.refusals)
			}
			if after, text := diff(t, c, desired, acting); !after.Empty() {
				t.Fatalf("diff after the apply is not empty:\n%s", text)
			}
		})
	}
}

// splitUsers hold the topic permissions of TestImportSplitsLargeBodies.
var splitUsers = []string{"split-user", "split-user-b", "split-user-c"}

func comma(i int) string {
	if i == 0 {
		return ""
	}
	return ","
}

type post struct{ size, status int }

type bodyProxy struct {
	url  string
	mu   sync.Mutex
	log  []post
	puts int // PUTs of one topic permission
}

func (p *bodyProxy) posts() []post {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]post(nil), p.log...)
}

// bodyRecorder is a proxy to the node that records the size of each
// import's body and the broker's answer.
func bodyRecorder(t *testing.T, n *rabbitmqtest.Node) *bodyProxy {
	u, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &bodyProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPut && strings.HasPrefix(req.URL.Path, "/api/topic-permissions/") {
			p.mu.Lock()
			p.puts++
			p.mu.Unlock()
		}
		if req.Method != http.MethodPost || req.URL.Path != "/api/definitions" {
			rp.ServeHTTP(w, req)
			return
		}
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(strings.NewReader(string(body)))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(sw, req)
		p.mu.Lock()
		p.log = append(p.log, post{size: len(body), status: sw.status})
		p.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
