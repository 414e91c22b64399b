package definitions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Rendering is separate from diffing and deterministic: the same plan
// always prints the same way, sorted, without timestamps. No secret is ever
// printed: password changes show as (sensitive).

// RenderOptions tune RenderText.
type RenderOptions struct {
	Color bool // ANSI colors, for terminals
}

const sensitive = "(sensitive)"

// identityFields are shown in an object's address, not among its fields.
var identityFields = []string{"name", "user", "vhost", "exchange", "component", "source", "destination", "destination_type", "routing_key"}

// secretFields never print.
var secretFields = []string{"password", "password_hash"}

var colors = map[Action]string{Create: "\x1b[32m", Update: "\x1b[33m", Delete: "\x1b[31m", Replace: "\x1b[35m"}

const colorReset = "\x1b[0m"

// RenderText writes the plan for people: one block per change with its
// marker (+ create, ~ update, ± replace, - delete), the fields that change
// as before → after, long values as a line diff, then what was skipped and
// a summary line.
func RenderText(w io.Writer, p *Plan, opts RenderOptions) {
	paint := func(a Action, s string) string {
		if !opts.Color {
			return s
		}
		return colors[a] + s + colorReset
	}
	if p.Empty() {
		fmt.Fprintln(w, "No changes: the broker matches the files.")
	}
	for _, c := range p.Changes {
		head := fmt.Sprintf("%c %s", c.Action, c.Addr)
		switch {
		case c.Action == Replace:
			head += "  (replace: " + c.Reason + ")"
		case c.Reason != "":
			head += "  (" + c.Reason + ")"
		}
		fmt.Fprintln(w, paint(c.Action, head))
		switch c.Action {
		case Create:
			for _, m := range displayFields(c.After) {
				v := compact(m.val)
				if m.val == sensitive {
					v = sensitive
				}
				fmt.Fprintf(w, "    %s: %s\n", m.key, v)
			}
		case Update, Replace:
			for _, f := range c.Fields {
				writeField(w, f, paint)
			}
		case Delete:
			writeTakes(w, c.Takes)
		}
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintln(w, "\nLeft alone:")
		for _, s := range p.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", s.Addr, s.Reason)
		}
	}
	if n := unmanagedText(p); n != "" {
		fmt.Fprintf(w, "\nNot in the files: %s on the broker (warren deletes them only with --prune).\n", n)
	}
	fmt.Fprintf(w, "\n%s\n", Summary(p))
}

// writeTakes lists what a vhost deletion takes with it.
func writeTakes(w io.Writer, v *VhostContents) {
	if v == nil {
		return
	}
	if v.Empty() {
		fmt.Fprintln(w, "    takes with it: nothing (the vhost is empty)")
		return
	}
	count := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	var parts []string
	if len(v.Queues) > 0 {
		parts = append(parts, fmt.Sprintf("%s holding %s", count(len(v.Queues), "queue", "queues"), count(int(v.Messages()), "message", "messages")))
	}
	for _, p := range []struct {
		n         int
		one, many string
	}{{len(v.Exchanges), "exchange", "exchanges"}, {v.Bindings, "binding", "bindings"}, {len(v.Policies), "policy", "policies"},
		{len(v.Parameters), "parameter", "parameters"}, {len(v.Permissions), "permission", "permissions"},
		{len(v.TopicPermissions), "topic permission", "topic permissions"}} {
		if p.n > 0 {
			parts = append(parts, count(p.n, p.one, p.many))
		}
	}
	fmt.Fprintf(w, "    takes with it: %s\n", strings.Join(parts, ", "))
	list := func(title string, names []string) {
		if len(names) == 0 {
			return
		}
		const most = 10
		q := make([]string, 0, most+1)
		for i, n := range names {
			if i == most {
				q = append(q, fmt.Sprintf("… and %d more", len(names)-most))
				break
			}
			q = append(q, fmt.Sprintf("%q", n))
		}
		fmt.Fprintf(w, "    %s: %s\n", title, strings.Join(q, ", "))
	}
	if len(v.Queues) > 0 {
		var q []string
		for i, qm := range v.Queues {
			if i == 10 {
				q = append(q, fmt.Sprintf("… and %d more", len(v.Queues)-10))
				break
			}
			q = append(q, fmt.Sprintf("%q (%s)", qm.Name, count(int(qm.Messages), "message", "messages")))
		}
		fmt.Fprintf(w, "    queues: %s\n", strings.Join(q, ", "))
	}
	list("exchanges", v.Exchanges)
	list("policies", v.Policies)
	list("parameters", v.Parameters)
	list("permissions of", v.Permissions)
	list("topic permissions of", v.TopicPermissions)
	if n := v.Messages(); n > 0 {
		fmt.Fprintf(w, "    destroys %s: apply refuses without --destroy-messages\n", count(int(n), "message", "messages"))
	}
}

// Summary is the plan's one-line summary.
func Summary(p *Plan) string {
	if p.Empty() {
		return "Plan: no changes."
	}
	c := p.Counts()
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to replace, %d to delete.", c[Create], c[Update], c[Replace], c[Delete])
}

func unmanagedText(p *Plan) string {
	var parts []string
	for _, k := range Kinds {
		if n := p.Unmanaged[k]; n > 0 {
			noun := string(k)
			if n == 1 {
				noun = info(k).Noun
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(noun, "_", " ")))
		}
	}
	return strings.Join(parts, ", ")
}

func writeField(w io.Writer, f FieldChange, paint func(Action, string) string) {
	if f.Sensitive {
		fmt.Fprintf(w, "    %s: %s differs\n", f.Field, sensitive)
		return
	}
	before, after := compact(f.Before), compact(f.After)
	if len(before)+len(after) < 100 && !strings.Contains(before+after, "\n") {
		fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, before, after)
		return
	}
	fmt.Fprintf(w, "    %s:\n", f.Field)
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(pretty(f.Before), pretty(f.After))
	for _, d := range dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines) {
		marker, action := " ", Action(0)
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			marker, action = "-", Delete
		case diffmatchpatch.DiffInsert:
			marker, action = "+", Create
		}
		for _, line := range strings.Split(strings.TrimSuffix(d.Text, "\n"), "\n") {
			out := "      " + marker + " " + line
			if action != 0 {
				out = paint(action, out)
			}
			fmt.Fprintln(w, out)
		}
	}
}

// displayFields lists an object's fields for a creation: all but its
// identity and its secrets.
func displayFields(o Object) omap {
	var out omap
	for _, m := range treeOf(o) {
		switch {
		case slices.Contains(identityFields, m.key):
		case slices.Contains(secretFields, m.key):
			out = append(out, member{m.key, sensitive})
		case m.key == "value" && isParameter(o):
			out = append(out, member{m.key, MaskCredentials(m.val)})
		default:
			out = append(out, m)
		}
	}
	return out
}

// isParameter reports whether o's value may hold URIs with credentials.
func isParameter(o Object) bool {
	switch o.(type) {
	case *Parameter, *GlobalParameter:
		return true
	}
	return false
}

func treeOf(o Object) omap { return info(o.Kind()).tree(o) }

// compact writes a value as one line of JSON; nil is "(none)".
func compact(v any) string {
	if v == nil {
		return "(none)"
	}
	var b bytes.Buffer
	switch v := v.(type) {
	case omap:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSONString(&b, m.key)
			b.WriteString(": ")
			b.WriteString(compact(m.val))
		}
		b.WriteByte('}')
	default:
		writeCompact(&b, v)
	}
	return b.String()
}

// pretty writes a value as indented JSON with sorted keys, for line diffs.
func pretty(v any) string {
	var b bytes.Buffer
	dec := json.NewDecoder(strings.NewReader(canonicalJSON(v)))
	dec.UseNumber() // numbers stay as written: 2^53+1 is not 2^53
	var raw any
	dec.Decode(&raw)
	writeJSON(&b, toOrdered(raw), "\n")
	return b.String() + "\n"
}

// toOrdered turns decoded JSON into values writeJSON takes.
func toOrdered(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = toOrdered(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toOrdered(e)
		}
		return out
	}
	return v
}

// PlanJSON is the shape of warren diff --format json, version 1. Fields
// are only ever added within a version.
type PlanJSON struct {
	FormatVersion int            `json:"format_version"`
	InSync        bool           `json:"in_sync"`
	Summary       map[string]int `json:"summary"`
	Changes       []ChangeJSON   `json:"changes"`
	Skipped       []SkipJSON     `json:"skipped"`
	Unmanaged     map[string]int `json:"unmanaged"`
	Pruning       bool           `json:"pruning"`
	LiveDigest    string         `json:"live_digest"`
}

// ChangeJSON is one change of PlanJSON.
type ChangeJSON struct {
	Action  string            `json:"action"`
	Marker  string            `json:"marker"`
	Kind    string            `json:"kind"`
	Step    string            `json:"step"`
	Address string            `json:"address"`
	Reason  string            `json:"reason,omitempty"`
	Fields  []FieldChangeJSON `json:"fields,omitempty"`
	// Object is the created object, or the deleted one, without secrets.
	Object map[string]any `json:"object,omitempty"`
	// Takes is what the deletion of a vhost deletes with it.
	Takes *VhostContentsJSON `json:"takes,omitempty"`
}

// VhostContentsJSON is what lives in a vhost a plan deletes.
type VhostContentsJSON struct {
	Queues           []QueueMessagesJSON `json:"queues"`
	Messages         int64               `json:"messages"`
	Exchanges        []string            `json:"exchanges"`
	Bindings         int                 `json:"bindings"`
	Policies         []string            `json:"policies"`
	Parameters       []string            `json:"parameters"`
	Permissions      []string            `json:"permissions"`
	TopicPermissions []string            `json:"topic_permissions"`
}

// QueueMessagesJSON is a queue with its message count.
type QueueMessagesJSON struct {
	Name     string `json:"name"`
	Messages int64  `json:"messages"`
}

func contentsJSON(v *VhostContents) *VhostContentsJSON {
	if v == nil {
		return nil
	}
	out := &VhostContentsJSON{Queues: []QueueMessagesJSON{}, Messages: v.Messages(), Exchanges: orEmpty(v.Exchanges), Bindings: v.Bindings,
		Policies: orEmpty(v.Policies), Parameters: orEmpty(v.Parameters), Permissions: orEmpty(v.Permissions), TopicPermissions: orEmpty(v.TopicPermissions)}
	for _, q := range v.Queues {
		out.Queues = append(out.Queues, QueueMessagesJSON{Name: q.Name, Messages: q.Messages})
	}
	return out
}

// FieldChangeJSON is one field of a ChangeJSON.
type FieldChangeJSON struct {
	Field     string `json:"field"`
	Before    any    `json:"before,omitempty"`
	After     any    `json:"after,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// SkipJSON is one skipped object of PlanJSON.
type SkipJSON struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
}

// ToJSON converts a plan to its documented JSON shape.
func ToJSON(p *Plan) PlanJSON {
	c := p.Counts()
	out := PlanJSON{FormatVersion: 1, InSync: p.Empty(), Changes: []ChangeJSON{}, Skipped: []SkipJSON{}, Unmanaged: map[string]int{},
		Summary: map[string]int{"create": c[Create], "update": c[Update], "replace": c[Replace], "delete": c[Delete]},
		Pruning: p.Pruning, LiveDigest: p.LiveDigest}
	for _, ch := range p.Changes {
		cj := ChangeJSON{Action: ch.Action.Verb(), Marker: string(ch.Action), Kind: string(ch.Kind), Step: string(ch.Step), Address: ch.Addr.String(), Reason: ch.Reason}
		for _, f := range ch.Fields {
			fj := FieldChangeJSON{Field: f.Field, Sensitive: f.Sensitive}
			if !f.Sensitive {
				fj.Before, fj.After = jsonValue(f.Before), jsonValue(f.After)
			}
			cj.Fields = append(cj.Fields, fj)
		}
		switch ch.Action {
		case Create:
			cj.Object = objectJSON(ch.After)
		case Delete:
			cj.Object = objectJSON(ch.Before)
			cj.Takes = contentsJSON(ch.Takes)
		}
		out.Changes = append(out.Changes, cj)
	}
	for _, s := range p.Skipped {
		out.Skipped = append(out.Skipped, SkipJSON{Address: s.Addr.String(), Reason: s.Reason})
	}
	for k, n := range p.Unmanaged {
		out.Unmanaged[string(k)] = n
	}
	return out
}

// objectJSON is an object's fields as JSON values, secrets replaced.
func objectJSON(o Object) map[string]any {
	out := map[string]any{}
	for _, m := range treeOf(o) {
		if slices.Contains(secretFields, m.key) {
			out[m.key] = sensitive
			continue
		}
		if m.key == "value" && isParameter(o) {
			out[m.key] = jsonValue(MaskCredentials(m.val))
			continue
		}
		out[m.key] = jsonValue(m.val)
	}
	return out
}

// jsonValue turns a model value into what encoding/json writes faithfully:
// its canonical JSON, numbers exactly as the files or the broker wrote them.
func jsonValue(v any) any {
	if v == nil {
		return nil
	}
	return json.RawMessage(compact(v))
}

// RenderMarkdown writes the plan for a pull-request comment: a heading
// with the summary and the text rendering in a diff block.
func RenderMarkdown(w io.Writer, p *Plan, title string) {
	fmt.Fprintf(w, "### %s\n\n", title)
	if p.Empty() {
		fmt.Fprintln(w, "No changes: the broker matches the files.")
		return
	}
	fmt.Fprintf(w, "%s\n\n```diff\n", Summary(p))
	var b bytes.Buffer
	RenderText(&b, p, RenderOptions{})
	w.Write(b.Bytes())
	fmt.Fprintln(w, "```")
}
