package rabbitmq

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// Owners' records (plan.Record) live in global parameters named
// warren-owner.OWNER, one per owner.

var _ seeders.Recorder = (*Target)(nil)

// Records reads every owner's record.
// GET /api/global-parameters
func (t *Target) Records(ctx context.Context) (map[string]*plan.Record, error) {
	var globals []*definitions.GlobalParameter
	var raw []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	if err := t.c.getJSON(ctx, "/api/global-parameters", &raw); err != nil {
		return nil, err
	}
	for _, g := range raw {
		globals = append(globals, &definitions.GlobalParameter{Name: g.Name, Value: g.Value})
	}
	return plan.Records(globals)
}

// WriteRecord writes an owner's record, or deletes it when it holds no
// object.
// PUT, DELETE /api/global-parameters/warren-owner.OWNER
func (t *Target) WriteRecord(ctx context.Context, r *plan.Record) error {
	path := "/api/global-parameters/" + esc(plan.OwnerParameterPrefix+r.Owner)
	if r.Len() == 0 {
		err := t.c.do(ctx, http.MethodDelete, path, nil, nil)
		if NotFound(err) {
			return nil
		}
		return err
	}
	body, err := json.Marshal(map[string]any{"name": plan.OwnerParameterPrefix + r.Owner, "value": r.Value()})
	if err != nil {
		return err
	}
	return t.c.do(ctx, http.MethodPut, path, body, nil)
}
