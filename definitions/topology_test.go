package definitions_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/definitions/topology"
	"github.com/warren-tool/warren/internal/golden"
	"github.com/warren-tool/warren/internal/testcorpus"
	"github.com/warren-tool/warren/schema"
)

// topoResolve stands for the environment and files {env} and {file}
// references name.
func topoResolve(s *definitions.Secret) (string, error) {
	if s.Literal != nil {
		return *s.Literal, nil
	}
	return "resolved-" + s.Env + s.File, nil
}

// topologyInputs lists the examples' files and the corpus files warren
// loads without errors.
func topologyInputs(t *testing.T) map[string]*definitions.Document {
	t.Helper()
	out := map[string]*definitions.Document{}
	add := func(name, path string) {
		doc, diags := definitions.Load([]string{path}, definitions.LoadOptions{})
		if doc != nil && !diags.HasErrors() {
			out[name] = doc
		}
	}
	examples, _ := filepath.Glob("../examples/*/*.yaml")
	for _, p := range examples {
		add(strings.TrimPrefix(p, "../"), p)
	}
	dir := testcorpus.Dir(t)
	for _, r := range testcorpus.Results(t, "IMPORT_RESULTS.tsv") {
		add(r.Path, filepath.Join(dir, r.Path))
	}
	if len(out) < 50 {
		t.Fatalf("only %d files load", len(out))
	}
	return out
}

// decodeTopology validates a conversion's resources and Secrets together,
// as the strict validator does.
func decodeTopology(t *testing.T, name string, res *definitions.TopologyOutput) schema.Diagnostics {
	t.Helper()
	rs, diags := topology.Decode(name+".resources.yaml", res.Resources)
	ss, ds := topology.Decode(name+".secrets.yaml", res.Secrets)
	diags = append(append(diags, ds...), topology.Check(rs, ss)...)
	n := 0
	for _, r := range rs.Resources {
		n++
		if r.Namespace() != "mq" {
			t.Errorf("%s: %s has namespace %q", name, r, r.Namespace())
		}
	}
	total := 0
	for k, c := range res.Count {
		if k != "Secret" {
			total += c
		}
	}
	if n != total {
		t.Errorf("%s: %d resources written, %d counted", name, n, total)
	}
	return diags
}

// TestTopologyExport converts every loadable corpus and example file: the
// resources and Secrets pass the strict validator, and converting again
// gives the same bytes (names are stable).
func TestTopologyExport(t *testing.T) {
	for name, doc := range topologyInputs(t) {
		opts := definitions.TopologyOptions{Cluster: "my-rabbit", Namespace: "mq", Secrets: true, Resolve: topoResolve}
		res, diags := definitions.Topology(doc, opts)
		if diags.HasErrors() {
			t.Errorf("%s: %s", name, diags)
			continue
		}
		for _, d := range diags {
			if d.Code != schema.WTopoNotExpressed {
				t.Errorf("%s: unexpected %s", name, d)
			}
		}
		if ds := decodeTopology(t, name, res); len(ds) > 0 {
			t.Errorf("%s: the strict validator refuses the conversion:\n%s", name, ds)
		}
		again, _ := definitions.Topology(doc, opts)
		if !bytes.Equal(res.Resources, again.Resources) || !bytes.Equal(res.Secrets, again.Secrets) {
			t.Errorf("%s: a second conversion differs", name)
		}
		for _, secret := range []string{"resolved-", "password_hash", "guest:guest@"} {
			if bytes.Contains(res.Resources, []byte(secret)) {
				t.Errorf("%s: the resources hold %q", name, secret)
			}
		}
	}
}

// TestTopologyRoundTrip converts every loadable corpus and example file to
// resources and reads them back: the plan between the two has changes
// only for the objects the conversion warned about (W180), and those
// warnings are the exact list in testdata/topology/roundtrip.txt.
func TestTopologyRoundTrip(t *testing.T) {
	inputs := topologyInputs(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			if !yield(k) {
				return
			}
		}
	})
	var list strings.Builder
	dir, _ := testcorpus.Path()
	tmp := t.TempDir()
	for i, name := range names {
		doc := inputs[name]
		res, diags := definitions.Topology(doc, definitions.TopologyOptions{Cluster: "my-rabbit", Namespace: "mq", Secrets: true, Resolve: topoResolve})
		warned := map[string]bool{}
		for _, d := range diags {
			fmt.Fprintf(&list, "%s: %s: %s\n", name, d.Pointer, d.Message)
			toks := schema.SplitPointer(d.Pointer)
			idx, _ := strconv.Atoi(toks[1])
			for _, o := range doc.ObjectsOf(definitions.Kind(toks[0])) {
				if definitions.Pointer(o) == "/"+toks[0]+"/"+strconv.Itoa(idx) {
					warned[o.Addr()] = true
					// Without a vhost it comes back in "/".
					warned[strings.Replace(o.Addr(), `on vhost ""`, `on vhost "/"`, 1)] = true
				}
			}
		}
		rp := filepath.Join(tmp, fmt.Sprintf("%d-resources.yaml", i))
		sp := filepath.Join(tmp, fmt.Sprintf("%d-secrets.yaml", i))
		var files []string
		for _, f := range []struct {
			path string
			data []byte
		}{{rp, res.Resources}, {sp, res.Secrets}} {
			if len(f.data) > 0 {
				os.WriteFile(f.path, f.data, 0o600)
				files = append(files, f.path)
			}
		}
		if len(files) == 0 {
			continue // nothing the operator can express
		}
		back, ds := definitions.Load(files, definitions.LoadOptions{})
		if ds.HasErrors() {
			t.Errorf("%s: reading the resources back: %s", name, ds)
			continue
		}
		p, err := plan.Diff(back, doc, plan.WithPrune(true), plan.WithResolver(topoResolve), plan.WithKeepGuest(false))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, ch := range p.Changes {
			o := ch.Before
			if o == nil {
				o = ch.After
			}
			if samePassword(ch) {
				continue
			}
			if !warned[o.Addr()] {
				t.Errorf("%s: %c %s changed in the round trip, with no warning (%v)", name, ch.Action, o.Addr(), ch.Fields)
			}
		}
	}
	got := list.String()
	if dir != "" {
		got = strings.ReplaceAll(got, dir+"/", "")
	}
	golden.File(t, "testdata/topology/roundtrip.txt", got)
}

// samePassword reports whether a change is only a user's password written
// another way ({env: NAME} in the file, its value in the Secret).
func samePassword(ch plan.Change) bool {
	b, ok1 := ch.Before.(*definitions.User)
	a, ok2 := ch.After.(*definitions.User)
	if !ok1 || !ok2 || len(ch.Fields) != 1 || ch.Fields[0].Field != "password" || a.Password == nil || b.Password == nil {
		return false
	}
	x, _ := topoResolve(a.Password)
	y, _ := topoResolve(b.Password)
	return x == y
}

// TestTopologyDefaults reads resources that leave every defaulted field
// out: the model has the CRDs' defaults (vhost /, exchange type direct and
// not durable, queue durable, applyTo all for policies and queues for
// operator policies, priority 0, a binding to an exchange, a SuperStream's
// exchange, streams and bindings, federation's reconnect-delay 0).
func TestTopologyDefaults(t *testing.T) {
	const res = `apiVersion: rabbitmq.com/v1beta1
kind: Queue
metadata: {name: q}
spec: {name: q, rabbitmqClusterReference: {name: r}}
---
apiVersion: rabbitmq.com/v1beta1
kind: Exchange
metadata: {name: e}
spec: {name: e, rabbitmqClusterReference: {name: r}}
---
apiVersion: rabbitmq.com/v1beta1
kind: Binding
metadata: {name: b}
spec: {source: e, destination: e2, rabbitmqClusterReference: {name: r}}
---
apiVersion: rabbitmq.com/v1beta1
kind: Policy
metadata: {name: p}
spec: {name: p, pattern: x, definition: {max-length: 1}, rabbitmqClusterReference: {name: r}}
---
apiVersion: rabbitmq.com/v1beta1
kind: OperatorPolicy
metadata: {name: op}
spec: {name: op, pattern: x, definition: {max-length: 2}, rabbitmqClusterReference: {name: r}}
---
apiVersion: rabbitmq.com/v1alpha1
kind: SuperStream
metadata: {name: inv}
spec: {name: ignored, partitions: 2, rabbitmqClusterReference: {name: r}}
---
apiVersion: v1
kind: Secret
metadata: {name: up, labels: {rabbitmq.com/topology-operator: "true"}}
stringData: {uri: "amqp://a,amqp://b"}
---
apiVersion: rabbitmq.com/v1beta1
kind: Federation
metadata: {name: f}
spec: {name: f, uriSecret: {name: up}, rabbitmqClusterReference: {name: r}}
`
	doc, diags := definitions.Parse("res.yaml", []byte(res))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	doc.Sort()
	got := string(doc.EncodeYAML(""))
	want := `parameters:
  - vhost: /
    component: federation-upstream
    name: f
    value:
      reconnect-delay: 0
      trust-user-id: false
      uri:
        - amqp://a
        - amqp://b
  - vhost: /
    component: operator_policy
    name: op
    value:
      apply-to: queues
      definition:
        max-length: 2
      pattern: x
      priority: 0
policies:
  - name: p
    vhost: /
    pattern: x
    apply-to: all
    priority: 0
    definition:
      max-length: 1
queues:
  - name: inv-0
    vhost: /
    durable: true
    auto_delete: false
    arguments:
      x-queue-type: stream
  - name: inv-1
    vhost: /
    durable: true
    auto_delete: false
    arguments:
      x-queue-type: stream
  - name: q
    vhost: /
    durable: true
    auto_delete: false
    arguments: {}
exchanges:
  - name: e
    vhost: /
    type: direct
    durable: false
    auto_delete: false
    internal: false
    arguments: {}
  - name: inv
    vhost: /
    type: direct
    durable: true
    auto_delete: false
    internal: false
    arguments: {}
bindings:
  - vhost: /
    source: e
    destination_type: exchange
    destination: e2
    routing_key: ""
    arguments: {}
  - vhost: /
    source: inv
    destination_type: queue
    destination: inv-0
    routing_key: "0"
    arguments:
      x-stream-partition-order: 0
  - vhost: /
    source: inv
    destination_type: queue
    destination: inv-1
    routing_key: "1"
    arguments:
      x-stream-partition-order: 1
`
	if got != want {
		t.Errorf("defaults:\n%s\nwant:\n%s", got, want)
	}
}
