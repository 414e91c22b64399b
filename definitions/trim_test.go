package definitions_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

const exported = `{
  "rabbit_version": "3.10.8", "rabbitmq_version": "3.10.8", "product_name": "RabbitMQ", "product_version": "3.10.8",
  "explanation": "Definitions of cluster 'c'", "original_cluster_name": "c", "rabbitmq_definition_format": "cluster",
  "users": [
    {"name": "guest", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]},
    {"name": "app", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": []}
  ],
  "vhosts": [{"name": "/"}, {"name": "orders"}],
  "permissions": [
    {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "app", "vhost": "orders", "configure": ".*", "write": ".*", "read": ".*"}
  ],
  "global_parameters": [{"name": "internal_cluster_id", "value": "rabbitmq-cluster-id-x"}, {"name": "cluster_name", "value": "c"}, {"name": "cluster_tags", "value": []}],
  "policies": [
    {"vhost": "orders", "name": "ha", "pattern": ".*", "definition": {"ha-mode": "all", "ha-sync-mode": "automatic"}},
    {"vhost": "orders", "name": "mixed", "pattern": ".*", "definition": {"ha-mode": "all", "max-length": 5}}
  ],
  "queues": [
    {"name": "amq.gen-abc", "vhost": "orders", "durable": false, "auto_delete": true, "arguments": {}},
    {"name": "work", "vhost": "orders", "durable": true, "auto_delete": false, "arguments": {"x-max-priority": 10, "x-queue-mode": "lazy", "x-message-ttl": 5}}
  ],
  "bindings": [{"vhost": "orders", "source": "amq.direct", "destination_type": "queue", "destination": "amq.gen-abc", "routing_key": "k", "arguments": {}}]
}`

func TestTrim(t *testing.T) {
	tests := []struct {
		trims   []string
		present []string // substrings the result has
		absent  []string // substrings it must not have
	}{
		{definitions.DefaultTrims(), []string{`"guest"`, "password_hash"}, []string{"rabbit_version", "product_name", "explanation", "original_cluster_name", "rabbitmq_definition_format", "internal_cluster_id", "cluster_name", "cluster_tags"}},
		{[]string{"guest"}, []string{`"app"`}, []string{`"guest"`}},
		{[]string{"guest", "default-vhost"}, []string{`"orders"`}, []string{`"name": "/"`}},
		{[]string{"default-vhost"}, []string{`"name": "/"`}, nil}, // guest's permission uses it
		{[]string{"server-named"}, []string{`"work"`}, []string{"amq.gen-abc"}},
		{[]string{"hashes"}, []string{`"app"`}, []string{"password_hash", "hashing_algorithm"}},
		{[]string{"strip_cmq_keys_from_policies"}, []string{`"mixed"`, `"max-length": 5`, `"name": "ha"`}, []string{"ha-mode", "ha-sync-mode"}},
		{[]string{"strip_cmq_keys_from_policies", "drop_empty_policies"}, []string{`"mixed"`}, []string{`"name": "ha"`}},
		{[]string{"obfuscate_usernames"}, []string{"obfuscated-user-1", "obfuscated-user-2"}, []string{`"app"`, `"guest"`, "password_hash"}},
		{[]string{"exclude_users", "exclude_permissions", "exclude_runtime_parameters", "exclude_policies"}, []string{`"orders"`}, []string{`"users"`, `"permissions"`, `"global_parameters"`, `"policies"`}},
		{[]string{"prepare_for_quorum_queue_migration"}, []string{`"x-queue-type": "quorum"`, `"x-message-ttl": 5`}, []string{"x-max-priority", "x-queue-mode", "ha-mode"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.trims, ","), func(t *testing.T) {
			doc, diags := definitions.Parse("export.json", []byte(exported))
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			if err := definitions.Trim(doc, tt.trims); err != nil {
				t.Fatal(err)
			}
			out := string(doc.EncodeJSON())
			for _, s := range tt.present {
				if !strings.Contains(out, s) {
					t.Errorf("lacks %s:\n%s", s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("still has %s:\n%s", s, out)
				}
			}
		})
	}
	if err := definitions.Trim(&definitions.Document{}, []string{"nope"}); err == nil {
		t.Error("an unknown trim is accepted")
	}
}

// TestNormalizeFillsWhatTrimLeavesOut checks the defaults table: a file
// that leaves the defaults out normalizes to the same definitions as one
// that spells them out, and the two diff as equal.
func TestNormalizeFillsWhatTrimLeavesOut(t *testing.T) {
	spelled := `{"policies": [{"vhost": "v", "name": "p", "pattern": ".*", "apply-to": "all", "priority": 0, "definition": {}}],
	  "queues": [{"name": "q", "vhost": "v", "durable": true, "auto_delete": false, "arguments": {"x-queue-type": "classic"}}],
	  "exchanges": [{"name": "x", "vhost": "v", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
	  "bindings": [{"vhost": "v", "source": "x", "destination_type": "queue", "destination": "q", "routing_key": "", "arguments": {}}],
	  "users": [{"name": "u", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR", "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": [], "limits": {}}],
	  "vhosts": [{"name": "v", "description": "", "tags": [], "default_queue_type": "classic", "tracing": false}]}`
	terse := `{"policies": [{"vhost": "v", "name": "p", "pattern": ".*", "definition": {}}],
	  "queues": [{"name": "q", "vhost": "v"}],
	  "exchanges": [{"name": "x", "vhost": "v", "type": "topic"}],
	  "bindings": [{"vhost": "v", "source": "x", "destination_type": "queue", "destination": "q"}],
	  "users": [{"name": "u", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR"}],
	  "vhosts": [{"name": "v"}]}`
	a, _ := definitions.Parse("spelled.json", []byte(spelled))
	b, _ := definitions.Parse("terse.json", []byte(terse))
	if diff := cmp.Diff(definitions.Digest(a), definitions.Digest(b)); diff != "" {
		t.Errorf("normalized documents differ: %s", diff)
	}
	p, err := plan.Diff(b, a)
	if err != nil || !p.Empty() {
		t.Errorf("terse against spelled: %v %+v", err, p)
	}
}

// TestTrimLeavesSharedArgumentsAlone: a broker's listing shares one
// arguments Table between equal queues; turning the classic ones into quorum
// queues must not change the others through it.
func TestTrimLeavesSharedArgumentsAlone(t *testing.T) {
	args := definitions.TableOf(map[string]any{"x-queue-mode": "lazy"})
	classic := &definitions.Queue{Vhost: "/", Name: "c", Arguments: args}
	stream := &definitions.Queue{Vhost: "/", Name: "s", Type: "stream", Arguments: args}
	doc := &definitions.Document{Queues: []*definitions.Queue{classic, stream}}
	if err := definitions.Trim(doc, []string{"prepare_for_quorum_queue_migration"}); err != nil {
		t.Fatal(err)
	}
	if q := doc.Queues[0]; q.Arguments.Get("x-queue-type") != "quorum" || q.Arguments.Get("x-queue-mode") != nil {
		t.Errorf("classic queue's arguments: %v", q.Arguments)
	}
	if len(classic.Arguments) != 1 || classic.Arguments.Get("x-queue-mode") != "lazy" {
		t.Errorf("the classic queue's arguments changed in place: %v", classic.Arguments)
	}
	if len(stream.Arguments) != 1 || stream.Arguments.Get("x-queue-mode") != "lazy" {
		t.Errorf("the stream's arguments changed through the shared Table: %v", stream.Arguments)
	}
}

// TestNormalizeSharesButNeverChanges: Normalize shares the objects that
// need no default with the document it was given, and filling in a
// per-vhost export's vhost afterwards does not reach them.
func TestNormalizeSharesButNeverChanges(t *testing.T) {
	yes, no := true, false
	plain := &definitions.Queue{Name: "q", Durable: &yes, AutoDelete: &no, Arguments: definitions.TableOf(map[string]any{"x-queue-type": "classic"})}
	bare := &definitions.Queue{Name: "r"}
	perm := &definitions.Permission{User: "u", Vhost: "/", Configure: ".*"}
	d := &definitions.Document{Queues: []*definitions.Queue{plain, bare}, Permissions: []*definitions.Permission{perm}}
	n := definitions.Normalize(d)
	if n.Queues[0] != plain || n.Permissions[0] != perm {
		t.Error("objects that need no default were copied")
	}
	if n.Queues[1] == bare || bare.Durable != nil || bare.Arguments != nil {
		t.Errorf("a queue that needs defaults was changed in place: %+v", bare)
	}
	if n.Queues[1].Arguments.Get("x-queue-type") != "classic" || !*n.Queues[1].Durable {
		t.Errorf("defaults not filled in: %+v", n.Queues[1])
	}
	n.FillVhost("v")
	if plain.Vhost != "" || bare.Vhost != "" {
		t.Error("FillVhost on the normalized document changed the original's queues")
	}
	if n.Queues[0].Vhost != "v" || n.Queues[1].Vhost != "v" {
		t.Error("FillVhost did not fill in the vhost")
	}
}
