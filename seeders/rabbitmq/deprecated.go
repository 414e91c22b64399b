package rabbitmq

import (
	"context"
	"errors"
	"net/http"
)

// DeprecatedFeature is what warren reads of one entry of
// GET /api/deprecated-features.
type DeprecatedFeature struct {
	Name string `json:"name"`
	// Phase is the feature's deprecation phase in the broker's release:
	// permitted_by_default, denied_by_default, disconnected or removed.
	Phase string `json:"deprecation_phase"`
	// State is what this node does, its configuration
	// (deprecated_features.permit.NAME) taken into account: permitted or
	// denied. Brokers before 4.2 do not say (deps/rabbit/src/rabbit_depr_ff_extra.erl
	// has it from v4.2.0; 4.0.5 lists phases only).
	State string `json:"state"`
}

// DeprecatedFeatures returns the broker's deprecated features by name,
// each "permitted" or "denied" on the node that answers (a removed
// feature is denied). It is nil when the broker does not say what the
// node permits: before 3.13 it has no such endpoint (404), before 4.2 it
// lists each feature's phase in the release and not the node's state, and
// a user the endpoint refuses cannot read it. Then the version's rules
// apply.
// GET /api/deprecated-features
func (c *Client) DeprecatedFeatures(ctx context.Context) (map[string]string, error) {
	var list []DeprecatedFeature
	if err := c.getJSON(ctx, "/api/deprecated-features", &list); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
			return nil, nil
		}
		return nil, err
	}
	var out map[string]string
	for _, f := range list {
		if f.State == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(list))
		}
		state := "denied"
		if f.State == "permitted" {
			state = "permitted"
		}
		out[f.Name] = state
	}
	return out, nil
}

// DeprecatedFeatures are the deprecated features the broker permits and
// denies (Client.DeprecatedFeatures).
func (t *Target) DeprecatedFeatures(ctx context.Context) (map[string]string, error) {
	return t.c.DeprecatedFeatures(ctx)
}
