package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestUnreadableSecretBeforeAnything: a secret the plan needs that cannot
// be read (a created user's {env} password, a parameter's {file} URI) is an
// E034 at its place, from diff as from apply, and apply changes nothing.
func TestUnreadableSecretBeforeAnything(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	defs := writeTemp(t, "defs.yaml", `vhosts:
  - name: dv
users:
  - name: deployer
    password: {env: DEPLOYER_PASSWORD}
    tags: []
permissions:
  - {user: deployer, vhost: dv, configure: ".*", write: ".*", read: ".*"}
parameters:
  - vhost: dv
    component: federation-upstream
    name: up
    value:
      uri: {file: /nonexistent/warren-upstream-uri}
`)
	t.Setenv("DEPLOYER_PASSWORD", "")
	want := []*regexp.Regexp{
		regexp.MustCompile(`defs.yaml:5:5: /users/0/password: user "deployer": password cannot be read: environment variable DEPLOYER_PASSWORD is empty \[E034\]`),
		regexp.MustCompile(`defs.yaml:14:7: /parameters/0/value/uri: parameter federation-upstream "up" on vhost "dv": value/uri cannot be read: .*nonexistent.* \[E034\]`),
	}
	for _, args := range [][]string{{"diff", defs}, {"apply", "--yes", defs}} {
		code, out, errOut := warren(t, args...)
		if code != exitError {
			t.Fatalf("%v: exit %d, want %d\n%s%s", args, code, exitError, out, errOut)
		}
		for _, re := range want {
			if !re.MatchString(errOut) {
				t.Errorf("%v: stderr lacks %s:\n%s", args, re, errOut)
			}
		}
		if strings.Contains(out+errOut, "Done") {
			t.Errorf("%v: reports something done:\n%s%s", args, out, errOut)
		}
	}
	if err := n.Do(context.Background(), "GET", "/api/vhosts/dv", nil, nil); err == nil {
		t.Error("apply created the vhost")
	}
}
