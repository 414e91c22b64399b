package rabbitmq

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/internal/httpapi"
)

// Config says how to reach a broker's management API.
type Config struct {
	// URLs of the nodes of one cluster; they are tried in turn when one
	// does not answer.
	URLs     []string
	Username string
	Password string
	// CACert is a PEM file of the CAs that sign the server's certificate;
	// "" means the system's.
	CACert string
	// ClientCert and ClientKey are PEM files for TLS client authentication.
	ClientCert, ClientKey string
	// Insecure skips verifying the server's certificate.
	Insecure bool
	// Timeout bounds each request; 0 means 60s.
	Timeout time.Duration
	// ImportTimeout bounds an import (POST /api/definitions), which is the
	// broker's own work on every object at once: 41,200 objects took 38 s to
	// 135 s on a loaded 2-core machine. 0 means DefaultImportTimeout; never
	// less than Timeout.
	ImportTimeout time.Duration
	// Retries is how many times a request that is safe to repeat is tried
	// again after a connection error or a 5xx answer; 0 means 3.
	Retries int
	// MaxAnswer bounds the answer of a whole listing (GET /api/definitions,
	// /api/queues, …); 0 means DefaultMaxAnswer. Answers about one object
	// are bounded by MaxObjectAnswer (or MaxAnswer when smaller).
	MaxAnswer int64
	// ImportChunk bounds the body of one import (POST /api/definitions):
	// an apply with more to import sends several; 0 means
	// DefaultImportChunk. A broker refuses a body over its
	// management.http.max_body_size, 20,000,000 bytes by default.
	ImportChunk int
	// AMQPURL (amqp://host:port or amqps://host:port) is where the broker's
	// AMQP 0-9-1 listener is, for reading queues' message counts; ""
	// finds it through GET /api/overview.
	AMQPURL string
}

// The bounds on what warren reads of an answer: a broker (or whatever
// answers in its place) cannot make warren run out of memory.
const (
	DefaultMaxAnswer = 512 << 20
	MaxObjectAnswer  = 16 << 20
	// DefaultImportChunk keeps an import well under the broker's default
	// limit on a request's body, and short: the import of 412,000 objects
	// (55 MB) in one request took 8 min 45 s on a 2-core machine, longer
	// than the broker keeps an idle connection.
	DefaultImportChunk = 8 << 20
)

// Client talks to the management API. Its methods return errors, never
// *http.Response; an error from the broker is an *APIError.
type Client struct {
	cfg   Config
	bases []*url.URL
	http  *http.Client
	slow  *http.Client  // for imports: the same transport, ImportTimeout
	cur   *atomic.Int64 // the URL that answered last; requests run concurrently
	clock *brokerClock  // the broker's time, from its answers' Date
	tls   *tls.Config   // the management API's, for AMQP over TLS too
	amqp  *amqpState
	// secrets are the values of the secrets warren resolved (Conceal),
	// shared by the Client's copies (As): every text of the broker's is
	// masked by them, and by URI shape, where APIError is made.
	secrets *httpapi.Secrets
}

// DefaultImportTimeout bounds an import when Config.ImportTimeout is 0.
const DefaultImportTimeout = 30 * time.Minute

// New checks cfg and makes a Client. It does not connect.
func New(cfg Config) (*Client, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("rabbitmq: no management URL")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	cfg.ImportTimeout = max(cmp.Or(cfg.ImportTimeout, DefaultImportTimeout), cfg.Timeout)
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.MaxAnswer <= 0 {
		cfg.MaxAnswer = DefaultMaxAnswer
	}
	c := &Client{cfg: cfg, cur: new(atomic.Int64), clock: &brokerClock{}, amqp: &amqpState{}, secrets: &httpapi.Secrets{}}
	for _, raw := range cfg.URLs {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("rabbitmq: %q is not an http:// or https:// URL", raw)
		}
		if u.User != nil {
			return nil, fmt.Errorf("rabbitmq: put credentials in --username and WARREN_PASSWORD, not in the URL %s", u.Redacted())
		}
		c.bases = append(c.bases, u)
	}
	tlsConf := &tls.Config{InsecureSkipVerify: cfg.Insecure, MinVersion: tls.VersionTLS12}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("rabbitmq: reading --ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("rabbitmq: --ca-cert %s holds no PEM certificate", cfg.CACert)
		}
		tlsConf.RootCAs = pool
	}
	if cfg.ClientCert != "" || cfg.ClientKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("rabbitmq: loading --client-cert/--client-key: %w", err)
		}
		tlsConf.Certificates = []tls.Certificate{cert}
	}
	c.tls = tlsConf
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConf
	transport.MaxIdleConnsPerHost = putWorkers // the most requests an apply has in flight
	// Redirects are never followed: a 307 would send the body (with every
	// user's password, on an import) and the credentials to another place.
	c.http = &http.Client{Transport: transport, Timeout: cfg.Timeout,
		CheckRedirect: httpapi.NoRedirects}
	c.slow = &http.Client{Transport: transport, Timeout: cfg.ImportTimeout, CheckRedirect: c.http.CheckRedirect}
	return c, nil
}

// importChunk is Config.ImportChunk or its default.
func (c *Client) importChunk() int {
	if c.cfg.ImportChunk > 0 {
		return c.cfg.ImportChunk
	}
	return DefaultImportChunk
}

// URL returns the base URL of the node that answered last.
func (c *Client) URL() string { return c.bases[c.cur.Load()].String() }

// Username returns the user the client logs in as.
func (c *Client) Username() string { return c.cfg.Username }

// APIError is an error answer of the management API, with the broker's
// own reason.
type APIError struct {
	Method string
	Path   string // as sent, escaped
	Status int
	Type   string // the body's "error"
	Reason string // the body's "reason"
	User   string
}

func (e *APIError) Error() string {
	where := fmt.Sprintf("rabbitmq: %s %s", e.Method, e.Path)
	if e.Status == http.StatusUnauthorized {
		if strings.Contains(strings.ToLower(e.Reason), "access refused") {
			return fmt.Sprintf("%s: user %q was refused access (401 %s): it needs permissions on the vhost", where, e.User, e.Reason)
		}
		// RabbitMQ 3.10.8 and 4.0.5: "Not administrator user" and "User not
		// authorised to access object" (a management or monitoring user),
		// "Not management user" (no tag): the password was right.
		reason := strings.ToLower(e.Reason)
		if strings.Contains(reason, "administrator") || strings.Contains(reason, "not management") || strings.Contains(reason, "not authorised to access") {
			return fmt.Sprintf("%s: user %q is not an administrator; warren needs the administrator tag (401 %s)", where, e.User, e.Reason)
		}
		return fmt.Sprintf("%s: user %q could not log in: wrong user name or password (401 %s)", where, e.User, cmp.Or(e.Reason, e.Type))
	}
	msg := e.Type
	if e.Reason != "" && e.Reason != e.Type {
		msg += ": " + e.Reason
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s: %d %s", where, e.Status, msg)
}

// NotFound reports whether err is a 404 answer.
func NotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// safe reports whether a request may be sent again after it may have
// reached the broker: GET, PUT and DELETE are idempotent.
func safe(method string) bool {
	return method == http.MethodGet || method == http.MethodPut || method == http.MethodDelete
}

// resendable reports whether a request whose connection broke (the node
// died, or the network cut it) may be sent again, to the same node or
// another of the cluster: a safe one, and an import (POST
// /api/definitions), which puts each object it names into the state it
// gives however much of it the node had done. An import that the broker
// answered with an error is not repeated.
func resendable(method, path string) bool {
	return safe(method) || (method == http.MethodPost && path == "/api/definitions")
}

// do sends a request to the first node that answers. path is escaped
// already (segments through url.PathEscape; the vhost / is %2F). A body
// that is not nil is sent as JSON; out, when not nil, receives the JSON
// answer (a *[]byte receives the answer as it came; a streamAnswer reads
// it as it arrives).
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	if err := checkPath(method, path); err != nil {
		return err
	}
	// A negative Retries is none, never no attempt.
	return httpapi.Retry(ctx, 1+max(c.cfg.Retries, 0), httpapi.Doubling(200*time.Millisecond), func() (bool, error) {
		return c.once(ctx, method, path, body, out)
	})
}

// once tries each node once, starting with the one that answered last. It
// says whether the request may be tried again.
func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) (retry bool, err error) {
	start := int(c.cur.Load())
	var lastErr error
	for i := range c.bases {
		idx := (start + i) % len(c.bases)
		resp, err := c.send(ctx, c.bases[idx], method, path, body)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			// A refused connection never reached the broker, so even a POST
			// may go to the next node; anything else only if it may be sent
			// again.
			if !httpapi.Refused(err) && !resendable(method, path) {
				return false, fmt.Errorf("rabbitmq: %s %s: %w", method, path, err)
			}
			lastErr = fmt.Errorf("rabbitmq: %s %s: %w", method, path, err)
			continue
		}
		c.cur.Store(int64(idx))
		c.clock.observe(resp.Header.Get("Date"))
		defer resp.Body.Close()
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return false, httpapi.RedirectError(resp, "rabbitmq", c.bases[idx], path, "--url")
		}
		limit := c.answerLimit(path)
		if stream, ok := out.(streamAnswer); ok && resp.StatusCode < 300 {
			body := &boundedBody{r: resp.Body, left: limit}
			err := stream(body)
			switch {
			case body.err != nil:
				return resendable(method, path), fmt.Errorf("rabbitmq: %s %s: reading the answer: %w", method, path, body.err)
			case body.left < 0:
				return false, c.tooLarge(method, path, limit, idx)
			}
			return false, err
		}
		data, over, rerr := httpapi.ReadBounded(resp.Body, resp.ContentLength, limit)
		if rerr != nil {
			return resendable(method, path), fmt.Errorf("rabbitmq: %s %s: reading the answer: %w", method, path, rerr)
		}
		if over {
			return false, c.tooLarge(method, path, limit, idx)
		}
		if resp.StatusCode >= 300 {
			ae := &APIError{Method: method, Path: path, Status: resp.StatusCode, User: c.cfg.Username}
			var eb struct{ Error, Reason string }
			if json.Unmarshal(data, &eb) == nil {
				// A broker repeats what it refuses, a URI with its
				// password included: masked before anything can show it.
				ae.Type, ae.Reason = httpapi.Printable(c.secrets.Mask(eb.Error)), httpapi.Printable(c.secrets.Mask(eb.Reason))
			}
			return resp.StatusCode >= 500 && safe(method), ae
		}
		if raw, ok := out.(*[]byte); ok {
			*raw = data // undecoded: the caller decodes it
			return false, nil
		}
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return false, fmt.Errorf("rabbitmq: %s %s: the answer is not the JSON expected: %w", method, path, err)
			}
		}
		return false, nil
	}
	// No node answered: the error is the last one's, never nil.
	return true, lastErr
}

// tooLarge is the error for an answer larger than limit.
func (c *Client) tooLarge(method, path string, limit int64, idx int) error {
	return fmt.Errorf("rabbitmq: %s %s: the answer is larger than %d MiB; warren stops reading there (is %s a RabbitMQ management API?)", method, path, limit>>20, c.bases[idx].Redacted())
}

// A streamAnswer reads a 2xx answer as it arrives, instead of whole: do
// hands it the body, which ends in an error past the answer's limit. It
// is called afresh on each attempt, so it must start from nothing each
// time. Its error is do's, except when the body could not be read (the
// connection broke: the request is tried again as any other) or was too
// large.
type streamAnswer func(body io.Reader) error

// errTooLarge ends a body past the answer's limit.
var errTooLarge = errors.New("rabbitmq: the answer is larger than the limit")

// boundedBody reads an answer up to left bytes, and records the error of
// the connection apart from what its reader makes of the bytes.
type boundedBody struct {
	r    io.Reader
	left int64 // bytes that may still be read; < 0 once past the limit
	err  error // the connection's error, io.EOF aside
}

// charge counts n more bytes against the limit without reading them:
// what decoding the answer keeps in memory beyond its bytes (an object of
// the model per element), so that the limit bounds memory and not only
// what is read.
func (b *boundedBody) charge(n int64) {
	if b.left >= 0 {
		b.left = max(b.left-n, -1)
	}
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	if len(p) == 0 {
		// One byte past the limit: there is more, or the answer ends
		// exactly there.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			b.left = -1
			return 0, errTooLarge
		}
		if err != nil && err != io.EOF {
			b.err = err
		}
		return 0, err
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (c *Client) send(ctx context.Context, base *url.URL, method, path string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base.String()+path, r)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost && strings.HasPrefix(path, "/api/definitions") {
		return c.slow.Do(req)
	}
	return c.http.Do(req)
}

// listings are the endpoints that list every object of a kind.
var listings = []string{"/api/users", "/api/vhosts", "/api/permissions", "/api/topic-permissions", "/api/parameters",
	"/api/global-parameters", "/api/policies", "/api/queues", "/api/exchanges", "/api/bindings"}

// answerLimit is how much of an answer warren reads: a listing
// (/api/definitions, /api/users, …) up to MaxAnswer, one object less.
func (c *Client) answerLimit(path string) int64 {
	p, _, _ := strings.Cut(path, "?")
	if strings.HasPrefix(p, "/api/definitions") || slices.Contains(listings, p) {
		return c.cfg.MaxAnswer
	}
	return min(c.cfg.MaxAnswer, MaxObjectAnswer)
}

// checkPath refuses a path with a dot segment ("." or "..", also once
// decoded): the broker's web server resolves them, so a vhost named ".."
// would make DELETE /api/topic-permissions/../users/X delete user X.
func checkPath(method, path string) error {
	p, _, _ := strings.Cut(path, "?")
	for _, seg := range strings.Split(p, "/") {
		if seg != "" && definitions.DotSegment(seg) {
			name, err := url.PathUnescape(seg)
			if err != nil {
				name = seg
			}
			return fmt.Errorf("rabbitmq: refusing to send %s %s: the name %q is a dot segment, which the broker would resolve to another object", method, path, name)
		}
	}
	return nil
}

// esc escapes one path segment: a vhost or user name ("/" becomes %2F).
func esc(s string) string { return url.PathEscape(s) }

// getJSON is do for GET.
func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

// Whoami is the user the client is logged in as.
type Whoami struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// Whoami says who the client is logged in as.
// GET /api/whoami
func (c *Client) Whoami(ctx context.Context) (Whoami, error) {
	var w Whoami
	err := c.getJSON(ctx, "/api/whoami", &w)
	return w, err
}

// Overview is what warren reads of GET /api/overview.
type Overview struct {
	RabbitMQVersion   string `json:"rabbitmq_version"`
	ManagementVersion string `json:"management_version"`
	ProductName       string `json:"product_name"`
	ClusterName       string `json:"cluster_name"`
	Node              string `json:"node"`
	// DefaultQueueType is the node's (4.x; 3.x says none).
	DefaultQueueType string `json:"default_queue_type"`
}

// Overview describes the broker.
// GET /api/overview
func (c *Client) Overview(ctx context.Context) (Overview, error) {
	var o Overview
	err := c.getJSON(ctx, "/api/overview", &o)
	return o, err
}

// Identity names the cluster beyond its URL: its internal_cluster_id (a
// global parameter RabbitMQ sets once, when the cluster forms) and its
// cluster_name (GET /api/overview). A saved plan is applied only to the
// cluster it was made against.
// GET /api/global-parameters/internal_cluster_id
func (c *Client) Identity(ctx context.Context) (map[string]string, error) {
	ov, err := c.Overview(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"cluster_name": ov.ClusterName}
	id, ok, err := c.clusterID(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		out["internal_cluster_id"] = fmt.Sprint(id)
	}
	return out, nil
}

// clusterID reads the internal_cluster_id global parameter; ok is false
// where the broker has none.
// GET /api/global-parameters/internal_cluster_id
func (c *Client) clusterID(ctx context.Context) (id any, ok bool, err error) {
	var p struct {
		Value any `json:"value"`
	}
	switch err := c.getJSON(ctx, "/api/global-parameters/internal_cluster_id", &p); {
	case NotFound(err):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return p.Value, true, nil
}

// Definitions returns the broker's definitions as it exports them.
// GET /api/definitions
func (c *Client) Definitions(ctx context.Context) ([]byte, error) {
	// Read as it came and checked, not decoded into a json.RawMessage,
	// which would copy it (512 MiB at the answer limit).
	var raw []byte
	if err := c.getJSON(ctx, "/api/definitions", &raw); err != nil {
		return nil, err
	}
	if len(raw) > 0 && !json.Valid(raw) {
		return nil, errors.New("rabbitmq: GET /api/definitions: the answer is not the JSON expected")
	}
	return raw, nil
}

// VhostInfo is what warren reads of a vhost in GET /api/vhosts.
type VhostInfo struct {
	Name             string          `json:"name"`
	Description      string          `json:"description"`
	Tags             json.RawMessage `json:"tags"` // a list, or a string on old versions
	DefaultQueueType string          `json:"default_queue_type"`
	Tracing          bool            `json:"tracing"`
}

// Vhosts lists the vhosts with their metadata, which RabbitMQ 3.10's
// definitions export leaves out.
// GET /api/vhosts
func (c *Client) Vhosts(ctx context.Context) ([]VhostInfo, error) {
	var out []VhostInfo
	err := c.getJSON(ctx, "/api/vhosts?columns=name,description,tags,default_queue_type,tracing", &out)
	return out, err
}

// PostDefinitions imports a (partial) definitions document: objects in it
// are created or overwritten, others are left alone.
// POST /api/definitions
func (c *Client) PostDefinitions(ctx context.Context, body []byte) error {
	return c.do(ctx, http.MethodPost, "/api/definitions", body, nil)
}

// As returns a client for the same broker that logs in as another user.
func (c *Client) As(user, password string) *Client {
	other := *c
	other.cfg.Username, other.cfg.Password = user, password
	return &other
}

// Healthy checks that the broker answers and raises no alarm.
// GET /api/health/checks/alarms
func (c *Client) Healthy(ctx context.Context) error {
	return c.getJSON(ctx, "/api/health/checks/alarms", nil)
}
