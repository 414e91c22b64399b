package rabbitmq

import (
	"context"
)

// What warren migrate status reads: how far the queues have drained and
// where their consumers are.

// QueueState is a queue's messages and consumers.
type QueueState struct {
	Vhost     string `json:"vhost"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Messages  *int64 `json:"messages"` // nil when the broker has no statistics for it yet
	Consumers int64  `json:"consumers"`
}

// QueueStates lists every queue with its messages and consumers.
// GET /api/queues?columns=vhost,name,type,messages,consumers
func (c *Client) QueueStates(ctx context.Context) ([]QueueState, error) {
	var out []QueueState
	err := c.getJSON(ctx, "/api/queues?columns=vhost,name,type,messages,consumers", &out)
	return out, err
}

// FederationLink is one federation link of the node (the
// rabbitmq_federation_management plugin's listing).
type FederationLink struct {
	Vhost    string `json:"vhost"`
	Type     string `json:"type"` // queue or exchange
	Queue    string `json:"queue"`
	Exchange string `json:"exchange"`
	Upstream string `json:"upstream"`
	Status   string `json:"status"` // running, starting, error, shutdown
	Error    string `json:"error"`
}

// FederationLinks lists the federation links of every node.
// GET /api/federation-links
func (c *Client) FederationLinks(ctx context.Context) ([]FederationLink, error) {
	var out []FederationLink
	err := c.getJSON(ctx, "/api/federation-links", &out)
	return out, err
}
