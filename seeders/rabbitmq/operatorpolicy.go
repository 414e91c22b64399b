package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// OperatorPoliciesLocked reports whether the broker locks operator
// policies (management.restrictions.operator_policy_changes.disabled,
// which Amazon MQ sets by default): it then answers every method on
// /api/operator-policies/{vhost}/{name}, GET included, with 405 "Broker
// settings disallow editing of operator policies", before it looks at
// the vhost or the name (4.0.5 and 4.3.6 do). An unlocked broker answers
// 404 for a name that does not exist, as does 3.10.8, which has no such
// setting.
// GET /api/operator-policies/%2F/{name}
func (c *Client) OperatorPoliciesLocked(ctx context.Context) (bool, error) {
	var out json.RawMessage
	err := c.getJSON(ctx, "/api/operator-policies/%2F/warren-probe-of-the-lock", &out)
	var ae *APIError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &ae) && ae.Status == http.StatusMethodNotAllowed:
		return true, nil
	case errors.As(err, &ae) && ae.Status == http.StatusNotFound:
		return false, nil
	}
	return false, err
}
