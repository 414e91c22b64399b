package rabbitmqtest

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// A Front stands in front of a node's management API, passing every
// request through, and kills the node (kill -9) when a request matches:
// so a test can kill a node at a chosen point of what warren does. From
// the kill on it behaves as the dead node does: the connection in flight
// is cut (no answer, not a 502), and new connections are refused.
type Front struct {
	// URL is the front's address, to give warren instead of the node's.
	URL string
	// Killed is closed once the node is dead.
	Killed chan struct{}

	node    *Node
	match   func(*http.Request) bool
	delay   time.Duration
	onKill  func()
	srv     *http.Server
	proxy   *httputil.ReverseProxy
	trigger sync.Once
	kill    sync.Once
}

// FrontOptions say when a Front kills its node.
type FrontOptions struct {
	// Match picks the request that kills the node.
	Match func(*http.Request) bool
	// Delay, when set, lets the node have the request and work on it this
	// long before the kill (an import dies half done); 0 kills the node
	// before the request reaches it.
	Delay time.Duration
	// OnKill, when set, runs right after the node died, before the
	// connection in flight is cut: a test can look at the cluster then.
	OnKill func()
}

// NewFront puts a Front before node. Close it at the end of the test.
func NewFront(node *Node, opts FrontOptions) (*Front, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	target, _ := url.Parse(node.URL)
	f := &Front{URL: "http://" + l.Addr().String(), Killed: make(chan struct{}), node: node,
		match: opts.Match, delay: opts.Delay, onKill: opts.OnKill}
	f.proxy = httputil.NewSingleHostReverseProxy(target)
	f.proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { cut(w) }
	f.srv = &http.Server{Handler: f}
	go f.srv.Serve(l)
	return f, nil
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-f.Killed:
		cut(w)
		return
	default:
	}
	matched := false
	if f.match != nil && f.match(r) {
		f.trigger.Do(func() { matched = true })
	}
	if !matched {
		f.proxy.ServeHTTP(w, r)
		return
	}
	if f.delay == 0 {
		f.killNode()
		cut(w)
		return
	}
	timer := time.AfterFunc(f.delay, f.killNode)
	defer timer.Stop()
	f.proxy.ServeHTTP(w, r)
}

// killNode kills the node, runs OnKill, then stops the front: every
// connection is closed and the port refuses new ones.
func (f *Front) killNode() {
	f.kill.Do(func() {
		f.node.Kill()
		close(f.Killed)
		if f.onKill != nil {
			f.onKill()
		}
		go f.srv.Close()
	})
}

// cut closes the client's connection without an answer.
func cut(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Close stops the front (the node is left as it is).
func (f *Front) Close() error { return f.srv.Close() }
