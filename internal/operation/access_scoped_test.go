package operation

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/access"
	"github.com/warren-tool/warren/definitions/plan"
)

// TestAccessChangesScoped: comparing only the users and vhosts a plan may
// change gives what comparing the whole broker before and after gives
// (accessChangesWhole), on random brokers and plans of every kind access
// reads: permissions and topic permissions made, changed and deleted,
// users and vhosts deleted, exchanges retyped or made internal, queues
// made and deleted.
func TestAccessChangesScoped(t *testing.T) {
	patterns := []string{"", ".*", "^q", "^e", "x", "^q1$", "{username}", "^{vhost}"}
	for seed := range uint64(400) {
		r := rand.New(rand.NewPCG(seed, 7))
		pick := func(s []string) string { return s[r.IntN(len(s))] }
		users := []string{"u0", "u1", "u2", "u3"}
		vhosts := []string{"v0", "v1", "v2"}
		names := []string{"q0", "q1", "e0", "e1", "x"}
		live := &definitions.Document{}
		for _, u := range users {
			live.Users = append(live.Users, &definitions.User{Name: u})
		}
		for _, v := range vhosts {
			live.Vhosts = append(live.Vhosts, &definitions.Vhost{Name: v})
			for _, u := range users {
				if r.IntN(3) > 0 {
					live.Permissions = append(live.Permissions, &definitions.Permission{User: u, Vhost: v, Configure: pick(patterns), Write: pick(patterns), Read: pick(patterns)})
				}
				if r.IntN(3) == 0 {
					live.TopicPermissions = append(live.TopicPermissions, &definitions.TopicPermission{User: u, Vhost: v, Exchange: pick([]string{"e0", "amq.topic"}), Write: pick(patterns), Read: pick(patterns)})
				}
			}
			for _, n := range names {
				switch r.IntN(3) {
				case 0:
					live.Queues = append(live.Queues, &definitions.Queue{Vhost: v, Name: n})
				case 1:
					internal := r.IntN(4) == 0
					live.Exchanges = append(live.Exchanges, &definitions.Exchange{Vhost: v, Name: n, Type: pick([]string{"direct", "topic"}), Internal: &internal})
				}
			}
		}
		p := &plan.Plan{}
		add := func(kind definitions.Kind, before, after definitions.Object) {
			a := plan.Update
			if before == nil {
				a = plan.Create
			} else if after == nil {
				a = plan.Delete
			}
			o := after
			if o == nil {
				o = before
			}
			p.Changes = append(p.Changes, plan.Change{Action: a, Kind: kind, Addr: plan.AddrOf(o), Before: before, After: after})
		}
		for range 1 + r.IntN(4) {
			switch r.IntN(9) {
			case 0, 1:
				if len(live.Permissions) > 0 {
					b := live.Permissions[r.IntN(len(live.Permissions))]
					if r.IntN(3) == 0 {
						add(definitions.KindPermission, b, nil)
					} else {
						add(definitions.KindPermission, b, &definitions.Permission{User: b.User, Vhost: b.Vhost, Configure: pick(patterns), Write: pick(patterns), Read: pick(patterns)})
					}
				}
			case 2:
				u, v := pick(append(users, "new")), pick(vhosts)
				if !slices.ContainsFunc(live.Permissions, func(x *definitions.Permission) bool { return x.User == u && x.Vhost == v }) {
					add(definitions.KindPermission, nil, &definitions.Permission{User: u, Vhost: v, Configure: pick(patterns), Write: pick(patterns), Read: pick(patterns)})
				}
			case 3:
				if len(live.TopicPermissions) > 0 {
					b := live.TopicPermissions[r.IntN(len(live.TopicPermissions))]
					if r.IntN(2) == 0 {
						add(definitions.KindTopicPermission, b, nil)
					} else {
						add(definitions.KindTopicPermission, b, &definitions.TopicPermission{User: b.User, Vhost: b.Vhost, Exchange: b.Exchange, Write: pick(patterns), Read: pick(patterns)})
					}
				}
			case 4:
				add(definitions.KindUser, live.Users[r.IntN(len(live.Users))], nil)
			case 5:
				add(definitions.KindVhost, live.Vhosts[r.IntN(len(live.Vhosts))], nil)
			case 6:
				if len(live.Exchanges) > 0 {
					b := live.Exchanges[r.IntN(len(live.Exchanges))]
					internal := r.IntN(2) == 0
					add(definitions.KindExchange, b, &definitions.Exchange{Vhost: b.Vhost, Name: b.Name, Type: pick([]string{"direct", "topic", "fanout"}), Internal: &internal})
				}
			case 7:
				if len(live.Queues) > 0 {
					add(definitions.KindQueue, live.Queues[r.IntN(len(live.Queues))], nil)
				}
			case 8:
				n, v := pick(names)+"n", pick(vhosts)
				if r.IntN(2) == 0 {
					add(definitions.KindQueue, nil, &definitions.Queue{Vhost: v, Name: n})
				} else {
					add(definitions.KindExchange, nil, &definitions.Exchange{Vhost: v, Name: n, Type: "topic"})
				}
			}
		}
		text := func(cs []access.Change) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.String())
			}
			return out
		}
		want, got := text(accessChangesWhole(live, p, "4.3.6")), text(AccessChanges(live, p, "4.3.6"))
		if diff := cmp.Diff(want, got); diff != "" {
			var plan []string
			for _, ch := range p.Changes {
				plan = append(plan, fmt.Sprintf("%c %s", ch.Action, ch.Addr))
			}
			t.Fatalf("seed %d, plan %v: scoped changes differ from the whole (-whole +scoped):\n%s", seed, plan, diff)
		}
	}
}

// accessChangesWhole is AccessChanges by comparing every object of the
// broker before and after the plan.
func accessChangesWhole(live *definitions.Document, p *plan.Plan, version string) []access.Change {
	type key struct {
		kind definitions.Kind
		key  string
	}
	objects := map[key]definitions.Object{}
	var order []key
	put := func(o definitions.Object) {
		k := key{o.Kind(), o.Key()}
		if _, ok := objects[k]; !ok {
			order = append(order, k)
		}
		objects[k] = o
	}
	each := func(d *definitions.Document, f func(definitions.Object)) {
		for _, o := range d.Users {
			f(o)
		}
		for _, o := range d.Vhosts {
			f(o)
		}
		for _, o := range d.Permissions {
			f(o)
		}
		for _, o := range d.TopicPermissions {
			f(o)
		}
		for _, o := range d.Queues {
			f(o)
		}
		for _, o := range d.Exchanges {
			f(o)
		}
	}
	each(live, put)
	goneUsers, goneVhosts := map[string]bool{}, map[string]bool{}
	for _, ch := range p.Changes {
		if !slices.Contains(AccessKinds, ch.Kind) {
			continue
		}
		if ch.Before != nil && ch.After == nil {
			delete(objects, key{ch.Before.Kind(), ch.Before.Key()})
			switch o := ch.Before.(type) {
			case *definitions.User:
				goneUsers[o.Name] = true
			case *definitions.Vhost:
				goneVhosts[o.Name] = true
			}
		}
		if ch.After != nil {
			put(ch.After)
		}
	}
	after := &definitions.Document{RabbitMQVersion: live.RabbitMQVersion}
	for _, k := range order {
		switch o := objects[k].(type) {
		case *definitions.User:
			after.Users = append(after.Users, o)
		case *definitions.Vhost:
			after.Vhosts = append(after.Vhosts, o)
		case *definitions.Permission:
			if !goneUsers[o.User] && !goneVhosts[o.Vhost] {
				after.Permissions = append(after.Permissions, o)
			}
		case *definitions.TopicPermission:
			if !goneUsers[o.User] && !goneVhosts[o.Vhost] {
				after.TopicPermissions = append(after.TopicPermissions, o)
			}
		case *definitions.Queue:
			if !goneVhosts[o.Vhost] {
				after.Queues = append(after.Queues, o)
			}
		case *definitions.Exchange:
			if !goneVhosts[o.Vhost] {
				after.Exchanges = append(after.Exchanges, o)
			}
		}
	}
	opts := access.Options{Version: version}
	return access.Compare(access.New(live, opts), access.New(after, opts))
}
