package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestCLIScripts runs testdata/broker/<subcommand>_<topic>.txtar against the
// shared RabbitMQ node (WARREN_RABBITMQ picks its version), one script at a
// time, each on a node reset to a blank node's state. A script sees the
// node as $URL, $USER and $PASSWORD (the node's administrator), and as
// WARREN_URL, WARREN_USERNAME and WARREN_PASSWORD, so that exec warren talks
// to it as a user's shell would. Under -short the scripts skip without
// starting a node. (Not named TestScripts*: make golden-check runs those,
// and it starts no broker.)
//
// Besides testscript's own commands, scripts have:
//
//	synced [FLAGS] FILES...  warren diff exits 0: the broker matches the files;
//	                         ! synced: it exits 2, drift (an error fails both)
//	fails SUBCOMMAND [ARGS...]
//	                         warren exits 1, an error (not drift, not a crash);
//	                         its output is kept for stdout and stderr
//	brokerhas KIND NAME [VHOST] [FIELD=VALUE...]
//	                         the management API has it (vhost, user, queue,
//	                         exchange, policy, permission NAME=user,
//	                         global-parameter, parameter NAME=component/name;
//	                         VHOST defaults to /), with these values at
//	                         these dotted paths of its JSON (type=quorum,
//	                         value.max-queues=10); ! brokerhas: it is not
//	                         there, or a value differs
//	login USER PASSWORD      USER can log in with PASSWORD (GET /api/whoami)
//	broker [-u USER:PASSWORD] METHOD PATH [JSON]
//	                         a management API call as the administrator (or
//	                         USER), behind warren's back; the reply goes to
//	                         stdout; ! broker: the API answers an error
//	publish VHOST EXCHANGE ROUTING_KEY PAYLOAD
//	messages VHOST QUEUE N   waits (10 s at most) until QUEUE holds N messages
//	restoreadmin USER PASSWORD [USER PASSWORD...]
//	                         at the end of the script, pass or fail, gives the
//	                         node's administrator ($USER) back if a prune
//	                         deleted it, logged in as the first USER that
//	                         can: the next script's reset logs in as it
//
// and conditions: [rabbitmq:3.10] (the node's version starts with 3.10.),
// [rule:ID] (definitions' version rule ID applies to the node's version:
// the node ignores or refuses what the rule is about).
func TestCLIScripts(t *testing.T) {
	var oneAtATime sync.Mutex
	testscript.Run(t, testscript.Params{
		Dir: "testdata/broker",
		Setup: func(env *testscript.Env) error {
			// Scripts run as parallel subtests; they share one node, and
			// each starts from a blank one.
			oneAtATime.Lock()
			env.Defer(oneAtATime.Unlock)
			n := rabbitmqtest.Shared(env.T().(testing.TB))
			env.Values[nodeKey{}] = n
			scriptVersion = n.Version
			for k, v := range map[string]string{
				"URL": n.URL, "USER": n.Admin, "PASSWORD": n.AdminPassword,
				"WARREN_URL": n.URL, "WARREN_USERNAME": n.Admin, "WARREN_PASSWORD": n.AdminPassword,
				"RABBITMQ_VERSION": n.Version,
			} {
				env.Setenv(k, v)
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if v, ok := strings.CutPrefix(cond, "rabbitmq:"); ok {
				return strings.HasPrefix(scriptVersion, v+"."), nil
			}
			if id, ok := strings.CutPrefix(cond, "rule:"); ok {
				for _, r := range definitions.VersionRules {
					if r.ID == id {
						return r.AppliesTo(scriptVersion), nil
					}
				}
				return false, fmt.Errorf("no version rule %q", id)
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"synced":       cmdSynced,
			"fails":        cmdFails,
			"brokerhas":    cmdBrokerHas,
			"login":        cmdLogin,
			"broker":       cmdBroker,
			"publish":      cmdPublish,
			"messages":     cmdMessages,
			"restoreadmin": cmdRestoreAdmin,
		},
	})
}

type nodeKey struct{}

// scriptVersion is the RabbitMQ version of the node the running script
// uses, for conditions (which see no script); scripts run one at a time.
var scriptVersion string

func scriptNode(ts *testscript.TestScript) *rabbitmqtest.Node {
	return ts.Value(nodeKey{}).(*rabbitmqtest.Node)
}

func cmdSynced(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: synced [FLAGS] FILES...")
	}
	code := execWarren(ts, append([]string{"diff"}, args...))
	switch {
	case !neg && code != exitOK:
		ts.Fatalf("warren diff exited %d: the broker does not match the files", code)
	case neg && code != exitDrift:
		ts.Fatalf("warren diff exited %d, want %d (drift)", code, exitDrift)
	}
}

func cmdFails(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fails SUBCOMMAND [ARGS...]")
	}
	if code := execWarren(ts, args); code != exitError {
		ts.Fatalf("warren %s exited %d, want %d (an error)", args[0], code, exitError)
	}
}

// execWarren runs warren as a process with the script's environment, keeps
// its output for stdout and stderr, and returns its exit code.
func execWarren(ts *testscript.TestScript, args []string) int {
	err := ts.Exec("warren", args...)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	ts.Check(err)
	return exitOK
}

// brokerPaths maps a kind to its management API path.
var brokerPaths = map[string]func(name, vhost string) string{
	"vhost":            func(name, _ string) string { return "/api/vhosts/" + url.PathEscape(name) },
	"user":             func(name, _ string) string { return "/api/users/" + url.PathEscape(name) },
	"global-parameter": func(name, _ string) string { return "/api/global-parameters/" + url.PathEscape(name) },
	"queue":            inVhost("queues"),
	"exchange":         inVhost("exchanges"),
	"policy":           inVhost("policies"),
	"permission":       inVhost("permissions"),
	"parameter": func(name, vhost string) string {
		component, name, _ := strings.Cut(name, "/")
		return "/api/parameters/" + url.PathEscape(component) + "/" + url.PathEscape(vhost) + "/" + url.PathEscape(name)
	},
}

func inVhost(collection string) func(name, vhost string) string {
	return func(name, vhost string) string {
		return "/api/" + collection + "/" + url.PathEscape(vhost) + "/" + url.PathEscape(name)
	}
}

func cmdBrokerHas(ts *testscript.TestScript, neg bool, args []string) {
	var fields []string
	for len(args) > 2 && strings.Contains(args[len(args)-1], "=") {
		fields, args = append([]string{args[len(args)-1]}, fields...), args[:len(args)-1]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: brokerhas KIND NAME [VHOST] [FIELD=VALUE...]")
	}
	path, ok := brokerPaths[args[0]]
	if !ok {
		ts.Fatalf("brokerhas: unknown kind %q", args[0])
	}
	vhost := "/"
	if len(args) == 3 {
		vhost = args[2]
	}
	what := fmt.Sprintf("%s %q", args[0], args[1])
	if len(args) == 3 {
		what += fmt.Sprintf(" on vhost %q", vhost)
	}
	var obj map[string]any
	err := scriptNode(ts).Do(context.Background(), "GET", path(args[1], vhost), nil, &obj)
	if err != nil && !strings.Contains(err.Error(), ": 404 ") {
		ts.Fatalf("brokerhas: %v", err)
	}
	if err != nil {
		if !neg {
			ts.Fatalf("the broker has no %s", what)
		}
		return
	}
	var differ []string
	for _, f := range fields {
		key, want, _ := strings.Cut(f, "=")
		if got := field(obj, key); got != want {
			differ = append(differ, fmt.Sprintf("%s is %s, not %s", key, got, want))
		}
	}
	switch {
	case neg && len(differ) == 0:
		ts.Fatalf("the broker has %s %s", what, strings.Join(fields, " "))
	case !neg && len(differ) > 0:
		ts.Fatalf("the broker's %s: %s", what, strings.Join(differ, "; "))
	}
}

// field returns the value at a dotted path of a decoded JSON object, as
// JSON writes it, strings unquoted; "(absent)" when it is not there.
func field(obj map[string]any, path string) string {
	var v any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "(absent)"
		}
		if v, ok = m[k]; !ok {
			return "(absent)"
		}
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func cmdLogin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: login USER PASSWORD")
	}
	var who struct{ Name string }
	err := scriptNode(ts).Call(context.Background(), args[0], args[1], "GET", "/api/whoami", nil, &who)
	switch {
	case err == nil && neg:
		ts.Fatalf("%s can log in with that password", args[0])
	case err != nil && !neg:
		ts.Fatalf("%s cannot log in: %v", args[0], err)
	case err == nil && who.Name != args[0]:
		ts.Fatalf("logged in as %s, the broker says %q", args[0], who.Name)
	case err != nil && !strings.Contains(err.Error(), ": 401 "):
		ts.Fatalf("login: %v", err)
	}
}

func cmdBroker(ts *testscript.TestScript, neg bool, args []string) {
	n := scriptNode(ts)
	user, password := n.Admin, n.AdminPassword
	if len(args) > 1 && args[0] == "-u" {
		var ok bool
		if user, password, ok = strings.Cut(args[1], ":"); !ok {
			ts.Fatalf("broker -u USER:PASSWORD")
		}
		args = args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: broker [-u USER:PASSWORD] METHOD PATH [JSON]")
	}
	var body any
	if len(args) == 3 {
		body = rawJSON(args[2])
	}
	var reply rawJSON
	err := n.Call(context.Background(), user, password, args[0], args[1], body, &reply)
	if err != nil && strings.Contains(err.Error(), "unexpected end of JSON input") {
		err = nil // 204: no body
	}
	if (err != nil) != neg {
		ts.Fatalf("broker %s %s: %v", args[0], args[1], err)
	}
	ts.Stdout().Write(reply)
}

// rawJSON goes to and comes from the API as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

func cmdPublish(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: publish VHOST EXCHANGE ROUTING_KEY PAYLOAD")
	}
	var routed struct{ Routed bool }
	body := map[string]any{"properties": map[string]any{}, "routing_key": args[2], "payload": args[3], "payload_encoding": "string"}
	err := scriptNode(ts).Do(context.Background(), "POST", inVhost("exchanges")(args[1], args[0])+"/publish", body, &routed)
	ts.Check(err)
	if !routed.Routed {
		ts.Fatalf("the message to %s with key %q was not routed", args[1], args[2])
	}
}

func cmdMessages(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: messages VHOST QUEUE N")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	var q struct{ Messages *int }
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		q.Messages = nil
		scriptNode(ts).Do(context.Background(), "GET", inVhost("queues")(args[1], args[0]), nil, &q)
		if q.Messages != nil && *q.Messages == want {
			return
		}
	}
	got := "no count"
	if q.Messages != nil {
		got = strconv.Itoa(*q.Messages)
	}
	ts.Fatalf("queue %q on vhost %q never held %d messages (last: %s)", args[1], args[0], want, got)
}

func cmdRestoreAdmin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 || len(args)%2 != 0 {
		ts.Fatalf("usage: restoreadmin USER PASSWORD [USER PASSWORD...]")
	}
	n := scriptNode(ts)
	ts.Defer(func() {
		ctx := context.Background()
		if n.Do(ctx, "GET", "/api/whoami", nil, nil) == nil {
			return
		}
		for i := 0; i < len(args); i += 2 {
			as, password := args[i], args[i+1]
			err := n.Call(ctx, as, password, "PUT", "/api/users/"+url.PathEscape(n.Admin), map[string]any{"password": n.AdminPassword, "tags": "administrator"}, nil)
			if err == nil {
				err = n.Call(ctx, as, password, "PUT", "/api/permissions/%2F/"+url.PathEscape(n.Admin), map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil)
			}
			if err == nil {
				return
			}
			ts.Logf("restoreadmin as %s: %v", as, err)
		}
		ts.Logf("restoreadmin: %s could not be given back; the next scripts cannot reset the node", n.Admin)
	})
}
