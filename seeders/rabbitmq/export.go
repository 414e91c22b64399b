package rabbitmq

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/warren-tool/warren/definitions"
)

// Read returns the broker's definitions: GET /api/definitions, with each
// vhost's description, tags, default queue type and tracing from
// /api/vhosts, which RabbitMQ 3.10's export leaves out. Only values other
// than the broker's defaults are set, so an export stays short.
func (c *Client) Read(ctx context.Context) (*definitions.Document, error) {
	raw, err := c.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	doc, diags := definitions.Parse(c.URL()+"/api/definitions", raw)
	if doc == nil {
		// Only a decode error leaves no document; the broker wrote bad JSON.
		return nil, fmt.Errorf("rabbitmq: reading the broker's definitions: %v", diags.Error())
	}
	vhosts, err := c.Vhosts(ctx)
	if err != nil {
		return nil, err
	}
	info := map[string]VhostInfo{}
	for _, v := range vhosts {
		info[v.Name] = v
	}
	for _, v := range doc.Vhosts {
		in, ok := info[v.Name]
		if !ok {
			continue
		}
		if in.Description != "" {
			v.Description = &in.Description
		}
		var tags []string
		if json.Unmarshal(in.Tags, &tags) != nil {
			var s string
			if json.Unmarshal(in.Tags, &s) == nil {
				tags = definitions.SplitTags(s)
			}
		}
		if len(tags) > 0 {
			v.Tags = tags
		}
		if in.DefaultQueueType != "" && in.DefaultQueueType != "undefined" {
			v.DefaultQueueType = in.DefaultQueueType
		}
		if in.Tracing {
			t := true
			v.Tracing = &t
		}
	}
	return doc, nil
}

// ExportOptions choose what Export keeps.
type ExportOptions struct {
	// Trims are applied in the order definitions.Trims lists them.
	Trims []string
	// Vhost keeps only what belongs to one vhost (see definitions.Select).
	Vhost string
	// Only keeps only these kinds; nil keeps all.
	Only []definitions.Kind
}

// Export reads the broker and returns its definitions trimmed, selected and
// in canonical order.
func (c *Client) Export(ctx context.Context, opts ExportOptions) (*definitions.Document, error) {
	doc, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if err := definitions.Trim(doc, opts.Trims); err != nil {
		return nil, err
	}
	definitions.Select(doc, opts.Vhost, opts.Only)
	doc.Sort()
	return doc, nil
}
