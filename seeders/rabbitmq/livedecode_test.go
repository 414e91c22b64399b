package rabbitmq

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/defgen"
)

// slowDecode is the way every answer went before the fast path: a tree of
// maps, what an export leaves out dropped, encoded again, and parsed
// through the schema and the converter.
func slowDecode(k definitions.Kind, data []byte) (*definitions.Document, error) {
	var list []map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
	}
	return parseAnswers("live", map[string][]map[string]any{string(k): keepListed(k, list)})
}

// TestLiveDecodeAgrees: whatever answer the fast path takes, it gives the
// Document the slow path gives (origins aside: a live object has none);
// an answer it does not take goes the slow way, whose errors stand.
func TestLiveDecodeAgrees(t *testing.T) {
	cases := []struct {
		name string
		kind definitions.Kind
		data string
		fast bool // the fast path must take it
	}{
		{"users 3.10", definitions.KindUser, `[{"name":"a","password_hash":"kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["administrator"],"limits":{}}]`, true},
		{"users tags as a string", definitions.KindUser, `[{"name":"a","password_hash":"","hashing_algorithm":"rabbit_password_hashing_sha256","tags":"management, monitoring","limits":{"max-connections":10,"max-channels":2.0}}]`, true},
		{"users no hash, limits []", definitions.KindUser, `[{"name":"a","password_hash":null,"tags":[],"limits":[]}]`, true},
		{"users none", definitions.KindUser, `[]`, true},
		{"users null", definitions.KindUser, `null`, false},
		{"users then a newline", definitions.KindUser, "[{\"name\":\"a\",\"tags\":[]}]\n", true},
		{"users then another value", definitions.KindUser, `[{"name":"a","tags":[]}] []`, false},
		{"users unfinished", definitions.KindUser, `[{"name":"a","tags":[]},`, false},
		{"users unknown field on the second", definitions.KindUser, `[{"name":"a","tags":[]},{"name":"b","tags":[],"new_in_5":1}]`, false},
		{"users limit 1.5", definitions.KindUser, `[{"name":"a","tags":[],"limits":{"max-connections":1.5}}]`, false},
		{"users unknown field", definitions.KindUser, `[{"name":"a","tags":[],"limits":{},"new_in_5":1}]`, false},
		{"users tag not a string", definitions.KindUser, `[{"name":"a","tags":[1,"x"]}]`, false},
		{"users name missing", definitions.KindUser, `[{"tags":[]}]`, false},
		{"users name a number", definitions.KindUser, `[{"name":5,"tags":[]}]`, false},
		{"permissions", definitions.KindPermission, `[{"user":"u","vhost":"/","configure":".*","write":"","read":"^a$"}]`, true},
		{"permissions read missing", definitions.KindPermission, `[{"user":"u","vhost":"/","configure":".*","write":""}]`, false},
		{"policies", definitions.KindPolicy, `[{"vhost":"v","name":"p","pattern":"^q","apply-to":"queues","definition":{"max-length":1000,"message-ttl":1.0,"x":[1,2.5,{"y":1e3}]},"priority":2.0}]`, true},
		{"policies huge number", definitions.KindPolicy, `[{"vhost":"v","name":"p","pattern":"^q","apply-to":"all","definition":{"max-length-bytes":123456789012345678901},"priority":0}]`, true},
		{"policies priority a string", definitions.KindPolicy, `[{"vhost":"v","name":"p","pattern":"^q","definition":{},"priority":"1"}]`, false},
		{"policies no definition", definitions.KindPolicy, `[{"vhost":"v","name":"p","pattern":"^q"}]`, false},
		{"queues", definitions.KindQueue, `[{"name":"q","vhost":"v","type":"quorum","durable":true,"auto_delete":false,"exclusive":false,"arguments":{"x-queue-type":"quorum","x-delivery-limit":5}},` +
			`{"name":"amq.gen-1","vhost":"v","type":"classic","durable":false,"auto_delete":true,"exclusive":true,"arguments":{}},` +
			`{"name":"c","vhost":"v","durable":true,"auto_delete":false,"arguments":{}}]`, true},
		{"queues durable a string", definitions.KindQueue, `[{"name":"q","vhost":"v","durable":"yes","arguments":{}}]`, false},
		{"exchanges", definitions.KindExchange, `[{"name":"","vhost":"v","type":"direct","durable":true,"auto_delete":false,"internal":false,"arguments":{}},` +
			`{"name":"amq.topic","vhost":"v","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}},` +
			`{"name":"x","vhost":"v","type":"x-consistent-hash","durable":true,"auto_delete":false,"internal":true,"arguments":{"hash-header":"h"}}]`, true},
		{"exchanges type missing", definitions.KindExchange, `[{"name":"x","vhost":"v"}]`, false},
		{"bindings", definitions.KindBinding, `[{"source":"","vhost":"v","destination":"q","destination_type":"queue","routing_key":"q","arguments":{}},` +
			`{"source":"x","vhost":"v","destination":"q","destination_type":"queue","routing_key":"a.#","arguments":{"x-match":"all","n":1}}]`, true},
		{"bindings listed whole", definitions.KindBinding, `[{"source":"","vhost":"v","destination":"q","destination_type":"queue","routing_key":"q","arguments":{},"properties_key":"q"},` +
			`{"source":"x","vhost":"v","destination":"q","destination_type":"queue","routing_key":"a.#","arguments":{"x-match":"all"},"properties_key":"a.%23~PIT-aSd"}]`, true},
		{"bindings destination missing", definitions.KindBinding, `[{"source":"x","vhost":"v","destination_type":"queue"}]`, false},
		{"bindings braces and quotes in strings", definitions.KindBinding, ` [ {"source":"x}","vhost":"v[","destination":"q}\\\"{[","destination_type":"queue","routing_key":"a\\\\\"]}","arguments":{"k":"{\\\"}","l":[{"m":"]"}]}} ,` + "\n" +
			`{"source":"x","vhost":"v","destination":"q","destination_type":"queue","routing_key":"\\u00e9\\n","arguments":null} ] `, true},
		{"queues numbers as encoding/json has them", definitions.KindQueue, `[{"name":"q","vhost":"v","arguments":{"a":1.0,"b":1e3,"c":12345678901234567890,"d":[0.1,-0]}}]`, true},
		{"queues number too large for a float64", definitions.KindQueue, `[{"name":"q","vhost":"v","arguments":{"a":1e400}}]`, false},
		{"queues a key twice", definitions.KindQueue, `[{"name":"q","vhost":"v","name":"r"}]`, false},
		{"queues not objects", definitions.KindQueue, `[{"name":"q","vhost":"v"},1]`, false},
		{"queues a list in the list", definitions.KindQueue, `[[{"name":"q"}]]`, false},
		{"queues invalid UTF-8", definitions.KindQueue, "[{\"name\":\"q\xff\",\"vhost\":\"v\"}]", false},
		{"queues arguments a list", definitions.KindQueue, `[{"name":"q","vhost":"v","arguments":[]}]`, false},
		{"queues unbalanced", definitions.KindQueue, `[{"name":"q","vhost":"v","arguments":{"a":[}}]`, false},
		{"queues vhost null", definitions.KindQueue, `[{"name":"q","vhost":null,"durable":true,"auto_delete":false,"arguments":{}}]`, false},
		{"exchanges vhost null", definitions.KindExchange, `[{"name":"x","vhost":null,"type":"direct"}]`, false},
		{"bindings vhost null", definitions.KindBinding, `[{"source":"x","vhost":null,"destination":"q","destination_type":"queue","routing_key":"","arguments":{}}]`, false},
		{"policies vhost null", definitions.KindPolicy, `[{"vhost":null,"name":"p","pattern":"^q","definition":{}}]`, false},
		{"queues arguments hold null", definitions.KindQueue, `[{"name":"q","vhost":"v","arguments":{"k":null,"l":[null]}}]`, true},
		{"generated", definitions.KindQueue, string(generated(t, "queues")), true},
		{"generated bindings", definitions.KindBinding, string(generated(t, "bindings")), true},
	}
	ignore := cmp.Options{cmpopts.IgnoreFields(definitions.Meta{}, "Origin"), cmpopts.IgnoreUnexported(definitions.Document{})}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			slow, serr := slowDecode(tc.kind, []byte(tc.data))
			fast := &definitions.Document{}
			ferr := decodeFast(fast, tc.kind, strings.NewReader(tc.data))
			if (ferr == nil) != tc.fast {
				t.Fatalf("the fast path took it: %v, want %v (%v)", ferr == nil, tc.fast, ferr)
			}
			if ferr != nil {
				if got := fast.ObjectsOf(tc.kind); got != nil {
					t.Errorf("the fast path gave up but left %d objects in the document", len(got))
				}
				return
			}
			if serr != nil {
				t.Fatalf("the fast path took an answer the slow path refuses: %v", serr)
			}
			want := slow.ObjectsOf(tc.kind)
			got := fast.ObjectsOf(tc.kind)
			if want == nil || got == nil {
				t.Fatalf("kind named: slow %v, fast %v", want != nil, got != nil)
			}
			if diff := cmp.Diff(want, got, ignore); diff != "" {
				t.Errorf("fast and slow paths differ (-slow +fast):\n%s", diff)
			}
		})
	}
}

// TestLiveDecodeInPieces: an answer that arrives a byte at a time (or an
// element split anywhere) decodes as one that arrives whole.
func TestLiveDecodeInPieces(t *testing.T) {
	for _, kind := range []definitions.Kind{definitions.KindUser, definitions.KindPermission, definitions.KindPolicy,
		definitions.KindQueue, definitions.KindExchange, definitions.KindBinding} {
		data := generated(t, string(kind))
		whole, pieces := &definitions.Document{}, &definitions.Document{}
		if err := decodeFast(whole, kind, bytes.NewReader(data)); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if err := decodeFast(pieces, kind, iotest.OneByteReader(bytes.NewReader(data))); err != nil {
			t.Fatalf("%s, a byte at a time: %v", kind, err)
		}
		if len(whole.ObjectsOf(kind)) == 0 {
			t.Fatalf("%s: nothing decoded", kind)
		}
		if diff := cmp.Diff(whole, pieces, cmpopts.IgnoreUnexported(definitions.Document{})); diff != "" {
			t.Errorf("%s: a byte at a time differs (-whole +pieces):\n%s", kind, diff)
		}
	}
	// A reader's error mid-element is the fast path's giving up, and
	// leaves the document as it was.
	doc := &definitions.Document{}
	err := decodeFast(doc, definitions.KindQueue, iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(generated(t, "queues")))))
	if !errors.Is(err, errNotFast) || doc.Queues != nil {
		t.Errorf("a reader failing mid-answer: %v, %d queues", err, len(doc.Queues))
	}
}

// The objects of one listing share equal strings and equal argument
// maps: the live definitions are held all through a diff, and 10,000
// queues of 100 vhosts need 100 vhost names and, on RabbitMQ 4.0 (which
// lists x-queue-type among the arguments), a few argument Tables.
func TestLiveDecodeShares(t *testing.T) {
	same := func(a, b any) bool { return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() }
	sameString := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }
	doc := &definitions.Document{}
	queues := `[{"name":"a","vhost":"v","type":"classic","durable":true,"auto_delete":false,"exclusive":false,"arguments":{"x-queue-type":"classic","x-max-length":10}},` +
		`{"name":"b","vhost":"v","type":"classic","durable":true,"auto_delete":false,"exclusive":false,"arguments":{"x-max-length":10.0,"x-queue-type":"classic"}},` +
		`{"name":"c","vhost":"v","type":"quorum","durable":true,"auto_delete":false,"exclusive":false,"arguments":{"x-queue-type":"quorum","x-max-length":10}}]`
	if err := decodeFast(doc, definitions.KindQueue, strings.NewReader(queues)); err != nil {
		t.Fatal(err)
	}
	a, b, c := doc.Queues[0], doc.Queues[1], doc.Queues[2]
	if !same(a.Arguments, b.Arguments) || !sameString(a.Vhost, b.Vhost) || !sameString(a.Vhost, c.Vhost) || !sameString(a.Type, b.Type) {
		t.Error("equal queue arguments, vhosts or types are not shared")
	}
	if same(a.Arguments, c.Arguments) || c.Arguments.Get("x-queue-type") != "quorum" {
		t.Errorf("different arguments are shared: %v, %v", a.Arguments, c.Arguments)
	}
	bindings := `[{"source":"x","vhost":"v","destination":"q1","destination_type":"queue","routing_key":"a","arguments":{}},` +
		`{"source":"x","vhost":"v","destination":"q2","destination_type":"queue","routing_key":"b","arguments":{}}]`
	if err := decodeFast(doc, definitions.KindBinding, strings.NewReader(bindings)); err != nil {
		t.Fatal(err)
	}
	if d, e := doc.Bindings[0], doc.Bindings[1]; !same(d.Arguments, e.Arguments) || d.Arguments == nil || !sameString(d.Source, e.Source) || !sameString(d.DestinationType, e.DestinationType) {
		t.Error("empty binding arguments, sources or destination types are not shared")
	}
	users := `[{"name":"u1","password_hash":"","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["monitoring"],"limits":{}},` +
		`{"name":"u2","password_hash":"","hashing_algorithm":"rabbit_password_hashing_sha256","tags":["monitoring"],"limits":{}}]`
	if err := decodeFast(doc, definitions.KindUser, strings.NewReader(users)); err != nil {
		t.Fatal(err)
	}
	if u, v := doc.Users[0], doc.Users[1]; !same(u.Limits, v.Limits) || u.Limits == nil || !sameString(u.HashingAlgorithm, v.HashingAlgorithm) || !sameString(u.Tags[0], v.Tags[0]) {
		t.Error("empty user limits, hashing algorithms or tags are not shared")
	}
}

// generated is one kind's list of the make bench file, as the broker lists it.
func generated(t *testing.T, kind string) []byte {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(defgen.Shape{Vhosts: 3, Users: 10, Queues: 20, Exchanges: 5, Bindings: 30, Policies: 4}.Broker(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc[kind]
}

// BenchmarkReadKindsDecode times decoding the broker's listings of the
// make bench broker (41,200 objects): the fast path, and the slow path it
// replaces.
func BenchmarkReadKindsDecode(b *testing.B) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(defgen.BenchShape.Broker(), &doc); err != nil {
		b.Fatal(err)
	}
	kinds := []definitions.Kind{definitions.KindUser, definitions.KindPermission, definitions.KindPolicy,
		definitions.KindQueue, definitions.KindExchange, definitions.KindBinding}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range kinds {
				if err := decodeFast(&definitions.Document{}, k, bytes.NewReader(doc[string(k)])); err != nil {
					b.Fatal(k, err)
				}
			}
		}
	})
	b.Run("slow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range kinds {
				if _, err := slowDecode(k, doc[string(k)]); err != nil {
					b.Fatal(k, err)
				}
			}
		}
	})
}

// SlowDecodes lets the real-node tests check that the brokers' answers
// take the fast path.
var SlowDecodes = &slowDecodes
