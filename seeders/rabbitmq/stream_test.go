package rabbitmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// countingTransport counts the bytes of answers' bodies read through it.
type countingTransport struct {
	next http.RoundTripper
	read *atomic.Int64
}

func (ct countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := ct.next.RoundTrip(r)
	if err == nil {
		resp.Body = countingBody{resp.Body, ct.read}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	read *atomic.Int64
}

func (cb countingBody) Read(p []byte) (int, error) {
	n, err := cb.ReadCloser.Read(p)
	cb.read.Add(int64(n))
	return n, err
}

// heapObjects is the memory the heap's objects hold, live or not yet
// collected.
func heapObjects() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// A listing larger than the limit is refused, and read as it arrives on
// the way: warren never holds the answer whole. The answer here never
// ends (plain HTTP, no broker: no RabbitMQ answers so); it lists the
// default exchange's implicit bindings, which the fast path drops one by
// one, so the heap has no reason to grow with the answer.
func TestListingPastTheLimitIsRefusedAsItArrives(t *testing.T) {
	const limit = 64 << 20
	elem := []byte(`{"source":"","vhost":"/","destination":"q","destination_type":"queue","routing_key":"q","arguments":{}},`)
	chunk := bytes.Repeat(elem, (64<<10)/len(elem))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("["))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := New(Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Timeout: time.Minute, MaxAnswer: limit})
	if err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	c.http.Transport = countingTransport{c.http.Transport, &read}

	runtime.GC()
	base := heapObjects()
	var peak atomic.Int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), heapObjects()))
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	_, err = c.ReadKinds(context.Background(), []definitions.Kind{definitions.KindBinding})
	close(done)
	<-sampled
	if err == nil || !strings.Contains(err.Error(), "GET /api/bindings") || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Fatalf("an endless listing: got %v, want an error about its size", err)
	}
	if n := read.Load(); n > limit+1 {
		t.Errorf("warren read %d bytes of the answer, past the limit of %d", n, limit)
	}
	grew := peak.Load() - base
	t.Logf("read %d MiB of the answer; the heap grew by at most %d MiB", read.Load()>>20, grew>>20)
	if grew > limit/2 {
		t.Errorf("the heap grew by %d MiB while a listing was read up to its limit of %d MiB: the answer was held, not streamed", grew>>20, limit>>20)
	}
}

// rewritingFront stands before a real node and passes its answers on,
// except that rewrite may change the answers to GETs of path (each whole).
func rewritingFront(t *testing.T, n *rabbitmqtest.Node, path string, rewrite func(call int, body []byte) io.Reader) (*Client, *atomic.Int32) {
	t.Helper()
	target, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Accept-Encoding") // answers to rewrite come plain
	}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || resp.Request.URL.Path != path || resp.StatusCode != http.StatusOK {
			return nil
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(rewrite(int(calls.Add(1)), data))
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		return nil
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a cut answer is on purpose
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	c, err := New(Config{URLs: []string{srv.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return c, &calls
}

// manyUsers makes 2,000 users on the node: a listing of a few hundred
// kilobytes, far more than a decoder reads at once.
func manyUsers(t *testing.T, n *rabbitmqtest.Node) {
	t.Helper()
	users := make([]map[string]any, 2000)
	for i := range users {
		users[i] = map[string]any{"name": fmt.Sprintf("user-%04d", i), "password_hash": "", "tags": []string{"monitoring"}}
	}
	if err := n.Do(context.Background(), "POST", "/api/definitions", map[string]any{"users": users}, nil); err != nil {
		t.Fatal(err)
	}
}

// When the fast path gives up halfway through a listing (here a field it
// does not know, as a newer broker might add, on one user deep in the real
// node's answer), the listing is read again and the slow path's result is
// the result: nothing of what the fast path had decoded stays.
func TestFastPathGivesUpMidStream(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	manyUsers(t, n)
	const marker = `"name":"user-1500"`
	c, calls := rewritingFront(t, n, "/api/users", func(_ int, body []byte) io.Reader {
		if i := bytes.Index(body, []byte(marker)); i < 64<<10 {
			t.Errorf("user-1500 is at byte %d of the listing, want it deep in the answer", i)
		}
		return bytes.NewReader(bytes.Replace(body, []byte(marker), []byte(marker+`,"new_in_5":true`), 1))
	})
	slowBefore := slowDecodes.Load()
	got, err := c.ReadKinds(context.Background(), []definitions.Kind{definitions.KindUser})
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the listing was read %d times, want 2 (the fast path, then the slow one)", n)
	}
	if n := slowDecodes.Load() - slowBefore; n != 1 {
		t.Errorf("slow decodes: %d, want 1", n)
	}
	var data []byte
	if err := c.getJSON(context.Background(), kindEndpoints[definitions.KindUser], &data); err != nil {
		t.Fatal(err)
	}
	want, err := slowDecode(definitions.KindUser, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Users) < 2000 {
		t.Fatalf("the slow path read %d users, want at least 2,000", len(want.Users))
	}
	ignore := cmp.Options{cmpopts.IgnoreFields(definitions.Meta{}, "Origin"), cmpopts.IgnoreUnexported(definitions.Document{})}
	if diff := cmp.Diff(want.ObjectsOf(definitions.KindUser), got.ObjectsOf(definitions.KindUser), ignore); diff != "" {
		t.Errorf("ReadKinds after a give-up differs from the slow path (-slow +got):\n%s", diff)
	}
}

// cutAfter reads r and fails with a broken connection's error after n
// bytes.
type cutAfter struct {
	r io.Reader
	n int
}

func (c *cutAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errors.New("cut")
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

// A listing whose connection breaks halfway is read again, from the
// start, and only the second answer counts: no object of the first is
// kept twice or lost.
func TestListingCutMidStreamIsReadAgain(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	manyUsers(t, n)
	c, calls := rewritingFront(t, n, "/api/users", func(call int, body []byte) io.Reader {
		if call == 1 {
			return &cutAfter{bytes.NewReader(body), len(body) / 2}
		}
		return bytes.NewReader(body)
	})
	slowBefore := slowDecodes.Load()
	got, err := c.ReadKinds(context.Background(), []definitions.Kind{definitions.KindUser})
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the listing was read %d times, want 2", n)
	}
	if n := slowDecodes.Load() - slowBefore; n != 0 {
		t.Errorf("slow decodes: %d, want 0 (the second answer is one the fast path takes)", n)
	}
	direct, err := New(Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want, err := direct.ReadKinds(context.Background(), []definitions.Kind{definitions.KindUser})
	if err != nil {
		t.Fatal(err)
	}
	ignore := cmp.Options{cmpopts.IgnoreFields(definitions.Meta{}, "Origin"), cmpopts.IgnoreUnexported(definitions.Document{})}
	if diff := cmp.Diff(want.Users, got.Users, ignore); diff != "" {
		t.Errorf("ReadKinds through a cut differs from a plain read (-plain +cut):\n%s", diff)
	}
	if len(got.Users) < 2000 {
		t.Errorf("%d users, want at least 2,000", len(got.Users))
	}
}
