package rabbitmq_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestTakeBackNotFoundIsNotDone: an apply that stops before it created a
// vhost takes back the grant RabbitMQ would have given on it; the broker
// answers 404, and that is not reported as done (Done lists only what the
// broker did).
func TestTakeBackNotFoundIsNotDone(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	c := client(t, n)
	ctx := context.Background()
	desired := parse(t, "defs.yaml", []byte("vhosts:\n  - name: never-made\n"))
	p, _ := diff(t, c, desired, plan.WithActingUser(n.Admin))
	var ungrants int
	for _, ch := range p.Changes {
		if ch.Step == plan.StepUngrant {
			ungrants++
		}
	}
	if ungrants != 1 {
		t.Fatalf("want the plan to take back the vhost's grant once, got %d:\n%+v", ungrants, p.Changes)
	}
	stop := make(chan struct{})
	close(stop)
	err := c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin, Stop: stop})
	var ae *plan.ApplyError
	if !errors.As(err, &ae) || !errors.Is(err, rabbitmq.ErrInterrupted) {
		t.Fatalf("want an interrupted apply, got %v", err)
	}
	if len(ae.Done) != 0 || len(ae.Failed) != 0 {
		t.Errorf("nothing was done on the broker, yet Done %v, Failed %v", ae.Done, ae.Failed)
	}
	for _, ch := range ae.Remaining {
		if ch.Step.TakesBackGrant() {
			t.Errorf("a grant never given still remains to take back: %s", ch.Addr)
		}
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/never-made", nil, nil); err == nil {
		t.Error("the vhost was created")
	}
}

// TestApplyReadsSecretsFirst: a plan with a secret that cannot be read
// fails before the first request that changes the broker, with a
// SecretError per unreadable secret (the new vhost is not created).
func TestApplyReadsSecretsFirst(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	c := client(t, n)
	ctx := context.Background()
	desired := parse(t, "defs.yaml", []byte(`vhosts:
  - name: secrets-first
users:
  - name: deployer
    password: {env: WARREN_TEST_UNSET_DEPLOYER}
    tags: []
parameters:
  - vhost: secrets-first
    component: federation-upstream
    name: up
    value: {uri: [amqp://localhost, {file: /nonexistent/warren-uri}]}
`))
	p, _ := diff(t, c, desired, plan.WithActingUser(n.Admin))
	err := c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin})
	var ae *plan.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("want an ApplyError, got %v", err)
	}
	if len(ae.Done) != 0 {
		t.Errorf("Done: %v", ae.Done)
	}
	diags, ok := desired.SecretDiagnostics(err)
	if !ok || len(diags) != 2 {
		t.Fatalf("want 2 E034, got %v", diags)
	}
	text := diags.Error()
	for _, want := range []string{"/users/0/password", "/parameters/0/value/uri/1", "E034"} {
		if !strings.Contains(text, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, text)
		}
	}
	if err := n.Do(ctx, "GET", "/api/vhosts/secrets-first", nil, nil); err == nil {
		t.Error("the vhost was created before the secrets were read")
	}
	_ = definitions.KindVhost
}
