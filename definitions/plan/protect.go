package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
)

// ProtectedTag is the user tag with which RabbitMQ 4.2+ refuses to change
// or delete a user over the HTTP API.
const ProtectedTag = "protected"

// protectedVhostReason is why a prune leaves a vhost protected from
// deletion on the broker.
func protectedVhostReason(name string) string {
	return fmt.Sprintf("protected from deletion on the broker (protected_from_deletion): left alone, with all it holds. "+
		"To delete it, unprotect it first: name it in the files with metadata: {protected_from_deletion: false} and apply, "+
		"or DELETE /api/vhosts/%s/deletion/protection; then prune again", escPath(name))
}

func escPath(s string) string {
	return strings.NewReplacer("%", "%25", "/", "%2F", " ", "%20", "?", "%3F", "#", "%23").Replace(s)
}

// refKey is an object's kind and identity (Object.Key).
type refKey struct {
	kind definitions.Kind
	key  string
}

// references lists the vhosts, users, exchanges and queues the files
// refer to, each with the first object (in the files' order, kind by
// kind) that refers to it: a prune must not delete what the files need.
// An exchange is referred to by a binding, a topic permission, and as a
// queue's or a policy's dead-letter exchange or an exchange's or a
// policy's alternate exchange (deleting one of those drops messages).
func references(d *definitions.Document) map[refKey]definitions.Object {
	out := map[refKey]definitions.Object{}
	add := func(target definitions.Object, from definitions.Object) {
		a := refKey{target.Kind(), target.Key()}
		if _, ok := out[a]; !ok {
			out[a] = from
		}
	}
	for _, k := range definitions.Kinds {
		for o := range d.All(k) {
			if v := o.VhostName(); v != "" && k != definitions.KindVhost {
				add(&definitions.Vhost{Name: v}, o)
			}
			switch o := o.(type) {
			case *definitions.Permission:
				add(&definitions.User{Name: o.User}, o)
			case *definitions.TopicPermission:
				add(&definitions.User{Name: o.User}, o)
				add(&definitions.Exchange{Vhost: o.Vhost, Name: o.Exchange}, o)
			case *definitions.Queue:
				// Deleting its dead-letter exchange drops what the queue
				// dead-letters.
				if x, _ := o.Arguments.Get("x-dead-letter-exchange").(string); x != "" {
					add(&definitions.Exchange{Vhost: o.Vhost, Name: x}, o)
				}
			case *definitions.Exchange:
				if x, _ := o.Arguments.Get("alternate-exchange").(string); x != "" {
					add(&definitions.Exchange{Vhost: o.Vhost, Name: x}, o)
				}
			case *definitions.Policy:
				for _, key := range []string{"dead-letter-exchange", "alternate-exchange"} {
					if x, _ := o.Definition[key].(string); x != "" {
						add(&definitions.Exchange{Vhost: o.Vhost, Name: x}, o)
					}
				}
			case *definitions.Binding:
				add(&definitions.Exchange{Vhost: o.Vhost, Name: o.Source}, o)
				switch o.DestinationType {
				case "exchange":
					add(&definitions.Exchange{Vhost: o.Vhost, Name: o.Destination}, o)
				case "queue":
					add(&definitions.Queue{Vhost: o.Vhost, Name: o.Destination}, o)
				}
			}
		}
	}
	return out
}

// referredReason is why a prune keeps an object the files refer to.
func referredReason(from definitions.Object) string {
	if place := definitions.Place(from); place != "" {
		return fmt.Sprintf("the files refer to it (%s at %s): kept, although they do not define it", from.Addr(), place)
	}
	return fmt.Sprintf("the files refer to it (%s): kept, although they do not define it", from.Addr())
}

// unprunableVhosts are the live vhosts protected from deletion that the
// files neither define nor refer to, each with why what lives in it is
// left alone: a prune that cannot delete the vhost must not empty it.
func unprunableVhosts(desired, live *definitions.Document, cfg diffConfig) map[string]string {
	if !cfg.vhostProtection() || !desired.Has(definitions.KindVhost) {
		return nil
	}
	named := map[string]bool{}
	for _, v := range desired.Vhosts {
		named[v.Name] = true
	}
	for _, k := range definitions.Kinds {
		for o := range desired.All(k) {
			named[o.VhostName()] = true
		}
	}
	var out map[string]string
	for _, v := range live.Vhosts {
		if named[v.Name] || v.Protected == nil || !*v.Protected {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[v.Name] = fmt.Sprintf("in vhost %q, which is protected from deletion: a prune that leaves the vhost does not empty it", v.Name)
	}
	return out
}

// leaveProtectedUsers takes out of the plan every change of a user tagged
// protected on the broker, and of its permissions and topic permissions,
// and lists each as skipped with what it would have done and how the
// protection is lifted. RabbitMQ 4.2+ refuses PUT and DELETE
// /api/users/{name} of such a user, but its import changes the user's tags
// and password without a word, and DELETE /api/permissions removes its
// permissions: warren's promise is the broker's, for every path. The
// permissions warren grants itself for an apply (and takes back) are
// exempt: they are warren's own, not the files'.
func leaveProtectedUsers(plan *Plan, live *definitions.Document, cfg diffConfig) {
	if !cfg.protectedTag() {
		return
	}
	prot := map[string]*definitions.User{}
	for _, u := range live.Users {
		if slices.Contains(u.Tags, ProtectedTag) {
			prot[u.Name] = u
		}
	}
	if len(prot) == 0 {
		return
	}
	kept := plan.Changes[:0:0]
	for _, ch := range plan.Changes {
		var name string
		switch o := firstObject(ch).(type) {
		case *definitions.User:
			name = o.Name
		case *definitions.Permission:
			name = o.User
		case *definitions.TopicPermission:
			name = o.User
		}
		u, ok := prot[name]
		if !ok || ch.Step == StepBorrowAccess || ch.Step.TakesBackGrant() {
			kept = append(kept, ch)
			continue
		}
		plan.Skipped = append(plan.Skipped, Skip{Addr: ch.Addr, Reason: protectedUserReason(ch, u), Differs: true})
	}
	plan.Changes = kept
}

func firstObject(ch Change) definitions.Object {
	if ch.After != nil {
		return ch.After
	}
	return ch.Before
}

// protectedUserReason says what the files would do to a protected user
// (or its permission), and how the protection is lifted: rabbitmqctl
// set_user_tags with the user's tags but protected (with none, it clears
// them; RabbitMQ has no clear_user_tags).
func protectedUserReason(ch Change, u *definitions.User) string {
	what := ch.Action.Verb() + " it"
	if len(ch.Fields) > 0 {
		names := make([]string, len(ch.Fields))
		for i, f := range ch.Fields {
			names[i] = f.Field
		}
		what = "change " + strings.Join(names, ", ")
	}
	whose := "tagged protected on the broker"
	if ch.Kind != definitions.KindUser {
		whose = fmt.Sprintf("its user %q is tagged protected on the broker, and warren leaves a protected user's permissions alone too", u.Name)
	}
	cmd := []string{"rabbitmqctl", "set_user_tags", shellQuote(u.Name)}
	for _, t := range u.Tags {
		if t != ProtectedTag {
			cmd = append(cmd, shellQuote(t))
		}
	}
	return fmt.Sprintf("%s: left alone (the files would %s). To let warren manage it, lift the protection first: %s",
		whose, what, strings.Join(cmd, " "))
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@:+=,/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
