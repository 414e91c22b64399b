package rabbitmq

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/warren-tool/warren/definitions"
)

// The management API's per-object endpoints that apply needs.

// PostDefinitions imports a (partial) definitions document: objects in it
// are created or overwritten, others are left alone.
// POST /api/definitions
func (c *Client) PostDefinitions(ctx context.Context, body []byte) error {
	return c.do(ctx, http.MethodPost, "/api/definitions", body, nil)
}

// QueueMessages returns how many messages a queue holds.
// GET /api/queues/{vhost}/{name}
func (c *Client) QueueMessages(ctx context.Context, vhost, name string) (int64, error) {
	var q struct {
		Messages *int64 `json:"messages"`
	}
	if err := c.getJSON(ctx, "/api/queues/"+esc(vhost)+"/"+esc(name), &q); err != nil {
		return 0, err
	}
	if q.Messages == nil {
		return 0, nil // no statistics yet: a queue just declared
	}
	return *q.Messages, nil
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

// deleteObject deletes one object by its endpoint.
func (c *Client) deleteObject(ctx context.Context, o definitions.Object) error {
	var path string
	switch o := o.(type) {
	case *definitions.User:
		path = "/api/users/" + esc(o.Name) // DELETE /api/users/{name}
	case *definitions.Vhost:
		path = "/api/vhosts/" + esc(o.Name) // DELETE /api/vhosts/{name}
	case *definitions.Permission:
		path = "/api/permissions/" + esc(o.Vhost) + "/" + esc(o.User) // DELETE /api/permissions/{vhost}/{user}
	case *definitions.TopicPermission:
		// DELETE /api/topic-permissions/{vhost}/{user}/{exchange}: one exchange's
		path = "/api/topic-permissions/" + esc(o.Vhost) + "/" + esc(o.User) + "/" + esc(o.Exchange)
	case *definitions.Parameter:
		path = "/api/parameters/" + esc(o.Component) + "/" + esc(o.Vhost) + "/" + esc(o.Name) // DELETE /api/parameters/{component}/{vhost}/{name}
	case *definitions.GlobalParameter:
		path = "/api/global-parameters/" + esc(o.Name) // DELETE /api/global-parameters/{name}
	case *definitions.Policy:
		path = "/api/policies/" + esc(o.Vhost) + "/" + esc(o.Name) // DELETE /api/policies/{vhost}/{name}
	case *definitions.Queue:
		path = "/api/queues/" + esc(o.Vhost) + "/" + esc(o.Name) + "?if-empty=true" // DELETE /api/queues/{vhost}/{name}
	case *definitions.Exchange:
		path = "/api/exchanges/" + esc(o.Vhost) + "/" + esc(o.Name) // DELETE /api/exchanges/{vhost}/{name}
	case *definitions.Binding:
		return c.deleteBinding(ctx, o)
	default:
		return fmt.Errorf("rabbitmq: cannot delete %T", o)
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// deleteBinding finds the binding's properties key, which the API names it
// by, and deletes it.
// GET, DELETE /api/bindings/{vhost}/e/{source}/{q|e}/{destination}/{props}
func (c *Client) deleteBinding(ctx context.Context, b *definitions.Binding) error {
	dest := "q"
	if b.DestinationType == "exchange" {
		dest = "e"
	}
	source := b.Source
	if source == "" {
		source = "amq.default"
	}
	base := "/api/bindings/" + esc(b.Vhost) + "/e/" + esc(source) + "/" + dest + "/" + esc(b.Destination)
	var list []bindingInfo
	if err := c.getJSON(ctx, base, &list); err != nil {
		return err
	}
	want := canonical(b.Arguments)
	i := slices.IndexFunc(list, func(l bindingInfo) bool {
		return l.RoutingKey == b.RoutingKey && canonical(l.Arguments) == want
	})
	if i < 0 {
		return nil // already gone
	}
	// The properties key comes escaped already ("order.%23").
	return c.do(ctx, http.MethodDelete, base+"/"+list[i].PropertiesKey, nil, nil)
}

// bindingInfo is what deleteBinding reads of a binding.
type bindingInfo struct {
	RoutingKey    string         `json:"routing_key"`
	Arguments     map[string]any `json:"arguments"`
	PropertiesKey string         `json:"properties_key"`
}

// canonical encodes arguments for comparing (encoding/json sorts keys).
func canonical(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}
