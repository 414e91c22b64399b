package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/warren-tool/warren/definitions"
)

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

// deleteQueue deletes a queue; unless destroy, only when it is empty
// (deleteEmptyQueue).
// DELETE /api/queues/{vhost}/{name}
func (c *Client) deleteQueue(ctx context.Context, q *definitions.Queue, destroy bool) error {
	if !destroy {
		return c.deleteEmptyQueue(ctx, q)
	}
	return c.do(ctx, http.MethodDelete, "/api/queues/"+esc(q.Vhost)+"/"+esc(q.Name), nil, nil)
}

// NotEmptyError is a queue deletion refused because the queue holds
// messages, or may hold some: its count could not be known.
type NotEmptyError struct {
	Vhost, Name string
	Messages    int64  // -1 when the broker refused without saying how many
	Unknown     string // why the count is not known; "" when it is
}

func (e *NotEmptyError) Error() string {
	switch {
	case e.Unknown != "":
		return fmt.Sprintf("queue %q on vhost %q may hold messages: %s", e.Name, e.Vhost, e.Unknown)
	case e.Messages == -1:
		return fmt.Sprintf("queue %q on vhost %q holds messages", e.Name, e.Vhost)
	case e.Messages == 1:
		return fmt.Sprintf("queue %q on vhost %q holds 1 message", e.Name, e.Vhost)
	}
	return fmt.Sprintf("queue %q on vhost %q holds %d messages", e.Name, e.Vhost, e.Messages)
}

// deleteEmptyQueue deletes a queue only when it holds no message. A classic
// queue is deleted with ?if-empty=true&if-unused=true, the broker's own
// atomic check: if-empty alone counts only the messages ready, and deleting
// a queue destroys the unacknowledged messages its consumers hold, so a
// queue with consumers is refused too; messages taken with basic.get and
// not yet acknowledged (no consumer holds them) are refused when the
// statistics show them.
// Quorum queues and streams do not take if-empty (the broker answers 400
// whether they are empty or not): warren reads the queue's count from the
// queue itself (QueueCounts), just before deleting it, and deletes it only
// when the count is known and 0; a stream, whose length cannot be read
// exactly, is never deleted this way. A 404 is trusted only when a GET
// confirms it.
// GET, DELETE /api/queues/{vhost}/{name}[?if-empty=true]
func (c *Client) deleteEmptyQueue(ctx context.Context, q *definitions.Queue) error {
	path := "/api/queues/" + esc(q.Vhost) + "/" + esc(q.Name)
	var live struct {
		Type     string `json:"type"`
		Messages *int64 `json:"messages"`
		Unacked  *int64 `json:"messages_unacknowledged"`
	}
	if err := c.getJSON(ctx, path, &live); err != nil {
		return err // a 404: the queue is gone, which NotFound reports
	}
	if live.Type != "" && live.Type != "classic" {
		counts, err := c.QueueCounts(ctx, q.Vhost, []QueueStat{{Name: q.Name, Type: live.Type, Stat: live.Messages}})
		if err != nil {
			return err
		}
		n, ok := counts[q.Name]
		switch {
		case !ok:
			return c.deleteVerified(ctx, q, path, path) // gone: the 404 is checked
		case n.Messages > 0:
			return &NotEmptyError{Vhost: q.Vhost, Name: q.Name, Messages: n.Messages}
		case !n.Known:
			return &NotEmptyError{Vhost: q.Vhost, Name: q.Name, Messages: -1, Unknown: n.Why}
		}
		return c.deleteVerified(ctx, q, path, path)
	}
	if live.Unacked != nil && *live.Unacked > 0 {
		return &NotEmptyError{Vhost: q.Vhost, Name: q.Name, Messages: -1, Unknown: fmt.Sprintf("%d messages delivered and not yet acknowledged", *live.Unacked)}
	}
	err := c.deleteVerified(ctx, q, path+"?if-empty=true&if-unused=true", path)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		if strings.Contains(ae.Reason, "in use") || strings.Contains(ae.Reason, "in_use") {
			return &NotEmptyError{Vhost: q.Vhost, Name: q.Name, Messages: -1, Unknown: "it has consumers, which may hold unacknowledged messages"}
		}
		n := int64(-1)
		if live.Messages != nil && *live.Messages > 0 {
			n = *live.Messages
		}
		return &NotEmptyError{Vhost: q.Vhost, Name: q.Name, Messages: n}
	}
	return err
}

// emptyVhostQueues deletes a vhost's queues, each only when empty: the
// broker's own check that deleting the vhost destroys no message. It
// returns the queues it deleted, also when it fails: the vhost's deletion
// then fails, and its error says what went before it.
func (c *Client) emptyVhostQueues(ctx context.Context, vhost string) (deleted []string, err error) {
	var queues []struct {
		Name string `json:"name"`
	}
	if err := c.getJSON(ctx, "/api/queues/"+esc(vhost)+"?disable_stats=true&columns=name", &queues); err != nil {
		return nil, err
	}
	for _, q := range queues {
		err := c.deleteEmptyQueue(ctx, &definitions.Queue{Vhost: vhost, Name: q.Name})
		switch {
		case err == nil:
			deleted = append(deleted, q.Name)
		case NotFound(err):
		default:
			var ne *NotEmptyError
			if errors.As(err, &ne) {
				return deleted, fmt.Errorf("%w; deleting the vhost would destroy them (drain the queue, or run again with --destroy-messages to destroy them)", err)
			}
			return deleted, err
		}
	}
	return deleted, nil
}

// emptiedFirst adds to a vhost deletion's error the empty queues deleted
// before it: they are gone although the vhost is not (the report's Done
// lists what the broker made, and these were made on the way).
func emptiedFirst(err error, deleted []string) error {
	if err == nil || len(deleted) == 0 {
		return err
	}
	names := make([]string, len(deleted))
	for i, n := range deleted {
		names[i] = strconv.Quote(n)
	}
	return fmt.Errorf("%w (its empty %s %s had been deleted first)", err,
		map[bool]string{true: "queue", false: "queues"}[len(deleted) == 1], strings.Join(names, ", "))
}
