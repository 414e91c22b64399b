package plan

import (
	"cmp"
	"slices"

	"github.com/warren-tool/warren/definitions"
)

// Disconnect names connections an apply closes when it is done
// (Options.CloseConnections): those of User, to Vhost or ("") to every
// vhost. RabbitMQ checks a connection's credentials and its vhost access
// when the connection opens, and a new password or a narrower permission
// does not reach the connections already open: the broker's own rotation
// procedure is to change them, close the user's connections, and let the
// applications connect again.
type Disconnect struct {
	User  string
	Vhost string // "" for every vhost
	// Why, in words: "password changed", "deleted", "permissions
	// reduced", "topic permissions reduced".
	Why string
}

// Disconnects lists whose connections a plan's apply closes: users whose
// password changes or who are deleted (every connection; the broker closes
// a deleted user's connections itself, and the apply checks that it did),
// and users whose permission or topic permissions in a vhost may allow
// less after the plan (their connections to that vhost).
//
// A permission allows less when it is deleted, or when one of its patterns
// changes, unless the old pattern matched nothing or the new one matches
// everything: whether one regular expression matches all that another does
// cannot be decided in general, so a changed pattern is taken as a
// reduction. A new topic permission reduces too: with none on an
// exchange, every routing key is allowed.
func Disconnects(p *Plan) []Disconnect {
	var out []Disconnect
	whole := map[string]bool{}
	for _, ch := range p.Changes {
		if ch.Kind != definitions.KindUser {
			continue
		}
		name := ""
		switch {
		case ch.Action == Delete:
			name = ch.Before.(*definitions.User).Name
			out = append(out, Disconnect{User: name, Why: "deleted"})
		case ch.Action == Update && slices.ContainsFunc(ch.Fields, func(f FieldChange) bool {
			return f.Field == "password" || f.Field == "password_hash" || f.Field == "hashing_algorithm"
		}):
			name = ch.After.(*definitions.User).Name
			out = append(out, Disconnect{User: name, Why: "password changed"})
		}
		if name != "" {
			whole[name] = true
		}
	}
	inVhost := map[[2]string]bool{}
	add := func(user, vhost, why string) {
		if whole[user] || inVhost[[2]string{user, vhost}] {
			return
		}
		inVhost[[2]string{user, vhost}] = true
		out = append(out, Disconnect{User: user, Vhost: vhost, Why: why})
	}
	for _, ch := range p.Changes {
		switch ch.Kind {
		case definitions.KindPermission:
			before, _ := ch.Before.(*definitions.Permission)
			after, _ := ch.After.(*definitions.Permission)
			if before == nil {
				continue // a new permission allows more
			}
			if after == nil && !(matchesNothing(before.Configure) && matchesNothing(before.Write) && matchesNothing(before.Read)) ||
				after != nil && (narrows(before.Configure, after.Configure) || narrows(before.Write, after.Write) || narrows(before.Read, after.Read)) {
				add(before.User, before.Vhost, "permissions reduced")
			}
		case definitions.KindTopicPermission:
			if ch.Step == StepRebind && ch.Reason == regrantReason {
				continue // written again as it was, after its exchange's replacement
			}
			before, _ := ch.Before.(*definitions.TopicPermission)
			after, _ := ch.After.(*definitions.TopicPermission)
			var reduced bool
			switch {
			case before == nil && after != nil:
				reduced = !matchesAll(after.Write) || !matchesAll(after.Read)
			case before != nil && after == nil:
				// Without it, the exchange's routing keys are all allowed,
				// unless the user keeps other topic permissions there.
				reduced = false
			case before != nil:
				reduced = narrows(before.Write, after.Write) || narrows(before.Read, after.Read)
			}
			if reduced {
				u := before
				if u == nil {
					u = after
				}
				add(u.User, u.Vhost, "topic permissions reduced")
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Disconnect) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Vhost, b.Vhost))
	})
	return out
}

// narrows reports whether changing a permission's pattern from before to
// after may allow less.
func narrows(before, after string) bool {
	return before != after && !matchesNothing(before) && !matchesAll(after)
}

// matchesNothing: RabbitMQ reads "" as "^$", which no resource name matches.
func matchesNothing(p string) bool { return p == "" || p == "^$" }

// matchesAll: the patterns that match every name.
func matchesAll(p string) bool { return p == ".*" || p == "^.*" || p == ".*$" || p == "^.*$" }
