package rabbitmq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/warren-tool/warren/seeders/internal/httpapi"
)

// Message counts that warren acts on come from the queue itself, over
// AMQP 0-9-1: a passive queue.declare answers with the number of messages
// ready in the queue and its consumers, at that moment. The management
// API's statistics are emitted every few seconds (a queue declared and
// filled a moment ago shows none, or an old number) and are absent when
// the node runs with management_agent.disable_metrics_collector.
//
// Two things a passive declare does not say: the unacknowledged messages
// that consumers hold (deleting the queue destroys them too), and a
// stream's length (it answers 0 for a stream that holds messages, on
// 3.10.8 and 4.3.6 alike). A queue with consumers, and a stream the
// statistics do not show as holding messages, have an unknown count.

// Count is what warren knows of the messages in a queue.
type Count struct {
	Messages int64 // known to be at least this many
	Known    bool  // Messages is the number the queue holds
	Why      string
	// NoAccess: the count could not be read because the user has no
	// permission on the vhost; an apply that deletes the vhost borrows
	// access first, and counts then.
	NoAccess bool
}

// amqpTarget is where the broker's AMQP 0-9-1 listener is.
type amqpTarget struct {
	addr  string      // host:port
	tls   *tls.Config // nil for plain AMQP
	guess bool        // the default port: the node listed no listeners
}

// amqpState is the AMQP listener found once per client, shared by the
// copies As makes.
type amqpState struct {
	once   sync.Once
	target amqpTarget
	err    error
	// unreachable is the first failure to reach the listener at all (no
	// answer, refused, TLS): each vhost's count would wait for it again.
	mu          sync.Mutex
	unreachable error
}

// amqpListener finds the AMQP listener: Config.AMQPURL when given, else
// the listener that GET /api/overview lists for the node that answered,
// at the management URL's host. Credentials never go in clear over AMQP
// when the management API is reached over TLS: an https URL needs an
// amqp/ssl listener (or Config.AMQPURL).
// GET /api/overview
func (c *Client) amqpListener(ctx context.Context) (amqpTarget, error) {
	c.amqp.once.Do(func() {
		c.amqp.target, c.amqp.err = c.findAMQPListener(ctx)
	})
	return c.amqp.target, c.amqp.err
}

func (c *Client) findAMQPListener(ctx context.Context) (amqpTarget, error) {
	if raw := c.cfg.AMQPURL; raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
			return amqpTarget{}, fmt.Errorf("rabbitmq: %q is not an amqp:// or amqps:// URL", raw)
		}
		if u.User != nil {
			return amqpTarget{}, fmt.Errorf("rabbitmq: put credentials in --username and WARREN_PASSWORD, not in the AMQP URL %s", u.Redacted())
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"amqp": "5672", "amqps": "5671"}[u.Scheme]
		}
		t := amqpTarget{addr: net.JoinHostPort(u.Hostname(), port)}
		if u.Scheme == "amqps" {
			t.tls = c.tlsFor(u.Hostname())
		}
		return t, nil
	}
	var ov struct {
		Node      string `json:"node"`
		Listeners []struct {
			Node     string `json:"node"`
			Protocol string `json:"protocol"`
			Port     int    `json:"port"`
		} `json:"listeners"`
	}
	if err := c.getJSON(ctx, "/api/overview", &ov); err != nil {
		return amqpTarget{}, err
	}
	base := c.bases[c.cur.Load()]
	want := "amqp"
	if base.Scheme == "https" {
		want = "amqp/ssl"
	}
	for _, l := range ov.Listeners {
		if l.Node != ov.Node || l.Protocol != want || l.Port <= 0 {
			continue
		}
		t := amqpTarget{addr: net.JoinHostPort(base.Hostname(), strconv.Itoa(l.Port))}
		if want == "amqp/ssl" {
			t.tls = c.tlsFor(base.Hostname())
		}
		return t, nil
	}
	if len(ov.Listeners) == 0 {
		// A node whose metrics collector is off (management_agent.
		// disable_metrics_collector) lists none: try the default port.
		port, t := "5672", amqpTarget{guess: true}
		if want == "amqp/ssl" {
			port, t.tls = "5671", c.tlsFor(base.Hostname())
		}
		t.addr = net.JoinHostPort(base.Hostname(), port)
		return t, nil
	}
	if want == "amqp/ssl" {
		return amqpTarget{}, fmt.Errorf("node %s lists no amqp/ssl listener, and the management API is reached over TLS (give --amqp-url)", ov.Node)
	}
	return amqpTarget{}, fmt.Errorf("node %s lists no AMQP 0-9-1 listener (give --amqp-url)", ov.Node)
}

// tlsFor is the client's TLS configuration for a server name.
func (c *Client) tlsFor(host string) *tls.Config {
	t := c.tls.Clone()
	t.ServerName = host
	return t
}

// QueueCounts reads, over one AMQP connection to the vhost, the message
// count of each queue named (by name, its type and the count the
// statistics show, nil when they show none). A queue that is gone is
// left out. An error is returned only for a ctx that ends; a count that
// cannot be read is an unknown Count that says why.
func (c *Client) QueueCounts(ctx context.Context, vhost string, queues []QueueStat) (map[string]Count, error) {
	out := make(map[string]Count, len(queues))
	var conn *amqp.Connection
	var connErr error
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for _, q := range queues {
		if q.Type == "stream" {
			// Passive declare answers 0; the statistics lag but never
			// overstate a stream, which only grows until its retention.
			if q.Stat != nil && *q.Stat > 0 {
				out[q.Name] = Count{Messages: *q.Stat, Why: "a stream's length is known only from the statistics, which may lag"}
			} else {
				out[q.Name] = Count{Why: "a stream's length cannot be read exactly, and the statistics show none"}
			}
			continue
		}
		if conn == nil && connErr == nil {
			conn, connErr = c.dialAMQP(ctx, vhost)
		}
		if connErr != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ae *amqp.Error
			noAccess := errors.As(connErr, &ae) && (ae.Code == amqp.NotAllowed || ae.Code == amqp.AccessRefused)
			out[q.Name] = Count{Why: "its count could not be read over AMQP: " + connErr.Error(), NoAccess: noAccess}
			continue
		}
		n, consumers, err := passiveCount(conn, q.Name)
		var ae *amqp.Error
		switch {
		case errors.As(err, &ae) && ae.Code == amqp.NotFound:
			continue // gone
		case err != nil:
			out[q.Name] = Count{Why: "its count could not be read over AMQP: " + c.secrets.Mask(err.Error())}
			if conn.IsClosed() {
				conn, connErr = nil, nil
			}
		case consumers > 0:
			out[q.Name] = Count{Messages: n, Why: fmt.Sprintf("it has %d %s, which may hold unacknowledged messages", consumers, map[bool]string{true: "consumer", false: "consumers"}[consumers == 1])}
		default:
			out[q.Name] = Count{Messages: n, Known: true}
		}
	}
	return out, nil
}

// QueueStat is a queue as the management API lists it.
type QueueStat struct {
	Name string
	Type string // "classic", "quorum", "stream"; "" for 3.x classic
	Stat *int64 // the statistics' message count, nil when absent
}

// passiveCount declares a queue passively on a channel of its own (a
// failed declare closes the channel).
func passiveCount(conn *amqp.Connection, name string) (messages int64, consumers int, err error) {
	ch, err := conn.Channel()
	if err != nil {
		return 0, 0, err
	}
	defer ch.Close()
	q, err := ch.QueueDeclarePassive(name, false, false, false, false, nil)
	if err != nil {
		return 0, 0, err
	}
	return int64(q.Messages), q.Consumers, nil
}

// dialAMQP opens an AMQP 0-9-1 connection to a vhost as the client's
// user. The broker's error text is kept out (it can quote the user), and
// the password never appears in an error.
func (c *Client) dialAMQP(ctx context.Context, vhost string) (*amqp.Connection, error) {
	t, err := c.amqpListener(ctx)
	if err != nil {
		return nil, err
	}
	c.amqp.mu.Lock()
	unreachable := c.amqp.unreachable
	c.amqp.mu.Unlock()
	if unreachable != nil {
		return nil, unreachable
	}
	timeout := min(c.cfg.Timeout, 15*time.Second)
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	cfg := amqp.Config{
		SASL:            []amqp.Authentication{&amqp.PlainAuth{Username: c.cfg.Username, Password: c.cfg.Password}},
		Vhost:           vhost,
		TLSClientConfig: t.tls,
		Heartbeat:       10 * time.Second,
		Locale:          "en_US",
		Properties:      amqp.Table{"connection_name": "warren"},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: timeout}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}
	scheme := "amqp"
	if t.tls != nil {
		scheme = "amqps"
	}
	u := scheme + "://" + t.addr + "/"
	conn, err := amqp.DialConfig(u, cfg)
	if err != nil {
		hint := ""
		if t.guess {
			hint = " (the management API lists no AMQP listener, so warren tried the default port; give --amqp-url)"
		}
		var ae *amqp.Error
		if errors.As(err, &ae) {
			return nil, &amqpDialError{msg: fmt.Sprintf("AMQP %s: %d %s%s", t.addr, ae.Code, c.secrets.Mask(amqpReason(ae)), hint), err: ae}
		}
		err = fmt.Errorf("AMQP %s: %v%s", t.addr, c.secrets.Mask(httpapi.Printable(err.Error())), hint)
		if ctx.Err() == nil {
			c.amqp.mu.Lock()
			c.amqp.unreachable = err
			c.amqp.mu.Unlock()
		}
		return nil, err
	}
	return conn, nil
}

// amqpReason is an AMQP error's reason without the part that names the
// user or vhost.
func amqpReason(e *amqp.Error) string {
	switch e.Code {
	case amqp.AccessRefused:
		return "access refused (wrong password, or no permission on the vhost)"
	case amqp.NotAllowed:
		return "not allowed (no access to the vhost)"
	}
	return httpapi.Printable(e.Reason)
}

// amqpDialError is a refused AMQP connection, in words that never quote
// the broker (its reason can name the user), with the broker's code kept
// for errors.As.
type amqpDialError struct {
	msg string
	err *amqp.Error
}

func (e *amqpDialError) Error() string { return e.msg }
func (e *amqpDialError) Unwrap() error { return e.err }
