package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/render"
)

func mustParse(t *testing.T, name, data string) *definitions.Document {
	t.Helper()
	doc, diags := definitions.Parse(name, []byte(data))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return doc
}

// renderAll renders a plan as text, markdown and JSON.
func renderAll(t *testing.T, p *plan.Plan) string {
	t.Helper()
	var b bytes.Buffer
	render.Text(&b, p, render.Options{})
	render.Markdown(&b, p, "plan")
	j, err := json.Marshal(render.ToJSON(p))
	if err != nil {
		t.Fatal(err)
	}
	b.Write(j)
	return b.String()
}

// Credentials in parameter values (a federation upstream's uri, a shovel's
// src-uri and dest-uri) are masked in every rendering of a plan, and a
// changed password still shows as a difference.
func TestParameterCredentialsMasked(t *testing.T) {
	live := mustParse(t, "live.json", `{
	  "parameters": [
	    {"vhost": "v", "component": "federation-upstream", "name": "up", "value": {"uri": "amqp://fed:old-secret@remote:5672/v", "expires": 1000}},
	    {"vhost": "v", "component": "shovel", "name": "gone", "value": {"src-uri": ["amqp://a:gone-secret@h1"], "dest-uri": "amqps://b:gone-secret2@h2"}}
	  ],
	  "global_parameters": [{"name": "g", "value": {"uri": "amqp://g:g-old-secret@h"}}]
	}`)
	desired := mustParse(t, "want.json", `{
	  "parameters": [
	    {"vhost": "v", "component": "federation-upstream", "name": "up", "value": {"uri": "amqp://fed:new-secret@remote:5672/v", "expires": 1000}},
	    {"vhost": "v", "component": "shovel", "name": "new", "value": {"src-uri": "amqp://c:create-secret@h3", "dest-uri": ["amqp://d:create-secret2@h4"]}}
	  ],
	  "global_parameters": [{"name": "g", "value": {"uri": "amqp://g:g-new-secret@other"}}]
	}`)
	p, err := plan.Diff(desired, live, plan.WithPrune(true))
	if err != nil {
		t.Fatal(err)
	}
	out := renderAll(t, p)
	for _, secret := range []string{"old-secret", "new-secret", "gone-secret", "create-secret", "g-old-secret", "g-new-secret"} {
		if strings.Contains(out, secret) {
			t.Errorf("the plan shows %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"value: (sensitive) differs", "amqp://g:(sensitive)@h", "amqp://g:(sensitive)@other", "amqp://c:(sensitive)@h3"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not say %q:\n%s", want, out)
		}
	}
	if p.Counts()[plan.Update] != 2 || p.Counts()[plan.Create] != 1 || p.Counts()[plan.Delete] != 1 {
		t.Errorf("want 2 updates, 1 creation, 1 deletion; got %v", p.Counts())
	}
}

// A URI given as {env: NAME} is compared with its value, and never shown.
func TestParameterURIReference(t *testing.T) {
	live := mustParse(t, "live.json", `{"parameters": [{"vhost": "v", "component": "shovel", "name": "s",
	  "value": {"src-uri": ["amqp://a:pw-one@h1", "amqp://a:pw-two@h2"], "dest-uri": "amqp://b:pw-three@h3"}}]}`)
	desired := mustParse(t, "want.yaml", `parameters:
  - vhost: v
    component: shovel
    name: s
    value:
      src-uri: [{env: SRC1}, {file: `+filepath.Join(t.TempDir(), "absent")+`}]
      dest-uri: {env: DEST}
`)
	dir := t.TempDir()
	src2 := filepath.Join(dir, "src2")
	os.WriteFile(src2, []byte("amqp://a:pw-two@h2\n"), 0o600)
	desired.Parameters[0].Value.(map[string]any)["src-uri"].([]any)[1] = map[string]any{"file": src2}
	t.Setenv("SRC1", "amqp://a:pw-one@h1")
	t.Setenv("DEST", "amqp://b:pw-three@h3")
	p, err := plan.Diff(desired, live)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Errorf("same URIs through references: want no changes, got\n%s", renderAll(t, p))
	}
	t.Setenv("DEST", "amqp://b:pw-changed@h3")
	p, err = plan.Diff(desired, live)
	if err != nil {
		t.Fatal(err)
	}
	out := renderAll(t, p)
	if p.Empty() || strings.Contains(out, "pw-") {
		t.Errorf("a changed URI behind a reference: want a change that shows no password, got\n%s", out)
	}
	os.Unsetenv("DEST")
	if _, err := plan.Diff(desired, live); err == nil || !strings.Contains(err.Error(), "DEST") {
		t.Errorf("unset variable: got %v", err)
	}
}

// A live document (an export given to --against) is never resolved: its
// {env} and {file} would make warren read local files and answer as an
// oracle on their content.
func TestLiveSecretsNeverResolved(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("guess\n"), 0o600)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LIVE_SECRET", "guess")
	for _, ref := range []string{`{"file": "` + secret + `"}`, `{"env": "LIVE_SECRET"}`, `{"file": "` + fifo + `"}`} {
		live := mustParse(t, "export.json", `{"users": [{"name": "u", "password": `+ref+`, "tags": []}],
		  "global_parameters": [{"name": "g", "value": {"uri": `+ref+`}}]}`)
		desired := mustParse(t, "want.json", `{"users": [{"name": "u", "password": "guess", "tags": []}],
		  "global_parameters": [{"name": "g", "value": {"uri": "guess"}}]}`)
		done := make(chan struct{})
		go func() {
			defer close(done)
			p, err := plan.Diff(desired, live)
			if err != nil {
				t.Error(err)
				return
			}
			if n := p.Counts()[plan.Update]; n != 2 {
				t.Errorf("%s: want both the password and the uri to differ (never resolved), got %d updates", ref, n)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: diff hangs", ref)
		}
	}
}

// Pruning global parameters leaves the broker's own alone.
func TestPruneKeepsBrokerGlobalParameters(t *testing.T) {
	live := mustParse(t, "live.json", `{"global_parameters": [{"name": "internal_cluster_id", "value": "rabbitmq-cluster-id-x"},
	  {"name": "cluster_name", "value": "c"}, {"name": "imported_definition_hash_value", "value": "h"}, {"name": "mine", "value": 1}]}`)
	desired := mustParse(t, "want.json", `{"global_parameters": []}`)
	p, err := plan.Diff(desired, live, plan.WithPrune(true))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Addr.String() != `global parameter "mine"` {
		t.Errorf("want only mine deleted, got\n%s", renderAll(t, p))
	}
}
