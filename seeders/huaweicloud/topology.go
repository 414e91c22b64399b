package huaweicloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// Exchanges, queues and bindings through the DMS API (docs/cloud-apis.md
// §6): created with PUT on a vhost's collection (bindings with POST on an
// exchange's), deleted in batches with POST of a name list (bindings one
// by one, by the properties_key a list gives), never updated: a change is
// a replacement.

// The DMS editions (§6.5), as --edition names them.
const (
	// EditionAMQP is RabbitMQ AMQP-0-9-1: users through DMS, every
	// exchange and queue durable, no internal exchanges, bindings to
	// queues only, no policies.
	EditionAMQP = definitions.HuaweiAMQP
	// Edition3x is RabbitMQ 3.8/3.12: users, permissions and policies
	// through the instance's own management API (--target rabbitmq), not
	// DMS's.
	Edition3x = definitions.Huawei3x
)

// vhostPath is a vhost's prefix: /v2/rabbitmq/{project_id}/instances/
// {instance_id}/vhosts/{vhost}, where "/" in the vhost is written
// __F_SLASH__ (§3.3).
func (c *Client) vhostPath(vhost string) string {
	return c.vhostsPath() + "/" + seg(strings.ReplaceAll(vhost, "/", "__F_SLASH__"))
}

// seg percent-encodes a path segment: names may hold "/" and "%" (§6.4).
func seg(s string) string { return url.PathEscape(s) }

// builtinExchange reports the exchanges a vhost has of itself (§6.5): the
// default exchange, which cannot be addressed, and amq.*.
func builtinExchange(name string) bool {
	return name == "" || name == "(AMQP default)" || strings.HasPrefix(name, "amq.")
}

type exchangeItem struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Internal   bool           `json:"internal"`
	Arguments  map[string]any `json:"arguments"`
}

type queueItem struct {
	Name       string `json:"name"`
	Durable    bool   `json:"durable"`
	AutoDelete bool   `json:"auto_delete"`
	Messages   int    `json:"messages"`
	Arguments  struct {
		TTL   *int64  `json:"x-message-ttl"`
		DLX   *string `json:"x-dead-letter-exchange"`
		DLKey *string `json:"x-dead-letter-routing-key"`
		Mode  *string `json:"x-queue-mode"`
	} `json:"arguments"`
}

type bindingItem struct {
	Source          string `json:"source"`
	DestinationType string `json:"destination_type"`
	Destination     string `json:"destination"`
	RoutingKey      string `json:"routing_key"`
	PropertiesKey   string `json:"properties_key"`
}

// list reads every page of a collection (offset/limit, at most 50).
func list[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var out []T
	for offset := 0; ; {
		var page struct {
			Items []T `json:"items"`
			Total int `json:"total"`
		}
		if err := c.do(ctx, http.MethodGet, path, url.Values{"offset": {fmt.Sprint(offset)}, "limit": {fmt.Sprint(pageSize)}}, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		offset += len(page.Items)
		if len(page.Items) == 0 || offset >= page.Total {
			return out, nil
		}
	}
}

// readTopology adds the exchanges and bindings (with exchanges) and the
// queues (with queues) of every vhost in doc. Built-in exchanges are left
// out, as RabbitMQ's export leaves them; their bindings are read.
func (c *Client) readTopology(ctx context.Context, doc *definitions.Document, exchanges, queues bool) error {
	if exchanges {
		doc.Exchanges, doc.Bindings = []*definitions.Exchange{}, []*definitions.Binding{}
	}
	if queues {
		doc.Queues = []*definitions.Queue{}
	}
	for _, v := range doc.Vhosts {
		if exchanges {
			if err := c.readExchanges(ctx, doc, v.Name); err != nil {
				return err
			}
		}
		if queues {
			// GET …/vhosts/{vhost}/queues
			qs, err := list[queueItem](ctx, c, c.vhostPath(v.Name)+"/queues")
			if err != nil {
				return err
			}
			for _, q := range qs {
				doc.Queues = append(doc.Queues, &definitions.Queue{Vhost: v.Name, Name: q.Name, Type: "classic", Durable: &q.Durable,
					AutoDelete: &q.AutoDelete, Arguments: queueArguments(q)})
			}
		}
	}
	return nil
}

// readExchanges adds a vhost's exchanges and their bindings to doc.
func (c *Client) readExchanges(ctx context.Context, doc *definitions.Document, vhost string) error {
	// GET …/vhosts/{vhost}/exchanges
	xs, err := list[exchangeItem](ctx, c, c.vhostPath(vhost)+"/exchanges")
	if err != nil {
		return err
	}
	for _, x := range xs {
		if x.Name == "" || x.Name == "(AMQP default)" {
			continue // not addressable, and bound to every queue of itself
		}
		// GET …/vhosts/{vhost}/exchanges/{exchange}/binding (no paging)
		var bs struct {
			Items []bindingItem `json:"items"`
		}
		if err := c.do(ctx, http.MethodGet, c.vhostPath(vhost)+"/exchanges/"+seg(x.Name)+"/binding", nil, nil, &bs); err != nil {
			return err
		}
		for _, b := range bs.Items {
			doc.Bindings = append(doc.Bindings, &definitions.Binding{Vhost: vhost, Source: b.Source, DestinationType: strings.ToLower(b.DestinationType),
				Destination: b.Destination, RoutingKey: b.RoutingKey, Arguments: definitions.Table{}})
		}
		if builtinExchange(x.Name) {
			continue
		}
		doc.Exchanges = append(doc.Exchanges, &definitions.Exchange{Vhost: vhost, Name: x.Name, Type: x.Type, Durable: &x.Durable,
			AutoDelete: &x.AutoDelete, Internal: &x.Internal, Arguments: orEmpty(definitions.TableOf(x.Arguments))})
	}
	return nil
}

func orEmpty(t definitions.Table) definitions.Table {
	if t == nil {
		return definitions.Table{}
	}
	return t
}

// queueArguments are the x- arguments DMS reports (§6.3).
func queueArguments(q queueItem) definitions.Table {
	m := map[string]any{}
	a := q.Arguments
	if a.TTL != nil {
		m["x-message-ttl"] = *a.TTL
	}
	if a.DLX != nil {
		m["x-dead-letter-exchange"] = *a.DLX
	}
	if a.DLKey != nil {
		m["x-dead-letter-routing-key"] = *a.DLKey
	}
	if a.Mode != nil && *a.Mode == "lazy" {
		m["x-queue-mode"] = "lazy"
	}
	return definitions.TableOf(m)
}

// createExchange: PUT …/vhosts/{vhost}/exchanges
func (c *Client) createExchange(ctx context.Context, x *definitions.Exchange) error {
	body := map[string]any{"name": x.Name, "type": x.Type, "auto_delete": x.AutoDelete != nil && *x.AutoDelete}
	if x.Durable != nil {
		body["durable"] = *x.Durable
	}
	if x.Internal != nil && *x.Internal {
		body["internal"] = true
	}
	if len(x.Arguments) > 0 {
		body["arguments"] = x.Arguments.Map()
	}
	return c.do(ctx, http.MethodPut, c.vhostPath(x.Vhost)+"/exchanges", nil, body, nil)
}

// createQueue: PUT …/vhosts/{vhost}/queues, the arguments DMS takes as
// its fields (validate refuses every other one).
func (c *Client) createQueue(ctx context.Context, q *definitions.Queue) error {
	body := map[string]any{"name": q.Name, "auto_delete": q.AutoDelete != nil && *q.AutoDelete}
	if q.Durable != nil {
		body["durable"] = *q.Durable
	}
	for k, v := range q.Arguments.All() {
		switch k {
		case "x-message-ttl":
			body["message_ttl"] = v
		case "x-dead-letter-exchange":
			body["dead_letter_exchange"] = v
		case "x-dead-letter-routing-key":
			body["dead_letter_routing_key"] = v
		case "x-queue-mode":
			if v == "lazy" {
				body["lazy_mode"] = "lazy"
			}
		case "x-queue-type":
			if v != "classic" {
				return fmt.Errorf("huaweicloud: queue %q: DMS creates classic queues only, not %v", q.Name, v)
			}
		default:
			return fmt.Errorf("huaweicloud: queue %q: DMS cannot set the argument %s", q.Name, k)
		}
	}
	return c.do(ctx, http.MethodPut, c.vhostPath(q.Vhost)+"/queues", nil, body, nil)
}

// createBinding: POST …/vhosts/{vhost}/exchanges/{exchange}/binding
func (c *Client) createBinding(ctx context.Context, b *definitions.Binding) error {
	if len(b.Arguments) > 0 {
		return fmt.Errorf("huaweicloud: %s: DMS bindings have no arguments", plan.AddrOf(b))
	}
	body := map[string]string{"destination": b.Destination, "destination_type": b.DestinationType, "routing_key": b.RoutingKey}
	return c.do(ctx, http.MethodPost, c.vhostPath(b.Vhost)+"/exchanges/"+seg(b.Source)+"/binding", nil, body, nil)
}

// deleteBinding finds the binding's properties_key in its source's list
// (never computed, §6.4) and deletes it: DELETE …/exchanges/{exchange}/
// destination-type/{t}/destination/{d}/properties-key/{k}/unbinding. A
// binding already gone counts as deleted.
func (c *Client) deleteBinding(ctx context.Context, b *definitions.Binding) error {
	var bs struct {
		Items []bindingItem `json:"items"`
	}
	err := c.do(ctx, http.MethodGet, c.vhostPath(b.Vhost)+"/exchanges/"+seg(b.Source)+"/binding", nil, nil, &bs)
	if gone(err) {
		return nil
	}
	if err != nil {
		return err
	}
	i := slices.IndexFunc(bs.Items, func(it bindingItem) bool {
		return strings.EqualFold(it.DestinationType, b.DestinationType) && it.Destination == b.Destination && it.RoutingKey == b.RoutingKey
	})
	if i < 0 {
		return nil
	}
	it := bs.Items[i]
	path := c.vhostPath(b.Vhost) + "/exchanges/" + seg(b.Source) + "/destination-type/" + seg(it.DestinationType) +
		"/destination/" + seg(it.Destination) + "/properties-key/" + seg(it.PropertiesKey) + "/unbinding"
	if err := c.do(ctx, http.MethodDelete, path, nil, nil, nil); err != nil && !gone(err) {
		return err
	}
	return nil
}

// batchDelete deletes exchanges or queues of one vhost in one request:
// POST …/vhosts/{vhost}/exchanges|queues {"name": [...]}.
// When DMS answers that one of them does not exist (gone since the read),
// it sends the batch again with the names still listed.
func (c *Client) batchDelete(ctx context.Context, vhost, collection string, names []string) error {
	path := c.vhostPath(vhost) + "/" + collection
	err := c.do(ctx, http.MethodPost, path, nil, map[string][]string{"name": names}, nil)
	if !gone(err) {
		return err
	}
	items, lerr := list[struct {
		Name string `json:"name"`
	}](ctx, c, path)
	switch {
	case gone(lerr):
		return nil // the vhost is gone, and all it held
	case lerr != nil:
		return err
	}
	var left []string
	for _, n := range names {
		if slices.ContainsFunc(items, func(it struct {
			Name string `json:"name"`
		}) bool {
			return it.Name == n
		}) {
			left = append(left, n)
		}
	}
	if len(left) == 0 {
		return nil
	}
	return c.do(ctx, http.MethodPost, path, nil, map[string][]string{"name": left}, nil)
}

// queueMessages is how many messages a queue holds:
// GET …/vhosts/{vhost}/queues/{queue}. A queue that is gone holds none.
func (c *Client) queueMessages(ctx context.Context, vhost, name string) (int, error) {
	var q queueItem
	err := c.do(ctx, http.MethodGet, c.vhostPath(vhost)+"/queues/"+seg(name), nil, nil, &q)
	if gone(err) {
		return 0, nil
	}
	return q.Messages, err
}

// gone reports an answer that the object does not exist: 404 (whether DMS
// says so with 404 or 400 is unverified, §6.6; a 400 is never taken as
// done).
func gone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// topologyKind reports the kinds this file's requests manage.
func topologyKind(k definitions.Kind) bool {
	return k == definitions.KindExchange || k == definitions.KindQueue || k == definitions.KindBinding
}

// checkMessages refuses, before anything changes, a plan that would
// destroy messages without DestroyMessages: a queue replaced or deleted,
// or a vhost deleted, that holds some. It also refuses replacements
// unless Replace.
func (c *Client) checkMessages(ctx context.Context, p *plan.Plan, replace, destroy bool) error {
	var replaced []string
	for _, ch := range p.Changes {
		if ch.Action == plan.Replace && topologyKind(ch.Kind) {
			replaced = append(replaced, ch.Addr.String())
		}
	}
	if len(replaced) > 0 && !replace {
		return fmt.Errorf("huaweicloud: the plan replaces %s (deleted and created again: DMS changes no exchange or queue in place); run again with --replace to allow it",
			strings.Join(replaced, ", "))
	}
	if destroy {
		return nil
	}
	for _, ch := range p.Changes {
		switch o := ch.Before.(type) {
		case *definitions.Queue:
			if ch.Action != plan.Replace && ch.Action != plan.Delete {
				continue
			}
			n, err := c.queueMessages(ctx, o.Vhost, o.Name)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("huaweicloud: %s holds %d messages; warren deletes only empty queues (drain it, change the files back, or run again with --destroy-messages)", ch.Addr, n)
			}
		case *definitions.Vhost:
			if ch.Action != plan.Delete {
				continue
			}
			qs, err := list[queueItem](ctx, c, c.vhostPath(o.Name)+"/queues")
			if err != nil && !gone(err) {
				return err
			}
			for _, q := range qs {
				if q.Messages > 0 {
					return fmt.Errorf("huaweicloud: %s: its queue %q holds %d messages, which deleting the vhost destroys; warren does not (drain it, or run again with --destroy-messages)", ch.Addr, q.Name, q.Messages)
				}
			}
		}
	}
	return nil
}
