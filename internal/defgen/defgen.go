// Package defgen generates large, valid definitions documents for
// benchmarks: users with hashes, permissions, queues, exchanges, bindings
// and policies spread over vhosts, in the compact layout RabbitMQ exports.
package defgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
)

// Generate returns a JSON definitions document of about n objects. The
// output depends only on n.
func Generate(n int) []byte {
	vhosts := max(1, n/100)
	users := n * 30 / 100
	perms := n * 30 / 100
	queues := n * 25 / 100
	exchanges := n * 5 / 100
	bindings := n * 9 / 100
	policies := max(0, n-vhosts-users-perms-queues-exchanges-bindings)

	var b bytes.Buffer
	b.WriteString(`{"rabbit_version":"3.10.8","rabbitmq_version":"3.10.8","product_name":"RabbitMQ","product_version":"3.10.8",`)
	list := func(key string, count int, item func(i int)) {
		fmt.Fprintf(&b, "%q:[", key)
		for i := range count {
			if i > 0 {
				b.WriteByte(',')
			}
			item(i)
		}
		b.WriteString("],")
	}
	vh := func(i int) string { return fmt.Sprintf("vhost-%d", i%vhosts) }
	list("users", users, func(i int) {
		salt := []byte{byte(i), byte(i >> 8), byte(i >> 16), 7}
		sum := sha256.Sum256(append(salt, fmt.Sprintf("password-%d", i)...))
		hash := base64.StdEncoding.EncodeToString(append(salt, sum[:]...))
		tags := `[]`
		if i%50 == 0 {
			tags = `["administrator"]`
		}
		fmt.Fprintf(&b, `{"name":"user-%d","password_hash":%q,"hashing_algorithm":"rabbit_password_hashing_sha256","tags":%s,"limits":{}}`, i, hash, tags)
	})
	list("vhosts", vhosts, func(i int) {
		fmt.Fprintf(&b, `{"name":"vhost-%d","limits":[],"metadata":{"description":"generated vhost %d","tags":[]}}`, i, i)
	})
	list("permissions", perms, func(i int) {
		fmt.Fprintf(&b, `{"user":"user-%d","vhost":%q,"configure":"^app-%d\\..*","write":".*","read":".*"}`, i%max(1, users), vh(i/max(1, users)+i), i)
	})
	list("topic_permissions", 0, nil)
	list("parameters", 0, nil)
	list("global_parameters", 1, func(int) { b.WriteString(`{"name":"cluster_name","value":"bench@localhost"}`) })
	list("policies", policies, func(i int) {
		fmt.Fprintf(&b, `{"vhost":%q,"name":"policy-%d","pattern":"^q-%d-","apply-to":"queues","definition":{"max-length":%d},"priority":%d}`, vh(i), i, i, 1000+i, i%10)
	})
	list("queues", queues, func(i int) {
		fmt.Fprintf(&b, `{"name":"q-%d","vhost":%q,"durable":true,"auto_delete":false,"arguments":{"x-queue-type":"classic","x-max-length":%d}}`, i, vh(i), 10000+i)
	})
	list("exchanges", exchanges, func(i int) {
		fmt.Fprintf(&b, `{"name":"x-%d","vhost":%q,"type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}`, i, vh(i))
	})
	b.WriteString(`"bindings":[`)
	for i := range bindings {
		if i > 0 {
			b.WriteByte(',')
		}
		q := i % max(1, queues)
		x := q % max(1, exchanges)
		// A queue and an exchange share a vhost when their indexes agree
		// modulo vhosts; pick the exchange so that they do.
		x = x - x%vhosts + q%vhosts
		if x >= exchanges {
			x = q % vhosts
		}
		fmt.Fprintf(&b, `{"source":"x-%d","vhost":%q,"destination":"q-%d","destination_type":"queue","routing_key":"rk.%d","arguments":{}}`, x, vh(q), q, i)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// Broker returns a definitions document shaped like a busy broker's: users
// with password hashes, one permission each, and queues, spread over
// vhosts. Broker(10000, 10000, 100) is the 30,000-object benchmark file.
func Broker(users, queues, vhosts int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"users":[`)
	for i := range users {
		if i > 0 {
			b.WriteByte(',')
		}
		salt := []byte{byte(i), byte(i >> 8), byte(i >> 16), 9}
		sum := sha256.Sum256(append(salt, fmt.Sprintf("password-%d", i)...))
		fmt.Fprintf(&b, `{"name":"user-%d","password_hash":%q,"hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}`,
			i, base64.StdEncoding.EncodeToString(append(salt, sum[:]...)))
	}
	b.WriteString(`],"vhosts":[`)
	for i := range vhosts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"vhost-%d"}`, i)
	}
	b.WriteString(`],"permissions":[`)
	for i := range users {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"user":"user-%d","vhost":"vhost-%d","configure":"^user-%d\\.","write":".*","read":".*"}`, i, i%vhosts, i)
	}
	b.WriteString(`],"queues":[`)
	for i := range queues {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"queue-%d","vhost":"vhost-%d","durable":true,"auto_delete":false,"arguments":{}}`, i, i%vhosts)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}
