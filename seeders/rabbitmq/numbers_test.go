package rabbitmq_test

import (
	"context"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestNumbersTheBrokerRefuses: each document holds one number RabbitMQ
// cannot take (a fraction where it takes an integer, a number beyond a
// float); the node refuses it, and warren's validation reports an error
// at the number's place before anything is sent. Checked on every version
// the test runs on.
func TestNumbersTheBrokerRefuses(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	queue := func(args string) string {
		return `{"queues":[{"name":"num-q","vhost":"/","durable":true,"auto_delete":false,"arguments":{` + args + `}}]}`
	}
	policy := func(def string) string {
		return `{"policies":[{"name":"num-p","vhost":"/","pattern":"^num$","definition":{` + def + `}}]}`
	}
	for _, tc := range []struct{ doc, pointer string }{
		{queue(`"x-max-length":1.5`), "/queues/0/arguments/x-max-length"},
		{queue(`"x-max-length-bytes":100.5`), "/queues/0/arguments/x-max-length-bytes"},
		{queue(`"x-message-ttl":10.5`), "/queues/0/arguments/x-message-ttl"},
		{queue(`"x-expires":1000.5`), "/queues/0/arguments/x-expires"},
		{queue(`"x-max-priority":2.5`), "/queues/0/arguments/x-max-priority"},
		{policy(`"max-length":1.5`), "/policies/0/definition/max-length"},
		{policy(`"message-ttl":10.5`), "/policies/0/definition/message-ttl"},
		{policy(`"expires":1000.5`), "/policies/0/definition/expires"},
		{policy(`"delivery-limit":2.5`), "/policies/0/definition/delivery-limit"},
		{`{"users":[{"name":"num-u","password_hash":"","tags":"","limits":{"max-connections":1.5}}]}`, "/users/0/limits/max-connections"},
		{`{"parameters":[{"vhost":"/","component":"vhost-limits","name":"limits","value":{"max-queues":1.5}}]}`, "/parameters/0/value/max-queues"},
		{queue(`"x-max-length":1e400`), "/queues/0/arguments/x-max-length"},
		{queue(`"x-custom":-1e400`), "/queues/0/arguments/x-custom"},
		{`{"exchanges":[{"name":"num-x","vhost":"/","type":"direct","durable":true,"auto_delete":false,"internal":false,"arguments":{"x-n":1.7e309}}]}`, "/exchanges/0/arguments/x-n"},
		{`{"global_parameters":[{"name":"num-g","value":{"a":[1,1E999]}}]}`, "/global_parameters/0/value/a/1"},
	} {
		t.Run(tc.pointer, func(t *testing.T) {
			err := n.PostDefinitions(ctx, []byte(tc.doc))
			if err == nil {
				t.Fatalf("RabbitMQ %s took %s", n.Version, tc.doc)
			}
			t.Logf("RabbitMQ %s: %v", n.Version, err)
			doc, diags := definitions.Parse("defs.json", []byte(tc.doc))
			if doc != nil && !diags.HasErrors() {
				diags = append(diags, definitions.Check(doc, definitions.CheckOptions{RabbitMQVersion: n.Version})...)
			}
			for _, d := range diags {
				if d.Severity == schema.Error && d.Pointer == tc.pointer {
					if !strings.Contains(d.String(), "defs.json:1:") {
						t.Errorf("not positioned: %s", d.String())
					}
					return
				}
			}
			t.Errorf("no error at %s for %s:\n%s", tc.pointer, tc.doc, diags.Error())
		})
	}
}
