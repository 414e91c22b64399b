package amazonmqrabbitmq

import (
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

func TestOwned(t *testing.T) {
	tests := []struct {
		o    definitions.Object
		want bool
	}{
		{&definitions.Policy{Name: "AWS-DEFAULT-POLICY-SINGLE-INSTANCE", Vhost: "/"}, true},
		{&definitions.Policy{Name: "AWS-DEFAULT-POLICY-CLUSTER-MULTI-AZ", Vhost: "/"}, true},
		{&definitions.Policy{Name: "ha-all-AWS-OWNED-DO-NOT-DELETE", Vhost: "/"}, true},
		{&definitions.Policy{Name: "my-policy", Vhost: "/"}, false},
		{&definitions.Policy{Name: "warren-migrate.ha-all-AWS-OWNED-DO-NOT-DELETE", Vhost: "/"}, false},
		{&definitions.Parameter{Component: "vhost-limits", Vhost: "/", Name: "limits"}, true},
		{&definitions.Parameter{Component: "vhost-limits", Vhost: "orders", Name: "limits"}, false},
		{&definitions.User{Name: "AWS-DEFAULT-user"}, false},
		{&definitions.Policy{Name: "AWS-DEFAULT-QUORUM-QUEUES-POLICY-CLUSTER-MULTI-AZ", Vhost: "/"}, true},
		{&definitions.Parameter{Component: "operator_policy", Vhost: "orders", Name: "default_operator_policy_AWS_managed"}, true},
		{&definitions.Parameter{Component: "operator_policy", Vhost: "orders", Name: "mine"}, false},
		{&definitions.Parameter{Component: "shovel", Vhost: "orders", Name: "default_operator_policy_AWS_managed"}, false},
	}
	for _, tt := range tests {
		if got := Owned(tt.o) != ""; got != tt.want {
			t.Errorf("Owned(%s) = %v, want %v", tt.o.Addr(), got, tt.want)
		}
	}
}

// TestSystemUserLeftAlone: Amazon MQ's system user and its permissions are
// neither changed, pruned nor created by the files, also on a RabbitMQ
// that does not honour its protected tag (3.13).
func TestSystemUserLeftAlone(t *testing.T) {
	parse := func(data string) *definitions.Document {
		d, diags := definitions.Parse("x.json", []byte(data))
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		return d
	}
	live := parse(`{"users": [{"name": "admin", "password_hash": "", "tags": ["administrator"]},
		{"name": "monitoring-AWS-OWNED-DO-NOT-DELETE", "password_hash": "", "tags": ["monitoring", "protected"]}],
		"vhosts": [{"name": "/"}],
		"permissions": [{"user": "monitoring-AWS-OWNED-DO-NOT-DELETE", "vhost": "/", "configure": "", "write": "", "read": ".*"}]}`)
	for _, tc := range []struct{ name, files string }{
		{"pruned", `{"users": [{"name": "admin", "password_hash": "", "tags": ["administrator"]}], "permissions": []}`},
		{"changed", `{"users": [{"name": "admin", "password_hash": "", "tags": ["administrator"]},
			{"name": "monitoring-AWS-OWNED-DO-NOT-DELETE", "password_hash": "", "tags": ["administrator"]}],
			"permissions": [{"user": "monitoring-AWS-OWNED-DO-NOT-DELETE", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]}`},
	} {
		for _, version := range []string{"3.13.7", "4.2.3"} {
			p, err := plan.Diff(parse(tc.files), live, append(DiffOptions(), plan.WithPrune(true), plan.WithRabbitMQVersion(version))...)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() {
				t.Errorf("%s on %s: the plan changes the system user: %+v", tc.name, version, p.Changes)
			}
		}
	}
	missing := parse(`{"users": [{"name": "admin", "password_hash": "", "tags": ["administrator"]}]}`)
	p, err := plan.Diff(parse(`{"users": [{"name": "monitoring-AWS-OWNED-DO-NOT-DELETE", "password": "x", "tags": []}]}`), missing, DiffOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Errorf("the files create Amazon MQ's system user: %+v", p.Changes)
	}
}

// TestDropOwned: the export filter takes out Amazon MQ's policies and the
// default vhost's limits, and keeps the user's own.
func TestDropOwned(t *testing.T) {
	d := &definitions.Document{
		Policies: []*definitions.Policy{{Name: "AWS-DEFAULT-POLICY-SINGLE-INSTANCE", Vhost: "/"}, {Name: "mine", Vhost: "/"}},
		Parameters: []*definitions.Parameter{{Component: "vhost-limits", Vhost: "/", Name: "limits"},
			{Component: "operator_policy", Vhost: "orders", Name: "default_operator_policy_AWS_managed"},
			{Component: "vhost-limits", Vhost: "orders", Name: "limits"}},
	}
	DropOwned(d)
	if len(d.Policies) != 1 || d.Policies[0].Name != "mine" || len(d.Parameters) != 1 || d.Parameters[0].Vhost != "orders" {
		t.Errorf("after DropOwned: policies %v, parameters %v", d.Policies, d.Parameters)
	}
}
