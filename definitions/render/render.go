package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// Options tune RenderText.
type Options struct {
	Color bool // ANSI colors, for terminals
}

const sensitive = "(sensitive)"

// identityFields are shown in an object's address, not among its fields.
var identityFields = []string{"name", "user", "vhost", "exchange", "component", "source", "destination", "destination_type", "routing_key"}

// secretFields never print.
var secretFields = []string{"password", "password_hash"}

var colors = map[plan.Action]string{plan.Create: "\x1b[32m", plan.Update: "\x1b[33m", plan.Delete: "\x1b[31m", plan.Replace: "\x1b[35m"}

const colorReset = "\x1b[0m"

// Text writes the plan for people: one block per change with its
// marker (+ create, ~ update, ± replace, - delete), the fields that change
// as before → after, long values as a line diff, then what was skipped and
// a summary line.
func Text(w io.Writer, p *plan.Plan, opts Options) {
	paint := func(a plan.Action, s string) string {
		if !opts.Color {
			return s
		}
		return colors[a] + s + colorReset
	}
	if p.Empty() {
		fmt.Fprintln(w, NoChanges(p))
	}
	for _, c := range p.Changes {
		head := fmt.Sprintf("%c %s", c.Action, c.Addr)
		switch {
		case c.Action == plan.Replace:
			head += "  (replace: " + c.Reason + ")"
		case c.Reason != "":
			head += "  (" + c.Reason + ")"
		}
		fmt.Fprintln(w, paint(c.Action, head))
		switch c.Action {
		case plan.Create:
			for _, m := range displayFields(c.After) {
				v := definitions.OneLine(m.Value)
				if m.Value == sensitive {
					v = sensitive
				}
				fmt.Fprintf(w, "    %s: %s\n", m.Name, v)
			}
		case plan.Update, plan.Replace:
			for _, f := range c.Fields {
				writeField(w, f, paint)
			}
		case plan.Delete:
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
	if len(p.Access) > 0 {
		// No + or - before them: they are not changes the plan makes, and
		// "can now" or "can no longer" says which way each goes.
		fmt.Fprintln(w, "\nAccess after this plan:")
		for _, a := range p.Access {
			fmt.Fprintf(w, "  %s\n", a.Text)
		}
	}
	if len(p.Disconnect) > 0 {
		fmt.Fprintln(w, "\nConnections closed after the apply (--close-connections):")
		for _, d := range p.Disconnect {
			fmt.Fprintf(w, "  %s: %s\n", DisconnectScope(d), d.Why)
		}
	}
	for _, line := range OwnershipLines(p) {
		fmt.Fprintf(w, "\n%s\n", line)
	}
	fmt.Fprintf(w, "\n%s\n", Summary(p))
}

// DisconnectScope names the connections a Disconnect closes: user "app"'s
// connections to vhost "v", or to every vhost.
func DisconnectScope(d plan.Disconnect) string {
	if d.Vhost == "" {
		return fmt.Sprintf("user %q, every connection", d.User)
	}
	return fmt.Sprintf("user %q, connections to vhost %q", d.User, d.Vhost)
}

// OwnershipLines say what an owner's plan leaves to others, forgets and
// takes over, how its record changes, and what a scope left out.
func OwnershipLines(p *plan.Plan) []string {
	var out []string
	if len(p.TakeOvers) > 0 {
		var parts []string
		for _, t := range p.TakeOvers {
			parts = append(parts, fmt.Sprintf("%s (from %s)", t.Addr, t.From))
		}
		out = append(out, "Taken over: "+strings.Join(parts, "; ")+".")
	}
	if len(p.Forgotten) > 0 {
		var parts []string
		for _, a := range p.Forgotten {
			parts = append(parts, a.String())
		}
		out = append(out, "Forgotten, kept on the broker: "+strings.Join(parts, "; ")+".")
	}
	if len(p.OwnedElsewhere) > 0 {
		var parts []string
		for _, o := range slices.Sorted(maps.Keys(p.OwnedElsewhere)) {
			parts = append(parts, fmt.Sprintf("%d owned by %s", p.OwnedElsewhere[o], o))
		}
		out = append(out, "Left to other owners: "+strings.Join(parts, ", ")+".")
	}
	if n := countsText(p.NotOwned); n != "" {
		out = append(out, "Owned by no one: "+n+" on the broker (made by hand or by applications; never pruned).")
	}
	if n := countsText(p.OutOfScope); n != "" {
		out = append(out, "Out of scope: "+n+" in the files (not in the vhosts compared).")
	}
	if p.Record != nil {
		before := 0
		if p.RecordBefore != nil {
			before = p.RecordBefore.Len()
		}
		switch {
		case !p.RecordChanged():
			out = append(out, fmt.Sprintf("Owner %s: %s recorded on the broker.", p.Record.Owner, objects(p.Record.Len())))
		case p.RecordBefore == nil:
			out = append(out, fmt.Sprintf("Owner %s: apply records %s on the broker (no record yet).", p.Record.Owner, objects(p.Record.Len())))
		default:
			out = append(out, fmt.Sprintf("Owner %s: apply updates its record on the broker (%d → %d objects).", p.Record.Owner, before, p.Record.Len()))
		}
	}
	return out
}

// countsText is "2 queues, 1 user" for counts by kind, in kind order.
func countsText(counts map[definitions.Kind]int) string {
	var parts []string
	for _, k := range definitions.Kinds {
		if n := counts[k]; n > 0 {
			parts = append(parts, definitions.CountOf(k, n))
		}
	}
	return strings.Join(parts, ", ")
}

// writeTakes lists what a vhost deletion takes with it.
func writeTakes(w io.Writer, v *plan.VhostContents) {
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
		parts = append(parts, fmt.Sprintf("%s holding %s", count(len(v.Queues), "queue", "queues"), messages(v.Messages(), len(v.Unknown()) > 0)))
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
			q = append(q, fmt.Sprintf("%q (%s)", qm.Name, messages(qm.Messages, qm.Unknown)))
		}
		fmt.Fprintf(w, "    queues: %s\n", strings.Join(q, ", "))
	}
	list("exchanges", v.Exchanges)
	list("policies", v.Policies)
	list("parameters", v.Parameters)
	list("permissions of", v.Permissions)
	list("topic permissions of", v.TopicPermissions)
	if n, unknown := v.Messages(), len(v.Uncountable()) > 0; n > 0 || unknown {
		fmt.Fprintf(w, "    destroys %s: apply refuses without --destroy-messages\n", messages(n, len(v.Unknown()) > 0))
	} else if len(v.Unknown()) > 0 {
		fmt.Fprintln(w, "    messages: counted when applying, once warren has access to the vhost; apply deletes no queue that holds any without --destroy-messages")
	}
}

// messages says how many messages: n, or at least n when the count is not
// known, never "0 messages" for a count warren does not have.
func messages(n int64, unknown bool) string {
	switch {
	case unknown && n == 0:
		return "an unknown number of messages"
	case unknown:
		return fmt.Sprintf("at least %d messages", n)
	case n == 1:
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}

// Summary is the plan's one-line summary.
func Summary(p *plan.Plan) string {
	if p.Empty() {
		return "Plan: no changes."
	}
	c := p.Counts()
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to replace, %d to delete.", c[plan.Create], c[plan.Update], c[plan.Replace], c[plan.Delete])
}

func unmanagedText(p *plan.Plan) string { return countsText(p.Unmanaged) }

func writeField(w io.Writer, f plan.FieldChange, paint func(plan.Action, string) string) {
	if f.Sensitive {
		fmt.Fprintf(w, "    %s: %s differs\n", f.Field, sensitive)
		return
	}
	before, after := definitions.OneLine(f.Before), definitions.OneLine(f.After)
	if len(before)+len(after) < 100 && !strings.Contains(before+after, "\n") {
		fmt.Fprintf(w, "    %s: %s → %s\n", f.Field, before, after)
		return
	}
	fmt.Fprintf(w, "    %s:\n", f.Field)
	dmp := diffmatchpatch.New()
	a, b, lines := dmp.DiffLinesToChars(definitions.PrettyJSON(f.Before), definitions.PrettyJSON(f.After))
	for _, d := range dmp.DiffCharsToLines(dmp.DiffMain(a, b, false), lines) {
		marker, action := " ", plan.Action(0)
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			marker, action = "-", plan.Delete
		case diffmatchpatch.DiffInsert:
			marker, action = "+", plan.Create
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
func displayFields(o definitions.Object) []definitions.Field {
	var out []definitions.Field
	for _, m := range definitions.FieldsOf(o) {
		switch {
		case slices.Contains(identityFields, m.Name):
		case slices.Contains(secretFields, m.Name):
			out = append(out, definitions.Field{Name: m.Name, Value: sensitive})
		case m.Name == "value" && isParameter(o):
			out = append(out, definitions.Field{Name: m.Name, Value: definitions.MaskCredentials(m.Value)})
		default:
			out = append(out, m)
		}
	}
	return out
}

// isParameter reports whether o's value may hold URIs with credentials.
func isParameter(o definitions.Object) bool {
	switch o.(type) {
	case *definitions.Parameter, *definitions.GlobalParameter:
		return true
	}
	return false
}

func contentsJSON(v *plan.VhostContents) *plan.VhostContentsJSON {
	if v == nil {
		return nil
	}
	out := &plan.VhostContentsJSON{Queues: []plan.QueueMessagesJSON{}, Messages: v.Messages(), MessagesUnknown: v.Unknown(), Exchanges: append([]string{}, v.Exchanges...), Bindings: v.Bindings,
		Policies: append([]string{}, v.Policies...), Parameters: append([]string{}, v.Parameters...), Permissions: append([]string{}, v.Permissions...), TopicPermissions: append([]string{}, v.TopicPermissions...)}
	for _, q := range v.Queues {
		out.Queues = append(out.Queues, plan.QueueMessagesJSON{Name: q.Name, Messages: q.Messages, Unknown: q.Unknown})
	}
	return out
}

// ToJSON converts a plan to its documented JSON shape.
func ToJSON(p *plan.Plan) plan.JSON {
	c := p.Counts()
	out := plan.JSON{FormatVersion: 1, InSync: p.Empty(), Changes: []plan.ChangeJSON{}, Skipped: []plan.SkipJSON{}, Unmanaged: map[string]int{},
		Summary: map[string]int{"create": c[plan.Create], "update": c[plan.Update], "replace": c[plan.Replace], "delete": c[plan.Delete]},
		Pruning: p.Pruning, LiveDigest: p.LiveDigest}
	for _, ch := range p.Changes {
		cj := plan.ChangeJSON{Action: ch.Action.Verb(), Marker: string(ch.Action), Kind: string(ch.Kind), Step: string(ch.Step), Address: ch.Addr.String(), Reason: ch.Reason}
		for _, f := range ch.Fields {
			fj := plan.FieldChangeJSON{Field: f.Field, Sensitive: f.Sensitive}
			if !f.Sensitive {
				fj.Before, fj.After = jsonValue(f.Before), jsonValue(f.After)
			}
			cj.Fields = append(cj.Fields, fj)
		}
		switch ch.Action {
		case plan.Create:
			cj.Object = objectJSON(ch.After)
		case plan.Delete:
			cj.Object = objectJSON(ch.Before)
			cj.Takes = contentsJSON(ch.Takes)
		}
		out.Changes = append(out.Changes, cj)
	}
	for _, s := range p.Skipped {
		out.Skipped = append(out.Skipped, plan.SkipJSON{Address: s.Addr.String(), Reason: s.Reason, Differs: s.Differs})
	}
	for k, n := range p.Unmanaged {
		out.Unmanaged[string(k)] = n
	}
	if p.OutOfScope != nil {
		out.OutOfScope = map[string]int{}
		for k, n := range p.OutOfScope {
			out.OutOfScope[string(k)] = n
		}
	}
	for _, a := range p.Access {
		out.Access = append(out.Access, plan.AccessChangeJSON{Change: a.Text, Gained: a.Gained})
	}
	for _, d := range p.Disconnect {
		out.CloseConnections = append(out.CloseConnections, plan.DisconnectJSON(d))
	}
	if p.Record != nil {
		o := &plan.OwnershipJSON{Owner: p.Record.Owner, Recorded: p.Record.Len(), RecordChanges: p.RecordChanged(),
			OwnedElsewhere: map[string]int{}, NotOwned: map[string]int{}, Forgotten: []string{}, TakeOvers: []plan.TakeOverJSON{}}
		maps.Copy(o.OwnedElsewhere, p.OwnedElsewhere)
		for k, n := range p.NotOwned {
			o.NotOwned[string(k)] = n
		}
		for _, a := range p.Forgotten {
			o.Forgotten = append(o.Forgotten, a.String())
		}
		for _, t := range p.TakeOvers {
			o.TakeOvers = append(o.TakeOvers, plan.TakeOverJSON{Address: t.Addr.String(), From: t.From})
		}
		out.Ownership = o
	}
	return out
}

// objectJSON is an object's fields as JSON values, secrets replaced.
func objectJSON(o definitions.Object) map[string]any {
	out := map[string]any{}
	for _, m := range definitions.FieldsOf(o) {
		if slices.Contains(secretFields, m.Name) {
			out[m.Name] = sensitive
			continue
		}
		if m.Name == "value" && isParameter(o) {
			out[m.Name] = jsonValue(definitions.MaskCredentials(m.Value))
			continue
		}
		out[m.Name] = jsonValue(m.Value)
	}
	return out
}

// jsonValue turns a model value into what encoding/json writes faithfully:
// its canonical JSON, numbers exactly as the files or the broker wrote them.
func jsonValue(v any) any {
	if v == nil {
		return nil
	}
	return json.RawMessage(definitions.OneLine(v))
}

// NoChanges is what an empty plan says: that the broker matches the
// files, or, when objects that differ are left alone, how many.
func NoChanges(p *plan.Plan) string {
	if n := p.LeftDiffering(); n > 0 {
		if n == 1 {
			return "No changes warren can make: 1 object differs from the files and is left alone (below)."
		}
		return fmt.Sprintf("No changes warren can make: %d objects differ from the files and are left alone (below).", n)
	}
	return "No changes: the broker matches the files."
}

// Markdown writes the plan for a pull-request comment: a heading
// with the summary and the text rendering in a diff block.
func Markdown(w io.Writer, p *plan.Plan, title string) {
	fmt.Fprintf(w, "### %s\n\n", title)
	if p.Empty() && p.LeftDiffering() == 0 {
		fmt.Fprintln(w, NoChanges(p))
		return
	}
	fmt.Fprintf(w, "%s\n\n```diff\n", Summary(p))
	var b bytes.Buffer
	Text(&b, p, Options{})
	w.Write(b.Bytes())
	fmt.Fprintln(w, "```")
}

func objects(n int) string {
	if n == 1 {
		return "1 object"
	}
	return fmt.Sprintf("%d objects", n)
}
