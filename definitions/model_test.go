package definitions

import (
	"encoding/json"
	"hash/maphash"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/warren-tool/warren/schema"
)

func ptr[T any](v T) *T { return &v }

// TestConvert pins how file content becomes the model: tag forms, password
// sources, presence of fields, and unknown fields kept.
func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Document
	}{
		{
			name: "user forms",
			in: `users:
  - {name: a, tags: "administrator, monitoring,", password: {env: A}, limits: {max-connections: 10}}
  - {name: b, tags: [], password: {file: /run/b}, password_hash: "", x-note: kept}
  - {name: c, password: lit, activemq: {groups: [g], console_access: true}}
`,
			want: &Document{Users: []*User{
				{Name: "a", Tags: []string{"administrator", "monitoring"}, Password: &Secret{Env: "A"}, Limits: map[string]int64{"max-connections": 10}},
				{Name: "b", Tags: []string{}, Password: &Secret{File: "/run/b"}, PasswordHash: ptr(""), Meta: Meta{Extra: map[string]any{"x-note": "kept"}}},
				{Name: "c", Password: &Secret{Literal: ptr("lit")}, ActiveMQ: &ActiveMQUser{Groups: []string{"g"}, ConsoleAccess: ptr(true)}},
			}},
		},
		{
			name: "empty lists are kept, absent ones are nil",
			in:   "vhosts: []\nqueues: [{name: q, vhost: v, durable: false, arguments: {x-queue-type: quorum}}]\n",
			want: &Document{Vhosts: []*Vhost{}, Queues: []*Queue{{Name: "q", Vhost: "v", Durable: ptr(false), Arguments: Table{{"x-queue-type", "quorum"}}}}},
		},
		{
			name: "policy priority and vhost metadata",
			in: `policies: [{name: p, vhost: v, pattern: "^a", apply-to: queues, priority: 2.0, definition: {max-length: 5}}]
vhosts: [{name: v, description: d, metadata: {description: m}, tracing: true}]
rabbit_version: 3.10.8
product_name: RabbitMQ
`,
			want: &Document{RabbitVersion: "3.10.8", ProductName: "RabbitMQ",
				Policies: []*Policy{{Name: "p", Vhost: "v", Pattern: "^a", ApplyTo: "queues", Priority: ptr(int64(2)), Definition: map[string]any{"max-length": json.Number("5")}}},
				Vhosts:   []*Vhost{{Name: "v", Description: ptr("d"), Metadata: map[string]any{"description": "m"}, Tracing: ptr(true)}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Parse("t.yaml", []byte(tt.in))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			opts := cmp.Options{cmpopts.IgnoreUnexported(Document{}), cmpopts.IgnoreFields(Meta{}, "Origin"), cmpopts.EquateEmpty()}
			// EquateEmpty would hide nil vs empty lists, which matter: check them apart.
			if (got.Vhosts == nil) != (tt.want.Vhosts == nil) || (got.Queues == nil) != (tt.want.Queues == nil) {
				t.Errorf("presence of lists differs: vhosts %v queues %v", got.Vhosts == nil, got.Queues == nil)
			}
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPasswordRules(t *testing.T) {
	activemq := map[string]string{
		"correct-horse-battery": "",
		"short":                 "is shorter than 12 characters",
		"aaaaaaaaaaaabbb":       "has fewer than 4 different characters",
		"correct,horse,battery": "contains a comma, colon or equals sign",
		"correct=horse-battery": "contains a comma, colon or equals sign",
		"ünïcödé-pässwörd":      "",
	}
	for pw, want := range activemq {
		if got := activeMQPasswordProblem(pw); got != want {
			t.Errorf("activemq %q: %q, want %q", pw, got, want)
		}
	}
	huawei := []struct{ user, pw, want string }{
		{"inventory_app", "Secret-Key-42", ""},
		{"inventory_app", "Ab1", "must be 8-32 characters long"},
		{"inventory_app", "-Secret-Key-42", "must not start with -"},
		{"inventory_app", "alllowercase", "needs at least 3 of: upper case, lower case, digits, special characters"},
		{"Inventory_app1", "Inventory_app1", "must not be the user name or the user name reversed"},
		{"Inventory_app1", "1ppa_yrotnevnI", "must not be the user name or the user name reversed"},
		{"inventory_app", "with space 1A", ""},
	}
	for _, tt := range huawei {
		if got := huaweiPasswordProblem(tt.user, tt.pw); got != tt.want {
			t.Errorf("huawei %q/%q: %q, want %q", tt.user, tt.pw, got, tt.want)
		}
	}
}

// TestKindTable: every kind reaches its own slice through the table, and
// Select keeps a vhost's objects by the table's InVhost.
func TestKindTable(t *testing.T) {
	d := &Document{}
	for _, k := range Kinds {
		if d.ObjectsOf(k) != nil {
			t.Fatalf("%s: present in an empty document", k)
		}
	}
	doc, diags := Parse("all.yaml", []byte(`users: [{name: u, password_hash: ""}]
vhosts: [{name: v}, {name: w}]
permissions: [{user: u, vhost: v, configure: "", write: "", read: ""}]
topic_permissions: [{user: u, vhost: v, exchange: x, write: "", read: ""}]
parameters: [{vhost: v, component: federation-upstream, name: p, value: {uri: "amqp://h"}}]
global_parameters: [{name: g, value: 1}]
policies: [{vhost: w, name: p, pattern: ".*", definition: {max-length: 1}}]
queues: [{vhost: v, name: q}]
exchanges: [{vhost: v, name: x, type: topic}]
bindings: [{vhost: v, source: x, destination: q, destination_type: queue, routing_key: k}]
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, k := range Kinds {
		if objs := doc.ObjectsOf(k); len(objs) == 0 || objs[0].Kind() != k {
			t.Errorf("%s: %v", k, objs)
		}
	}
	Select(doc, "v", nil)
	for _, k := range Kinds {
		info, _ := InfoOf(k)
		want := 0
		if info.InVhost || k == KindVhost {
			want = 1
		}
		if k == KindPolicy {
			want = 0 // in vhost w
		}
		if got := len(doc.ObjectsOf(k)); got != want {
			t.Errorf("after Select of vhost v: %d %s, want %d", got, k, want)
		}
	}
}

// TestDuplicates: every later definition of a key is reported, each
// against the first, however many there are and in whatever order.
func TestDuplicates(t *testing.T) {
	doc, _ := Parse("d.json", []byte(`{"users": [{"name": "a"}, {"name": "b"}, {"name": "a"}, {"name": "a"}, {"name": "c"}, {"name": "b"}],
		"permissions": [{"user": "a", "vhost": "v", "configure": "", "write": "", "read": ""}]}`))
	diags := doc.duplicates()
	var got []string
	for _, d := range diags {
		if d.Code == schema.EDuplicate {
			got = append(got, d.Pointer+" also "+d.Also.Pointer)
		}
	}
	slices.Sort(got)
	if want := []string{"/users/2 also /users/0", "/users/3 also /users/0", "/users/5 also /users/1"}; !slices.Equal(got, want) {
		t.Errorf("duplicates %v, want %v", got, want)
	}
}

// TestWriteKey: the hash duplicates sorts by is the hash of each kind's
// Key, so that equal keys are found next to each other.
func TestWriteKey(t *testing.T) {
	args := TableOf(map[string]any{"x-match": "all"})
	objs := []Object{
		&User{Name: "u"}, &Vhost{Name: "v"},
		&Permission{Vhost: "v", User: "u"},
		&TopicPermission{Vhost: "v", User: "u", Exchange: "x"},
		&Parameter{Vhost: "v", Component: "shovel", Name: "s"},
		&GlobalParameter{Name: "g"},
		&Policy{Vhost: "v", Name: "p"},
		&Queue{Vhost: "v", Name: "q"},
		&Exchange{Vhost: "v", Name: "x"},
		&Binding{Vhost: "v", Source: "x", DestinationType: "queue", Destination: "q", RoutingKey: "k"},
		&Binding{Vhost: "v", Source: "x", DestinationType: "queue", Destination: "q", RoutingKey: "k", Arguments: args},
	}
	seen := map[Kind]bool{}
	seed := maphash.MakeSeed()
	for _, o := range objs {
		seen[o.Kind()] = true
		var h maphash.Hash
		h.SetSeed(seed)
		writeKey(&h, o)
		if got, want := h.Sum64(), maphash.String(seed, o.Key()); got != want {
			t.Errorf("%s: writeKey hashes to %x, its Key to %x", o.Addr(), got, want)
		}
		if got := string(AppendKey([]byte("pre"), o)); got != "pre"+o.Key() {
			t.Errorf("%s: AppendKey appends %q, its Key is %q", o.Addr(), got, o.Key())
		}
	}
	for _, k := range Kinds {
		if !seen[k] {
			t.Errorf("no %s checked", k)
		}
	}
}

// TestDuplicatesOrder: duplicates are reported in the order of their
// keys, then of their place in the file, whatever their hashes.
func TestDuplicatesOrder(t *testing.T) {
	doc, _ := Parse("d.json", []byte(`{"queues": [
		{"vhost": "v", "name": "c"}, {"vhost": "v", "name": "a"}, {"vhost": "v", "name": "b"},
		{"vhost": "v", "name": "b"}, {"vhost": "v", "name": "c"}, {"vhost": "v", "name": "a"}, {"vhost": "v", "name": "c"}]}`))
	var got []string
	for _, d := range doc.duplicates() {
		got = append(got, d.Pointer+" also "+d.Also.Pointer)
	}
	want := []string{"/queues/5 also /queues/1", "/queues/3 also /queues/2", "/queues/4 also /queues/0", "/queues/6 also /queues/0"}
	if !slices.Equal(got, want) {
		t.Errorf("duplicates %v, want %v", got, want)
	}
}

// TestDuplicatesOfOneKey: a key defined n times is n-1 reports, each
// against the first definition.
func TestDuplicatesOfOneKey(t *testing.T) {
	const n = 1000
	diags := samePermission(n).duplicates()
	if len(diags) != n-1 {
		t.Fatalf("%d reports, want %d", len(diags), n-1)
	}
	for _, d := range diags {
		if d.Also == nil || d.Also.Pointer != "/permissions/0" {
			t.Fatalf("%s reported against %v, not /permissions/0", d.Pointer, d.Also)
		}
	}
}

// BenchmarkDuplicatesOfOneKey: 40,000 definitions of one permission. The
// reports are found in one pass over the sorted keys; walking back to each
// run's start for every duplicate took 1.8 s here.
func BenchmarkDuplicatesOfOneKey(b *testing.B) {
	doc := samePermission(40000)
	b.ReportAllocs()
	for b.Loop() {
		doc.duplicates()
	}
}

// samePermission is a document defining one permission n times.
func samePermission(n int) *Document {
	var b strings.Builder
	b.WriteString(`{"permissions":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"user":"u","vhost":"/","configure":".*","write":".*","read":".*"}`)
	}
	b.WriteString(`]}`)
	doc, _ := Parse("d.json", []byte(b.String()))
	return doc
}
