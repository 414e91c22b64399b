package rabbitmq

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestDefinitionsDecodeAgrees: whatever export the fast path takes, it
// gives the Document definitions.Parse gives of the whole export (origins
// aside); an export it does not take goes the slow way.
func TestDefinitionsDecodeAgrees(t *testing.T) {
	var bench map[string]json.RawMessage
	if err := json.Unmarshal(defgen.Shape{Vhosts: 3, Users: 10, Queues: 20, Exchanges: 5, Bindings: 30, Policies: 4}.Broker(), &bench); err != nil {
		t.Fatal(err)
	}
	bench["rabbit_version"] = json.RawMessage(`"4.3.6"`)
	bench["explanation"] = json.RawMessage(`"Definitions of cluster 'rabbit@x' {\"quoted\"} ]"`)
	generated, err := json.Marshal(bench)
	if err != nil {
		t.Fatal(err)
	}
	const all = `{"rabbit_version":"4.3.6","rabbitmq_version":"4.3.6","product_name":"RabbitMQ","product_version":"4.3.6","rabbitmq_definition_format":"cluster","original_cluster_name":"rabbit@x","explanation":"Definitions of cluster 'rabbit@x'",
"users":[{"name":"a","password_hash":"kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["administrator"],"limits":{"max-connections":10}}],
"vhosts":[{"name":"v","description":"d","tags":["t"],"default_queue_type":"quorum","metadata":{"description":"d","tags":["t"],"default_queue_type":"quorum"},"limits":[{"max-queues":5}]}],
"permissions":[{"user":"a","vhost":"v","configure":".*","write":".*","read":".*"}],
"topic_permissions":[{"user":"a","vhost":"v","exchange":"amq.topic","write":"^a","read":".*"}],
"parameters":[{"vhost":"v","component":"vhost-limits","name":"limits","value":{"max-queues":5}},{"vhost":"v","component":"operator_policy","name":"op","value":{"pattern":"^q","priority":0,"apply-to":"queues","definition":{"max-length":9}}}],
"global_parameters":[{"name":"cluster_name","value":"c"},{"name":"cluster_tags","value":[]}],
"policies":[{"vhost":"v","name":"p","pattern":"^q","apply-to":"queues","definition":{"max-length":1000},"priority":1}],
"queues":[{"name":"q","vhost":"v","durable":true,"auto_delete":false,"type":"quorum","arguments":{"x-queue-type":"quorum"}},{"name":"s","vhost":"v","durable":true,"auto_delete":false,"type":"stream","arguments":{"x-max-age":"1D"}}],
"exchanges":[{"name":"x","vhost":"v","type":"topic","durable":true,"auto_delete":false,"arguments":{}},{"name":"i","vhost":"v","type":"fanout","durable":true,"auto_delete":false,"internal":true,"arguments":{}}],
"bindings":[{"source":"x","vhost":"v","destination":"q","destination_type":"queue","routing_key":"a.#","arguments":{}}]}`
	cases := []struct {
		name string
		data string
		fast bool // the fast path must take it
	}{
		{"every kind", all, true},
		{"generated, with strings that hold braces", string(generated), true},
		{"3.10: tags a string", `{"rabbit_version":"3.10.8","users":[{"name":"a","password_hash":"","hashing_algorithm":"rabbit_password_hashing_sha256","tags":"administrator,management","limits":{}}],"vhosts":[{"name":"/","limits":[],"metadata":{"description":"","tags":[]}}],"queues":[{"name":"q","vhost":"/","durable":true,"auto_delete":false,"arguments":{}}]}`, true},
		{"empty lists and whitespace", " {\n \"users\" : [ ] ,\"queues\":[],\t\"vhosts\":[]}\n", true},
		{"no kinds", `{"rabbit_version":"4.3.6"}`, true},
		{"a user with an unknown field", strings.Replace(all, `"name":"a",`, `"name":"a","new_in_5":1,`, 1), false},
		{"a queue durable a string", strings.Replace(all, `"durable":true,"auto_delete":false,"type":"quorum"`, `"durable":"yes","auto_delete":false,"type":"quorum"`, 1), false},
		{"users null", `{"users":null}`, false},
		{"users an object", `{"users":{}}`, false},
		{"a key twice", `{"users":[],"users":[{"name":"a","tags":[]}]}`, false},
		{"a vhost without a name", `{"vhosts":[{"description":"d"}]}`, false},
		{"a topic permission's user a number", `{"topic_permissions":[{"user":1,"vhost":"v","exchange":"x","write":"","read":""}]}`, false},
		{"not an object", `[]`, false},
		{"empty", ``, false},
		{"unfinished", `{"users":[{"name":"a","tags":[]}],`, false},
		{"unfinished in a list", `{"vhosts":[{"name":"a"}`, false},
		{"then another value", `{"users":[]} {}`, false},
		{"a key not a string", `{users:[]}`, false},
		{"no colon", `{"users" []}`, false},
		{"bad JSON in the rest", `{"vhosts":[{"name":"a",}]}`, false},
	}
	ignore := cmp.Options{cmpopts.IgnoreFields(definitions.Meta{}, "Origin"), cmpopts.IgnoreUnexported(definitions.Document{})}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.data), iotest.OneByteReader(strings.NewReader(tc.data))} {
				fast, ferr := decodeDefinitions("live", r)
				if (ferr == nil) != tc.fast {
					t.Fatalf("the fast path took it: %v, want %v (%v)", ferr == nil, tc.fast, ferr)
				}
				if ferr != nil {
					if fast != nil {
						t.Error("the fast path gave up but returned a document")
					}
					continue
				}
				slow, diags := definitions.Parse("live", []byte(tc.data))
				if err := answerErrors(slow, diags); err != nil {
					t.Fatalf("the fast path took an export the slow path refuses: %v", err)
				}
				if diff := cmp.Diff(slow, fast, ignore); diff != "" {
					t.Errorf("fast and slow paths differ (-slow +fast):\n%s", diff)
				}
			}
		})
	}
}

// richDefinitions has every kind, and each kind that only the export
// carries whole (parameters, global parameters, vhost limits, topic
// permissions, operator policies), for the real-node tests.
const richDefinitions = `{
"users":[{"name":"app","password_hash":"kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["monitoring","management"],"limits":{"max-connections":10}},
 {"name":"plain","password_hash":"","tags":[]}],
"vhosts":[{"name":"orders","description":"order intake","tags":["prod"],"default_queue_type":"quorum","metadata":{"description":"order intake","tags":["prod"],"default_queue_type":"quorum"}},{"name":"billing"}],
"permissions":[{"user":"app","vhost":"orders","configure":"^app\\.","write":".*","read":".*"},{"user":"plain","vhost":"billing","configure":"","write":"","read":".*"}],
"topic_permissions":[{"user":"app","vhost":"orders","exchange":"amq.topic","write":"^orders\\.","read":".*"}],
"parameters":[{"vhost":"orders","component":"vhost-limits","name":"limits","value":{"max-queues":100,"max-connections":50}},
 {"vhost":"billing","component":"operator_policy","name":"cap","value":{"pattern":"^b\\.","priority":2,"apply-to":"queues","definition":{"max-length":5000}}}],
"global_parameters":[{"name":"cluster_name","value":"warren-read"}],
"policies":[{"vhost":"orders","name":"ttl","pattern":"^orders\\.","apply-to":"queues","priority":1,"definition":{"message-ttl":60000}}],
"queues":[{"name":"orders.incoming","vhost":"orders","durable":true,"auto_delete":false,"arguments":{"x-queue-type":"quorum","x-delivery-limit":5}},
 {"name":"orders.untyped","vhost":"orders","durable":true,"auto_delete":false,"arguments":{}},
 {"name":"b.audit","vhost":"billing","durable":true,"auto_delete":false,"arguments":{"x-max-length":1000}},
 {"name":"b.log","vhost":"billing","durable":true,"auto_delete":false,"arguments":{"x-queue-type":"stream"}}],
"exchanges":[{"name":"orders.events","vhost":"orders","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}},
 {"name":"orders.inside","vhost":"orders","type":"fanout","durable":true,"auto_delete":false,"internal":true,"arguments":{"alternate-exchange":"orders.events"}}],
"bindings":[{"vhost":"orders","source":"orders.events","destination_type":"queue","destination":"orders.incoming","routing_key":"order.#","arguments":{}},
 {"vhost":"orders","source":"orders.events","destination_type":"exchange","destination":"orders.inside","routing_key":"","arguments":{"x-match":"any"}},
 {"vhost":"orders","source":"orders.inside","destination_type":"queue","destination":"orders.untyped","routing_key":"","arguments":{}}]
}`

// TestReadWholeAgrees: on a real node, the export decoded as it arrives
// is what the slow path makes of it, Read and ReadWhole give what the
// listings give, every kind included, and nothing takes the slow path.
func TestReadWholeAgrees(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(richDefinitions)); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	slowBefore := slowDecodes.Load()
	raw, err := c.Definitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := decodeDefinitions("live", bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("RabbitMQ %s's export does not take the fast path: %v\n%s", n.Version, err, raw)
	}
	slow, diags := definitions.Parse("live", raw)
	if err := answerErrors(slow, diags); err != nil {
		t.Fatal(err)
	}
	ignore := cmp.Options{cmpopts.IgnoreFields(definitions.Meta{}, "Origin"), cmpopts.IgnoreUnexported(definitions.Document{})}
	if diff := cmp.Diff(slow, fast, ignore); diff != "" {
		t.Errorf("RabbitMQ %s's export: fast and slow paths differ (-slow +fast):\n%s", n.Version, diff)
	}
	for _, k := range definitions.Kinds {
		if len(fast.ObjectsOf(k)) == 0 {
			t.Errorf("RabbitMQ %s's export has no %s", n.Version, k)
		}
	}

	whole, err := c.ReadWhole(ctx, definitions.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	byKind, err := c.ReadKinds(ctx, definitions.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	read, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := slowDecodes.Load() - slowBefore; n != 0 {
		t.Errorf("%d answers took the slow path", n)
	}
	if err := definitions.Trim(read, []string{"versions"}); err != nil { // what the listings have not
		t.Fatal(err)
	}
	sorted := func(d *definitions.Document) string {
		n := definitions.Normalize(d)
		n.Sort()
		return string(n.EncodeJSON())
	}
	for name, got := range map[string]*definitions.Document{"ReadWhole": whole, "Read": read} {
		if diff := cmp.Diff(sorted(byKind), sorted(got)); diff != "" {
			t.Errorf("%s differs from ReadKinds (-listings +%s):\n%s", name, name, diff)
		}
	}
	for _, k := range definitions.Kinds {
		if len(whole.ObjectsOf(k)) == 0 {
			t.Errorf("ReadWhole read no %s", k)
		}
	}
	// Only the kinds asked for, none of the export's version fields.
	some, err := c.ReadWhole(ctx, []definitions.Kind{definitions.KindQueue, definitions.KindBinding})
	if err != nil {
		t.Fatal(err)
	}
	if len(some.Queues) == 0 || len(some.Bindings) == 0 || some.Users != nil || some.Vhosts != nil || some.Parameters != nil || some.RabbitVersion != "" {
		t.Errorf("ReadWhole of queues and bindings read %d queues, %d bindings, users %v, vhosts %v, parameters %v, version %q",
			len(some.Queues), len(some.Bindings), some.Users != nil, some.Vhosts != nil, some.Parameters != nil, some.RabbitVersion)
	}
}

// An export the fast path does not take is read again and parsed whole
// (the slow path), which decides.
func TestReadGivesUpMidExport(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(richDefinitions)); err != nil {
		t.Fatal(err)
	}
	c, calls := rewritingFront(t, n, "/api/definitions", func(_ int, body []byte) io.Reader {
		return bytes.NewReader(bytes.Replace(body, []byte(`"name":"orders.untyped"`), []byte(`"name":"orders.untyped","new_in_5":true`), 1))
	})
	slowBefore := slowDecodes.Load()
	got, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the export was read %d times, want 2 (the fast path, then the slow one)", n)
	}
	if n := slowDecodes.Load() - slowBefore; n != 1 {
		t.Errorf("slow decodes: %d, want 1", n)
	}
	direct, err := New(Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want, err := direct.ReadKinds(ctx, definitions.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	// The slow path kept the field it does not know, which the fast one
	// never does; the rest is what the listings say.
	marked := 0
	for _, q := range got.Queues {
		if q.Extra["new_in_5"] == true {
			marked++
			delete(q.Extra, "new_in_5")
		}
	}
	if marked != 1 {
		t.Errorf("%d queues carry the field the slow path keeps, want 1", marked)
	}
	if definitions.Digest(want) != definitions.Digest(got) {
		t.Errorf("Read after a give-up differs from ReadKinds:\n%s\n%s", want.EncodeJSON(), got.EncodeJSON())
	}
}

// Target.Read reads all kinds through the export on RabbitMQ 4.3 and
// later, where the listings of queues and bindings are the slower, and
// through the listings before; a read of kinds without queues or bindings
// keeps the listings everywhere.
func TestTargetReadChoosesByVersion(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(richDefinitions)); err != nil {
		t.Fatal(err)
	}
	rec := recordPaths(t, n)
	c, err := New(Config{URLs: []string{rec.url}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	whole := versionAtLeast(n.Version, 4, 3)
	for _, tc := range []struct {
		kinds []definitions.Kind
		whole bool
	}{
		{definitions.Kinds, whole},
		{[]definitions.Kind{definitions.KindBinding}, whole},
		{[]definitions.Kind{definitions.KindUser, definitions.KindPermission, definitions.KindVhost}, false},
	} {
		rec.reset()
		live, err := NewTarget(c, "").Read(ctx, tc.kinds)
		if err != nil {
			t.Fatal(err)
		}
		got := rec.count("/api/definitions") > 0
		if got != tc.whole {
			t.Errorf("RabbitMQ %s, reading %v: through GET /api/definitions %v, want %v (%v)", n.Version, tc.kinds, got, tc.whole, rec.paths())
		}
		want, err := c.ReadKinds(ctx, tc.kinds)
		if err != nil {
			t.Fatal(err)
		}
		if definitions.Digest(want) != definitions.Digest(live) {
			t.Errorf("reading %v differs from ReadKinds:\n%s\n%s", tc.kinds, want.EncodeJSON(), live.EncodeJSON())
		}
	}
}

// The listings Read reads beside the export are bounded tighter while it
// arrives; one past that bound (and within the client's) is read again
// once the export is in, and Read still reads what ReadKinds reads.
func TestReadSideAnswersReadAgain(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	var exchanges []string
	for i := range 100 {
		exchanges = append(exchanges, `{"name":"x-with-a-long-name-`+strings.Repeat("n", 40)+`-`+string(rune('a'+i%26))+string(rune('a'+i/26))+`","vhost":"/","type":"fanout","durable":true,"auto_delete":false,"internal":true,"arguments":{}}`)
	}
	if err := n.PostDefinitions(ctx, []byte(`{"exchanges":[`+strings.Join(exchanges, ",")+`]}`)); err != nil {
		t.Fatal(err)
	}
	const limit = 128 << 10
	c, err := New(Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute, MaxAnswer: limit})
	if err != nil {
		t.Fatal(err)
	}
	var listing []byte
	if err := c.getJSON(ctx, kindEndpoints[definitions.KindExchange], &listing); err != nil {
		t.Fatal(err)
	}
	if len(listing) <= limit/8 {
		t.Fatalf("the exchanges' listing is %d bytes, want more than %d", len(listing), limit/8)
	}
	got, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.ReadKinds(ctx, definitions.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Exchanges) < 100 || definitions.Digest(want) != definitions.Digest(got) {
		t.Errorf("Read read %d exchanges and differs from ReadKinds: %v", len(got.Exchanges), definitions.Digest(want) != definitions.Digest(got))
	}
}

// TestPrefetch: a read Prefetch starts serves the next Read, once: on
// RabbitMQ 4.3 the diff's read is the GET /api/definitions it started, and
// the Read after reads again; before 4.3 Prefetch reads only the version,
// and Read reads the listings. ReadIn, which reads less, cancels a
// prefetched read and reads its vhosts' listings. Each read gives what
// ReadKinds gives.
func TestPrefetch(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	if err := n.PostDefinitions(ctx, []byte(richDefinitions)); err != nil {
		t.Fatal(err)
	}
	rec := recordPaths(t, n)
	exports := func() int { return rec.count("/api/definitions") }
	c, err := New(Config{URLs: []string{rec.url}, Username: n.Admin, Password: n.AdminPassword, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.ReadKinds(ctx, definitions.Kinds)
	if err != nil {
		t.Fatal(err)
	}
	whole := versionAtLeast(n.Version, 4, 3)

	tg := NewTarget(c, "")
	tg.Prefetch(ctx)
	if got := tg.early != nil; got != whole {
		t.Fatalf("RabbitMQ %s: a read started early: %v, want %v", n.Version, got, whole)
	}
	for i, wantExports := range []int{1, 2} {
		live, err := tg.Read(ctx, definitions.Kinds)
		if err != nil {
			t.Fatal(err)
		}
		if definitions.Digest(want) != definitions.Digest(live) {
			t.Errorf("read %d differs from ReadKinds:\n%s\n%s", i+1, want.EncodeJSON(), live.EncodeJSON())
		}
		if !whole {
			wantExports = 0
		}
		if got := exports(); got != wantExports {
			t.Errorf("RabbitMQ %s, after read %d: %d GET /api/definitions, want %d", n.Version, i+1, got, wantExports)
		}
	}

	tg = NewTarget(c, "")
	tg.Prefetch(ctx)
	in, err := tg.ReadIn(ctx, definitions.Kinds, []string{"/"})
	if err != nil {
		t.Fatal(err)
	}
	wantIn, err := c.ReadKindsIn(ctx, definitions.Kinds, []string{"/"})
	if err != nil {
		t.Fatal(err)
	}
	if definitions.Digest(wantIn) != definitions.Digest(in) {
		t.Errorf("ReadIn after Prefetch differs from ReadKindsIn:\n%s\n%s", wantIn.EncodeJSON(), in.EncodeJSON())
	}
	if tg.early != nil {
		t.Error("ReadIn left the prefetched read waiting")
	}
}

// pathRecorder is a proxy to a node that records the path of every request.
type pathRecorder struct {
	url  string
	mu   sync.Mutex
	seen []string
}

func recordPaths(t *testing.T, n *rabbitmqtest.Node) *pathRecorder {
	t.Helper()
	target, err := url.Parse(n.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &pathRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.URL.Path)
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (r *pathRecorder) paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

func (r *pathRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = nil
}

// count is how many requests went to path.
func (r *pathRecorder) count(path string) int {
	n := 0
	for _, p := range r.paths() {
		if p == path {
			n++
		}
	}
	return n
}
