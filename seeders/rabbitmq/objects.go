package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
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

// QueueMessages returns what is known of the messages a queue holds, read
// from the queue itself (QueueCounts); a queue that is gone holds none.
// GET /api/queues/{vhost}/{name}
func (c *Client) QueueMessages(ctx context.Context, vhost, name string) (Count, error) {
	var q struct {
		Type     string `json:"type"`
		Messages *int64 `json:"messages"`
	}
	if err := c.getJSON(ctx, "/api/queues/"+esc(vhost)+"/"+esc(name), &q); err != nil {
		if NotFound(err) {
			return Count{Known: true}, nil
		}
		return Count{}, err
	}
	counts, err := c.QueueCounts(ctx, vhost, []QueueStat{{Name: name, Type: q.Type, Stat: q.Messages}})
	if err != nil {
		return Count{}, err
	}
	n, ok := counts[name]
	if !ok {
		return Count{Known: true}, nil // gone since
	}
	return n, nil
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

// deleteObject deletes one object by its endpoint. A 404 is trusted only
// when a GET confirms that the object is gone: the answer is then the 404
// (NotFound reports it), and otherwise an error.
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
		return c.deleteEmptyQueue(ctx, o)
	case *definitions.Exchange:
		path = "/api/exchanges/" + esc(o.Vhost) + "/" + esc(o.Name) // DELETE /api/exchanges/{vhost}/{name}
	case *definitions.Binding:
		return c.deleteBinding(ctx, o)
	default:
		return fmt.Errorf("rabbitmq: cannot delete %T", o)
	}
	return c.deleteVerified(ctx, o, path, path)
}

// deleteVerified sends DELETE del and trusts a 404 only when a GET of path
// confirms the object is gone.
func (c *Client) deleteVerified(ctx context.Context, o definitions.Object, del, path string) error {
	err := c.do(ctx, http.MethodDelete, del, nil, nil)
	if !NotFound(err) {
		return err
	}
	if gone, gerr := c.gone(ctx, o, path); gerr != nil || !gone {
		if gerr == nil {
			gerr = errors.New("the object is still there")
		}
		return fmt.Errorf("rabbitmq: DELETE %s answered 404, but checking that it is gone failed: %w", del, gerr)
	}
	return err
}

// gone reports whether a GET confirms that an object no longer exists.
func (c *Client) gone(ctx context.Context, o definitions.Object, path string) (bool, error) {
	if tp, ok := o.(*definitions.TopicPermission); ok {
		// GET /api/topic-permissions/{vhost}/{user} lists the user's exchanges.
		var list []struct {
			Exchange string `json:"exchange"`
		}
		err := c.getJSON(ctx, "/api/topic-permissions/"+esc(tp.Vhost)+"/"+esc(tp.User), &list)
		if NotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return !slices.ContainsFunc(list, func(l struct {
			Exchange string `json:"exchange"`
		}) bool {
			return l.Exchange == tp.Exchange
		}), nil
	}
	err := c.getJSON(ctx, path, nil)
	if NotFound(err) {
		return true, nil
	}
	return false, err
}

// deleteBinding finds the binding's properties key, which the API names it
// by, and deletes it. A 404 is trusted only when the binding is no longer
// listed.
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
	find := func() (string, bool, error) {
		var list []bindingInfo
		if err := c.getJSON(ctx, base, &list); err != nil {
			return "", false, err
		}
		want := canonical(b.Arguments.Map())
		i := slices.IndexFunc(list, func(l bindingInfo) bool {
			return l.RoutingKey == b.RoutingKey && canonical(l.Arguments) == want
		})
		if i < 0 {
			return "", false, nil
		}
		return list[i].PropertiesKey, true, nil
	}
	key, found, err := find()
	if err != nil || !found {
		return err // not found: already gone
	}
	// The properties key is the routing key escaped once by the broker
	// ("order.%23" for "order.#", "a%25b" for "a%b"); the web server decodes
	// the path once before matching it, so it is escaped once more.
	err = c.do(ctx, http.MethodDelete, base+"/"+esc(key), nil, nil)
	if !NotFound(err) {
		return err
	}
	if _, still, gerr := find(); gerr != nil || still {
		if gerr == nil {
			gerr = errors.New("the binding is still there")
		}
		return fmt.Errorf("rabbitmq: DELETE %s answered 404, but checking that it is gone failed: %w", base+"/"+esc(key), gerr)
	}
	return err
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
