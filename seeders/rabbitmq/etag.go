package rabbitmq

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/warren-tool/warren/definitions"
)

// RabbitMQ 4.3.5 and later tag GET /api/definitions with an ETag that
// changes with every change to the definitions, and answer a request
// carrying the tag in If-None-Match with 304 Not Modified, without
// building the export, when nothing changed. The tag is the node's own: a
// tag from one node of a cluster sent to another is not its own, and gets
// a full answer (as a change would).

// DefinitionsTag is the broker's tag of its definitions now (HEAD
// /api/definitions), "" when it gives none (before 4.3.5). Taken before a
// read of the definitions, it is a tag of what that read saw or of
// something older: never of something newer.
func (c *Client) DefinitionsTag(ctx context.Context) (string, error) {
	resp, err := c.conditional(ctx, http.MethodHead, "")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("rabbitmq: HEAD /api/definitions: %s", resp.Status)
	}
	return resp.Header.Get("ETag"), nil
}

// DefinitionsUnchanged reports whether the broker's definitions are still
// those tag names: GET /api/definitions with If-None-Match, which the
// broker answers with 304 and no body when they are. On any other answer
// the body is left unread.
func (c *Client) DefinitionsUnchanged(ctx context.Context, tag string) (bool, error) {
	if tag == "" {
		return false, nil
	}
	resp, err := c.conditional(ctx, http.MethodGet, tag)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		return true, nil
	case http.StatusOK:
		return false, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return false, fmt.Errorf("rabbitmq: GET /api/definitions (If-None-Match): %s", resp.Status)
}

// conditional sends one request to /api/definitions, to the node that
// answered last (the tag is that node's), once: a check that cannot be
// made is made in full by its caller.
func (c *Client) conditional(ctx context.Context, method, tag string) (*http.Response, error) {
	base := c.bases[int(c.cur.Load())%len(c.bases)]
	req, err := http.NewRequestWithContext(ctx, method, base.String()+"/api/definitions", nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	if tag != "" {
		req.Header.Set("If-None-Match", tag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: %s /api/definitions: %w", method, err)
	}
	return resp, nil
}

// DefinitionsTag is Client.DefinitionsTag, for seeders.ChangeTagger, on
// versions that tag their definitions only: elsewhere a HEAD would cost
// the broker a whole export for nothing.
func (t *Target) DefinitionsTag(ctx context.Context) (string, error) {
	if t.version == "" {
		if _, err := t.Version(ctx); err != nil {
			return "", err
		}
	}
	if definitions.CompareVersions(t.version, definitions.DefinitionsTagSince) < 0 {
		return "", nil
	}
	return t.c.DefinitionsTag(ctx)
}

// DefinitionsUnchanged is Client.DefinitionsUnchanged.
func (t *Target) DefinitionsUnchanged(ctx context.Context, tag string) (bool, error) {
	return t.c.DefinitionsUnchanged(ctx, tag)
}
