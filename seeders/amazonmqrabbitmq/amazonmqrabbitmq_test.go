package amazonmqrabbitmq

import (
	"testing"

	"github.com/warren-tool/warren/definitions"
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
		{&definitions.Parameter{Component: "vhost-limits", Vhost: "/", Name: "limits"}, true},
		{&definitions.Parameter{Component: "vhost-limits", Vhost: "orders", Name: "limits"}, false},
		{&definitions.User{Name: "AWS-DEFAULT-user"}, false},
	}
	for _, tt := range tests {
		if got := Owned(tt.o) != ""; got != tt.want {
			t.Errorf("Owned(%s) = %v, want %v", tt.o.Addr(), got, tt.want)
		}
	}
}
