package rabbitmq_test

import (
	"context"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// A read scoped to some vhosts reads the kinds that live in a vhost from
// those vhosts' listings alone; a vhost the broker lacks holds nothing.
func TestReadKindsIn(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	defs := `{"vhosts":[{"name":"a"},{"name":"b"}],
"permissions":[{"user":"` + n.Admin + `","vhost":"a","configure":".*","write":".*","read":".*"},{"user":"` + n.Admin + `","vhost":"b","configure":".*","write":".*","read":".*"}],
"policies":[{"name":"pa","vhost":"a","pattern":"^x","apply-to":"queues","definition":{"max-length":1},"priority":0},{"name":"pb","vhost":"b","pattern":"^x","apply-to":"queues","definition":{"max-length":1},"priority":0}],
"queues":[{"name":"qa","vhost":"a","durable":true,"auto_delete":false,"arguments":{}},{"name":"qb","vhost":"b","durable":true,"auto_delete":false,"arguments":{}}],
"exchanges":[{"name":"ea","vhost":"a","type":"fanout","durable":true,"auto_delete":false,"internal":false,"arguments":{}},{"name":"eb","vhost":"b","type":"fanout","durable":true,"auto_delete":false,"internal":false,"arguments":{}}],
"bindings":[{"source":"ea","vhost":"a","destination":"qa","destination_type":"queue","routing_key":"","arguments":{}},{"source":"eb","vhost":"b","destination":"qb","destination_type":"queue","routing_key":"","arguments":{}}]}`
	if err := n.PostDefinitions(ctx, []byte(defs)); err != nil {
		t.Fatal(err)
	}
	kinds := []definitions.Kind{definitions.KindPermission, definitions.KindPolicy, definitions.KindQueue, definitions.KindExchange, definitions.KindBinding, definitions.KindVhost}
	doc, err := client(t, n).ReadKindsIn(ctx, kinds, []string{"a", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds[:5] {
		var vhosts []string
		for o := range doc.All(k) {
			vhosts = append(vhosts, o.VhostName())
		}
		if len(vhosts) != 1 || vhosts[0] != "a" {
			t.Errorf("%s read in vhosts a and missing: in vhosts %v, want one in a", k, vhosts)
		}
	}
	// Vhosts have no listing a vhost: read whole, for the caller to keep.
	if len(doc.Vhosts) < 3 {
		t.Errorf("vhosts read: %d, want all of them", len(doc.Vhosts))
	}
}
