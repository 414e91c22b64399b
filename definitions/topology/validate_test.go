package topology

import (
	"os"
	"strings"
	"testing"

	"github.com/warren-tool/warren/schema"
)

func readExamples(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestExamplesValid checks that the contract's minimal example of every
// kind passes the strict validator, and that every kind is among them.
func TestExamplesValid(t *testing.T) {
	data := readExamples(t)
	s, diags := Decode("examples.yaml", []byte(data))
	diags = append(diags, Check(s)...)
	if len(diags) > 0 {
		t.Fatalf("examples fail:\n%s", diags)
	}
	seen := map[string]bool{}
	for _, r := range s.Resources {
		if r.Object == nil {
			t.Errorf("%s not decoded", r)
		}
		seen[r.Kind] = true
	}
	for _, k := range append(Kinds, "Secret") {
		if !seen[k] {
			t.Errorf("no example of %s", k)
		}
	}
}

// posOf is the line and column of the first occurrence of sub in text.
func posOf(t *testing.T, text, sub string) schema.Pos {
	t.Helper()
	i := strings.Index(text, sub)
	if i < 0 {
		t.Fatalf("%q not in the mutated text", sub)
	}
	line := strings.Count(text[:i], "\n") + 1
	col := i - strings.LastIndex(text[:i], "\n")
	return schema.Pos{Line: line, Col: col}
}

// TestMutations changes the valid examples one checklist item at a time;
// each change must give its code at the place of the mistake.
func TestMutations(t *testing.T) {
	base := readExamples(t)
	tests := []struct {
		name, old, new string
		at             string // where the diagnostic points: first occurrence in the mutated text
		code           schema.Code
	}{
		{"unknown kind", "kind: Vhost", "kind: VirtualHost", "VirtualHost", schema.ETopoKind},
		{"kind at wrong apiVersion", "apiVersion: rabbitmq.com/v1alpha1", "apiVersion: rabbitmq.com/v1beta1", "rabbitmq.com/v1beta1\nkind: SuperStream", schema.ETopoKind},
		{"invalid metadata.name", "metadata: {name: orders-vhost}", "metadata: {name: Orders_Vhost}", "Orders_Vhost", schema.ETopoName},
		{"invalid namespace", "metadata: {name: orders-ttl}", "metadata: {name: orders-ttl, namespace: my.ns}", "my.ns", schema.ETopoName},
		{"spec missing", "spec: {tags: [management], importCredentialsSecret: {name: app-user-creds}, rabbitmqClusterReference: {name: my-rabbit}}", "", "apiVersion: rabbitmq.com/v1beta1\nkind: User", schema.ERequired},
		{"unknown field", "spec: {name: orders, rabbitmqClusterReference", "spec: {name: orders, tracng: true, rabbitmqClusterReference", "tracng", schema.ETopoUnknownField},
		{"unknown metadata field", "metadata: {name: orders-vhost}", "metadata: {name: orders-vhost, lables: {}}", "lables", schema.ETopoUnknownField},
		{"string for bool", "durable: true\n", "durable: \"true\"\n", "\"true\"\n  arguments", schema.EType},
		{"float for integer", "partitions: 3", "partitions: 3.5", "3.5", schema.EType},
		{"list for object", "definition: {message-ttl: 60000}", "definition: [message-ttl]", "[message-ttl]", schema.EType},
		{"defaultQueueType case", "spec: {name: orders, rabbitmqClusterReference", "spec: {name: orders, defaultQueueType: Quorum, rabbitmqClusterReference", "Quorum", schema.EValue},
		{"user tag not in enum", "tags: [management]", "tags: [management, impersonator]", "impersonator", schema.EValue},
		{"destinationType", "destinationType: queue", "destinationType: Queue", "Queue\n  routingKey", schema.EValue},
		{"required field", "pattern: \"^tmp\\\\.\", ", "", "{name: ttl", schema.ERequired},
		{"topic permission exchange required", "permissions: {exchange: events, ", "permissions: {", "{write: \"^orders", schema.ERequired},
		{"cluster reference missing", "spec: {name: orders, rabbitmqClusterReference: {name: my-rabbit}}", "spec: {name: orders}", "{name: orders}", schema.ETopoCluster},
		{"cluster reference with both", "spec: {name: orders, rabbitmqClusterReference: {name: my-rabbit}}", "spec: {name: orders, rabbitmqClusterReference: {name: my-rabbit, connectionSecret: {name: conn}}}", "{name: my-rabbit, conn", schema.ETopoCluster},
		{"cluster reference with neither", "spec: {name: orders, rabbitmqClusterReference: {name: my-rabbit}}", "spec: {name: orders, rabbitmqClusterReference: {}}", "{}}", schema.ETopoCluster},
		{"user and userReference", "spec: {vhost: orders, user: app,", "spec: {vhost: orders, user: app, userReference: {name: app},", "{vhost: orders, user: app, userRef", schema.ETopoRule},
		{"neither user nor userReference", "spec: {vhost: orders, userReference: {name: app},", "spec: {vhost: orders,", "{vhost: orders, permissions: {exchange", schema.ETopoRule},
		{"quorum queue not durable", "durable: true\n  arguments", "durable: false\n  arguments", "false\n  arguments", schema.ETopoRule},
		{"shovel amqp10 without address", "srcQueue: legacy,", "srcQueue: legacy, srcProtocol: amqp10,", "amqp10", schema.ETopoRule},
		{"schema replication vault without endpoints", "spec: {upstreamSecret: {name: sync-upstream},", "spec: {secretBackend: {vault: {secretPath: p}},", "{secretPath: p}", schema.ETopoRule},
		{"super stream routing keys", "partitions: 3,", "partitions: 3, routingKeys: [a, b],", "[a, b]", schema.ETopoRule},
		{"inline user password", "importCredentialsSecret: {name: app-user-creds},", "password: hunter2,", "password: hunter2", schema.ETopoCredential},
		{"inline federation uri", "uriSecret: {name: upstream-uri},", "uriSecret: {name: upstream-uri}, uri: \"amqp://u:p@h\",", "uri: \"amqp://u", schema.ETopoCredential},
		{"secret missing", "importCredentialsSecret: {name: app-user-creds}", "importCredentialsSecret: {name: app-creds}", "app-creds", schema.ETopoSecret},
		{"secret unlabelled", "metadata: {name: upstream-uri, labels: {rabbitmq.com/topology-operator: \"true\"}}", "metadata: {name: upstream-uri}", "upstream-uri}, rabbitmqCluster", schema.ETopoSecret},
		{"secret key missing", "{srcUri: \"amqp://mover:pw@old-host/orders\", ", "{", "move-uris}, srcQueue", schema.ETopoSecret},
		{"user secret without password", "stringData: {username: app, password: change-me}", "stringData: {username: app}", "app-user-creds}, rabbitmqCluster", schema.ETopoSecret},
		{"secret value not a string", "stringData: {username: app, password: change-me}", "stringData: {username: app, password: 123456}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: app-user-creds, labels: {rabbitmq.com/topology-operator: \"true\"}}\nstringData: {username: app, password: \"x\"}", "123456", schema.EType},
		{"super stream routing key not a label value", "partitions: 3,", "partitions: 2, routingKeys: [eu, \"us/west\"],", "\"us/west\"", schema.ETopoName},
		{"label value", "metadata: {name: orders-vhost}", "metadata: {name: orders-vhost, labels: {team: \"orders team\"}}", "\"orders team\"", schema.ETopoName},
		{"duplicate key", "spec: {name: orders, rabbitmqClusterReference", "spec: {name: orders, name: x, rabbitmqClusterReference", "name: x", schema.EDuplicateKey},
		{"duplicate metadata.name", "spec: {name: orders, rabbitmqClusterReference: {name: my-rabbit}}\n", "spec: {name: orders, rabbitmqClusterReference: {name: my-rabbit}}\n---\napiVersion: rabbitmq.com/v1beta1\nkind: Vhost\nmetadata: {name: orders-vhost}\nspec: {name: other, rabbitmqClusterReference: {name: my-rabbit}}\n", "orders-vhost}\nspec: {name: other", schema.EDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("%q not in the examples", tt.old)
			}
			text := strings.Replace(base, tt.old, tt.new, 1)
			want := posOf(t, text, tt.at)
			diags := Validate("x.yaml", []byte(text))
			if strings.Contains(diags.Error(), "123456") {
				t.Errorf("a Secret's value is shown: %s", diags)
			}
			for _, d := range diags {
				if d.Code == tt.code && d.Pos == want {
					if d.File != "x.yaml" || d.Severity != schema.Error {
						t.Errorf("diagnostic %s: want file x.yaml, severity error", d)
					}
					return
				}
			}
			t.Errorf("want %s at %d:%d, got:\n%s", tt.code, want.Line, want.Col, diags)
		})
	}
}

// TestSecretAfterItsUser: a Secret written after the resource that
// references it, in the same file, is refused at that reference.
func TestSecretAfterItsUser(t *testing.T) {
	base := readExamples(t)
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: app-user-creds, labels: {rabbitmq.com/topology-operator: \"true\"}}\ntype: Opaque\nstringData: {username: app, password: change-me}\n---\n"
	if !strings.Contains(base, secret) {
		t.Fatal("the examples changed")
	}
	text := strings.Replace(base, secret, "", 1) + "---\n" + strings.TrimSuffix(secret, "---\n")
	want := posOf(t, text, "app-user-creds}, rabbitmqCluster")
	diags := Validate("x.yaml", []byte(text))
	if len(diags) != 1 || diags[0].Code != schema.ETopoSecret || diags[0].Pos != want || !strings.Contains(diags[0].Message, "comes after the resource") {
		t.Errorf("want one E136 about the order at %v, got:\n%s", want, diags)
	}
}
