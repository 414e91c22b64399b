package rabbitmq

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// UserConnections lists the user's open connections, every protocol's, on
// every node: GET /api/connections/username/{user}. The broker answers
// from its connection tracking, not from management statistics, so the
// list is current and complete when statistics lag or are switched off.
func (c *Client) UserConnections(ctx context.Context, user string) ([]seeders.Connection, error) {
	var list []struct {
		Name  string `json:"name"`
		User  string `json:"user"`
		Vhost string `json:"vhost"`
	}
	if err := c.getJSON(ctx, "/api/connections/username/"+esc(user), &list); err != nil {
		return nil, err
	}
	out := make([]seeders.Connection, 0, len(list))
	for _, l := range list {
		out = append(out, seeders.Connection{Name: l.Name, User: l.User, Vhost: l.Vhost})
	}
	return out, nil
}

// CloseConnection closes one connection:
// DELETE /api/connections/{name}?disable_stats=true, which finds it
// through the broker's connection tracking, as UserConnections lists it,
// rather than through management statistics. A connection already gone is
// not an error.
func (c *Client) CloseConnection(ctx context.Context, name string) error {
	err := c.do(ctx, http.MethodDelete, "/api/connections/"+esc(name)+"?disable_stats=true", nil, nil)
	if NotFound(err) {
		return nil
	}
	return err
}

// Connections lists the open connections each Disconnect names.
func (t *Target) Connections(ctx context.Context, who []plan.Disconnect) ([]seeders.Connection, error) {
	var out []seeders.Connection
	lists := map[string][]seeders.Connection{}
	for _, d := range who {
		l, ok := lists[d.User]
		if !ok {
			var err error
			if l, err = t.c.UserConnections(ctx, d.User); err != nil {
				return nil, fmt.Errorf("listing the connections of user %q: %w", d.User, err)
			}
			lists[d.User] = l
		}
		for _, conn := range l {
			if (d.Vhost == "" || conn.Vhost == d.Vhost) && !slices.Contains(out, conn) {
				out = append(out, conn)
			}
		}
	}
	return out, nil
}

// closeWait is how long CloseConnections waits for the broker to stop
// listing the connections it closed.
var closeWait = 15 * time.Second

// CloseConnections closes conns and waits until the broker no longer
// lists them: closing is asynchronous (the connection's process is told
// to close, and leaves the tracking tables when it has).
func (t *Target) CloseConnections(ctx context.Context, conns []seeders.Connection) error {
	for _, conn := range conns {
		if err := t.c.CloseConnection(ctx, conn.Name); err != nil {
			return fmt.Errorf("closing connection %q of user %q: %w", conn.Name, conn.User, err)
		}
	}
	deadline := time.Now().Add(closeWait)
	for {
		var open []string
		lists := map[string][]seeders.Connection{}
		for _, conn := range conns {
			l, ok := lists[conn.User]
			if !ok {
				var err error
				if l, err = t.c.UserConnections(ctx, conn.User); err != nil {
					return fmt.Errorf("checking that the connections of user %q closed: %w", conn.User, err)
				}
				lists[conn.User] = l
			}
			if slices.ContainsFunc(l, func(c seeders.Connection) bool { return c.Name == conn.Name }) {
				open = append(open, fmt.Sprintf("%q of user %q", conn.Name, conn.User))
			}
		}
		if len(open) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the broker still lists %d connections %s after closing them: %s", len(open), closeWait, strings.Join(open, ", "))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
