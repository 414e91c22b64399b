package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// VhostContents reads what lives in a vhost, which deleting it deletes:
// queues with their message counts, exchanges (not the built-in ones),
// bindings, policies, parameters, permissions and topic permissions.
// GET /api/queues/{vhost}, /api/exchanges/{vhost}, /api/bindings/{vhost},
// /api/policies/{vhost}, /api/parameters, /api/vhosts/{vhost}/permissions,
// /api/vhosts/{vhost}/topic-permissions
func (c *Client) VhostContents(ctx context.Context, vhost string) (*plan.VhostContents, error) {
	v := esc(vhost)
	var (
		queues []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Messages *int64 `json:"messages"`
		}
		exchanges, policies []struct {
			Name string `json:"name"`
		}
		bindings []struct {
			Source string `json:"source"`
		}
		params []struct {
			Vhost     string `json:"vhost"`
			Component string `json:"component"`
			Name      string `json:"name"`
		}
		perms, topic []struct {
			User string `json:"user"`
		}
	)
	reads := []struct {
		path string
		out  any
	}{
		{"/api/queues/" + v + "?columns=name,type,messages", &queues},
		{"/api/exchanges/" + v + "?disable_stats=true&columns=name", &exchanges},
		{"/api/bindings/" + v + "?columns=source", &bindings},
		{"/api/policies/" + v, &policies},
		{"/api/parameters", &params},
		{"/api/vhosts/" + v + "/permissions", &perms},
		{"/api/vhosts/" + v + "/topic-permissions", &topic},
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.getJSON(ctx, r.path, r.out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := &plan.VhostContents{}
	stats := make([]QueueStat, len(queues))
	for i, q := range queues {
		stats[i] = QueueStat{Name: q.Name, Type: q.Type, Stat: q.Messages}
	}
	counts, err := c.QueueCounts(ctx, vhost, stats)
	if err != nil {
		return nil, err
	}
	for _, q := range queues {
		n, ok := counts[q.Name]
		if !ok {
			continue // deleted since it was listed
		}
		out.Queues = append(out.Queues, plan.QueueMessages{Name: q.Name, Messages: n.Messages, Unknown: !n.Known, Why: n.Why, AtApply: n.NoAccess})
	}
	for _, x := range exchanges {
		if x.Name != "" && !strings.HasPrefix(x.Name, "amq.") {
			out.Exchanges = append(out.Exchanges, x.Name)
		}
	}
	for _, b := range bindings {
		if b.Source != "" {
			out.Bindings++
		}
	}
	for _, p := range policies {
		out.Policies = append(out.Policies, p.Name)
	}
	for _, p := range params {
		if p.Vhost == vhost {
			out.Parameters = append(out.Parameters, p.Component+"/"+p.Name)
		}
	}
	for _, p := range perms {
		out.Permissions = append(out.Permissions, p.User)
	}
	for _, p := range topic {
		if !slices.Contains(out.TopicPermissions, p.User) {
			out.TopicPermissions = append(out.TopicPermissions, p.User)
		}
	}
	slices.SortFunc(out.Queues, func(a, b plan.QueueMessages) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range [][]string{out.Exchanges, out.Policies, out.Parameters, out.Permissions, out.TopicPermissions} {
		slices.Sort(s)
	}
	return out, nil
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

// UserPermissions returns one user's permissions: a plan that does not
// manage permissions still looks for temporary grants an interrupted apply
// left to the user warren logs in as.
// GET /api/users/{name}/permissions
func (c *Client) UserPermissions(ctx context.Context, user string) ([]*definitions.Permission, error) {
	var list []struct {
		User      string `json:"user"`
		Vhost     string `json:"vhost"`
		Configure string `json:"configure"`
		Write     string `json:"write"`
		Read      string `json:"read"`
	}
	if err := c.getJSON(ctx, "/api/users/"+esc(user)+"/permissions", &list); err != nil {
		return nil, err
	}
	out := make([]*definitions.Permission, len(list))
	for i, p := range list {
		out[i] = &definitions.Permission{User: p.User, Vhost: p.Vhost, Configure: p.Configure, Write: p.Write, Read: p.Read}
	}
	return out, nil
}
