package rabbitmq

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// Where each RabbitMQ version reads a vhost's default queue type:
//
//   - the definitions import (POST /api/definitions, boot-time import):
//     only from the vhost's metadata (metadata: {default_queue_type: …});
//     3.10.8 only when it creates the vhost (an existing vhost's default
//     stays as it was), 4.0.5 on an existing vhost too. 3.10.8's import
//     makes a queue without x-queue-type classic whatever the vhost's
//     default; 4.0.5's gives it the vhost's default;
//   - PUT /api/vhosts/{name}: the field defaultqueuetype before 3.12,
//     default_queue_type from 3.12; it changes an existing vhost's default
//     from 3.11 (3.10.8 answers 204 and keeps the old one);
//   - GET /api/vhosts: default_queue_type at the top level ("undefined"
//     when unset) and in metadata, on 3.10.8 and 4.0.5 alike.

// versionAtLeast reports whether a RabbitMQ version ("3.10.8",
// "4.0.5+2.g…") is major.minor or later.
func versionAtLeast(version string, major, minor int) bool {
	if !strings.ContainsAny(version, "0123456789") {
		return true // unknown: assume a current broker
	}
	return definitions.CompareVersions(version, fmt.Sprintf("%d.%d", major, minor)) >= 0
}

// checkQueueTypeChanges refuses, before anything is touched, to change an
// existing vhost's default queue type on a broker that cannot.
func (c *Client) checkQueueTypeChanges(ctx context.Context, puts []plan.Change) (version string, err error) {
	if len(puts) == 0 {
		return "", nil
	}
	o, err := c.Overview(ctx)
	if err != nil {
		return "", err
	}
	if !versionAtLeast(o.RabbitMQVersion, 3, 11) {
		return "", fmt.Errorf("%s: RabbitMQ %s sets a vhost's default queue type only when it creates the vhost (3.11 and later can change it); the default stays %s until the vhost is deleted and created again",
			puts[0].Addr, o.RabbitMQVersion, queueTypeName(puts[0].Before.(*definitions.Vhost).DefaultQueueType))
	}
	return o.RabbitMQVersion, nil
}

func queueTypeName(t string) string {
	if t == "" {
		return "classic"
	}
	return t
}

// putVhost sets a vhost's description, tags, tracing and default queue
// type, naming the default queue type as the broker's version does.
// PUT /api/vhosts/{name}
func (c *Client) putVhost(ctx context.Context, v *definitions.Vhost, version string) error {
	body := map[string]any{"tags": strings.Join(v.Tags, ",")}
	if v.Description != nil {
		body["description"] = *v.Description
	}
	if v.Tracing != nil {
		body["tracing"] = *v.Tracing
	}
	field := "default_queue_type"
	if !versionAtLeast(version, 3, 12) {
		field = "defaultqueuetype"
	}
	body[field] = queueTypeName(v.DefaultQueueType)
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, "/api/vhosts/"+esc(v.Name), data, nil)
}

// setVhostProtection protects a vhost from deletion or lifts it (RabbitMQ
// 4.0.6+; the import sets it too, from metadata.protected_from_deletion).
// POST /api/vhosts/{name}/deletion/protection
// DELETE /api/vhosts/{name}/deletion/protection
func (c *Client) setVhostProtection(ctx context.Context, vhost string, on bool) error {
	method := http.MethodDelete
	if on {
		method = http.MethodPost
	}
	return c.do(ctx, method, "/api/vhosts/"+esc(vhost)+"/deletion/protection", nil, nil)
}

// checkVhostUnprotected refuses the deletion of a vhost the broker
// protects from deletion (RabbitMQ answers DELETE /api/vhosts/{name} of one
// with 412, and deleting its queues first would empty it for nothing).
// GET /api/vhosts/{name}
func (c *Client) checkVhostUnprotected(ctx context.Context, vhost string) error {
	var v struct {
		Protected bool           `json:"protected_from_deletion"`
		Metadata  map[string]any `json:"metadata"`
	}
	if err := c.getJSON(ctx, "/api/vhosts/"+esc(vhost), &v); err != nil {
		return err
	}
	if p, _ := v.Metadata["protected_from_deletion"].(bool); v.Protected || p {
		return fmt.Errorf("the broker protects vhost %q from deletion (it was protected after the plan was made); nothing in it was deleted", vhost)
	}
	return nil
}
