package definitions

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/warren-tool/warren/schema"
)

// Limits written inside a vhost object (vhosts: [{name: x, limits:
// {max-queues: 10}}]), as some files and newer exports have them, are
// ignored by RabbitMQ's import: a vhost's limits are its vhost-limits
// runtime parameter. Check warns about them; plan.Diff and the boot seeder turn
// them into that parameter (VhostLimitParameters), so that apply and boot
// set what the files say.

// vhostLimits returns the limits written inside a vhost, nil when there are
// none (absent, or empty as RabbitMQ exports them: [] or {}); ok is false
// when the field holds something that is not limits.
func vhostLimits(v *Vhost) (limits map[string]any, ok bool) {
	switch l := v.Extra["limits"].(type) {
	case nil:
		return nil, true
	case []any:
		return nil, len(l) == 0
	case map[string]any:
		if len(l) == 0 {
			return nil, true
		}
		return l, true
	}
	return nil, false
}

// VhostLimitParameters returns the vhost-limits parameters that limits
// written inside d's vhosts stand for, leaving out the vhosts whose
// vhost-limits parameter the files give themselves (Check reports the two
// when they disagree).
func VhostLimitParameters(d *Document) []*Parameter {
	given := vhostLimitParams(d)
	var out []*Parameter
	for _, v := range d.Vhosts {
		lim, _ := vhostLimits(v)
		if lim == nil || given[v.Name] != nil {
			continue
		}
		out = append(out, &Parameter{Vhost: v.Name, Component: ComponentVhostLimits, Name: vhostLimitsName, Value: maps.Clone(lim)})
	}
	return out
}

// limitParameter checks what the schema cannot of a vhost-limits
// parameter's values (it checks names and ranges): that whole numbers are
// written as integers, since RabbitMQ refuses 10.0 ("max-queues should be
// a number, actually was 10.0").
func (c *checker) limitParameter(p *Parameter) {
	lim, ok := p.Value.(map[string]any)
	if !ok {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(lim)) {
		if _, isInt := integer(lim[name]); !isInt {
			if _, whole := wholeNumber(lim[name]); whole {
				c.errorf(p, "value/"+schema.EscapePointerToken(name), schema.ELimit, "%s must be written as an integer (RabbitMQ refuses %v)", name, lim[name])
			}
		}
	}
}

// vhostLimits checks limits written inside a vhost: valid names and values
// (E043), a warning that RabbitMQ's import ignores them (W140), and an
// error when the files' vhost-limits parameter for the vhost says
// otherwise (E080).
func (c *checker) vhostLimits(v *Vhost, params map[string]*Parameter) {
	lim, ok := vhostLimits(v)
	if !ok {
		c.errorf(v, "limits", schema.ELimit, "limits must be an object such as {max-queues: 10}")
		return
	}
	if lim == nil {
		return
	}
	valid := true
	for _, name := range slices.Sorted(maps.Keys(lim)) {
		field := "limits/" + schema.EscapePointerToken(name)
		if !slices.Contains(vhostLimitNames, name) {
			c.errorf(v, field, schema.ELimit, "%q is not a vhost limit (%s)", name, strings.Join(vhostLimitNames, ", "))
			valid = false
			continue
		}
		if n, ok := integer(lim[name]); !ok || n < -1 {
			c.errorf(v, field, schema.ELimit, "%s must be a whole number of at least -1 (-1: no limit)", name)
			valid = false
		}
	}
	p := params[v.Name]
	if p == nil {
		if valid {
			c.warnf(v, "limits", schema.WVhostLimitsIgnored,
				"RabbitMQ's import ignores limits inside a vhost; warren apply and boot set them as the vhost-limits parameter, which is how to write them: parameters: [{component: vhost-limits, vhost: %q, name: limits, value: %s}]",
				v.Name, CanonicalJSON(lim))
		}
		return
	}
	if CanonicalJSON(lim) != CanonicalJSON(p.Value) {
		loc := Location(p)
		c.diags = append(c.diags, schema.Diagnostic{File: Location(v).File, Pointer: Location(v).Pointer + "/limits",
			Severity: schema.Error, Code: schema.EVhostLimitsConflict,
			Message: fmt.Sprintf("vhost %q has limits %s here and %s in its vhost-limits parameter; RabbitMQ applies only the parameter: keep one, or make them equal", v.Name, CanonicalJSON(lim), CanonicalJSON(p.Value)),
			Also:    &loc})
	}
}

// vhostLimitParams indexes the files' vhost-limits parameters by vhost.
func vhostLimitParams(d *Document) map[string]*Parameter {
	out := map[string]*Parameter{}
	for _, p := range d.Parameters {
		if p.Component == ComponentVhostLimits && p.Name == vhostLimitsName {
			out[p.Vhost] = p
		}
	}
	return out
}

// vhostQueueTypes checks that a vhost's default queue type is said once:
// the top-level field and metadata's must agree (E081).
func (c *checker) vhostQueueTypes(v *Vhost) {
	md, ok := v.Metadata["default_queue_type"].(string)
	if !ok || v.DefaultQueueType == "" {
		return
	}
	if vhostQueueType(v.DefaultQueueType, nil) != vhostQueueType(md, nil) {
		c.errorf(v, "metadata/default_queue_type", schema.EVhostQueueTypeConflict,
			"default_queue_type is %q and metadata.default_queue_type %q; RabbitMQ's import reads only metadata, warren the top-level field: keep one, or make them equal",
			v.DefaultQueueType, md)
	}
}
