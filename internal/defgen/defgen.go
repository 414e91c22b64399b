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
// vhosts. Broker(10000, 10000, 100) is a 30,000-object file.
func Broker(users, queues, vhosts int) []byte {
	return Shape{Vhosts: vhosts, Users: users, Queues: queues}.Broker()
}

// Shape says how many objects of each kind Shape.Broker writes. Every user
// has one permission.
type Shape struct {
	Vhosts, Users, Queues, Exchanges, Bindings, Policies int
}

// BenchShape is the 41,200-object broker of make bench: 100
// vhosts, 10,000 users, 10,000 permissions, 10,000 queues, 1,000
// exchanges, 10,000 bindings and 100 policies.
var BenchShape = Shape{Vhosts: 100, Users: 10000, Queues: 10000, Exchanges: 1000, Bindings: 10000, Policies: 100}

// Objects is how many objects the document holds.
func (s Shape) Objects() int {
	return s.Vhosts + 2*s.Users + s.Queues + s.Exchanges + s.Bindings + s.Policies
}

// Broker writes the document. Queue i, exchange i and policy i live in
// vhost i%Vhosts; binding i binds exchange (i%Exchanges) to a queue of the
// same vhost, so every binding's source and destination exist (RabbitMQ
// 4.0 refuses a binding whose exchange is missing). The output depends only
// on s.
func (s Shape) Broker() []byte {
	var b bytes.Buffer
	vhosts := max(1, s.Vhosts)
	b.WriteString(`{"users":[`)
	for i := range s.Users {
		if i > 0 {
			b.WriteByte(',')
		}
		salt := []byte{byte(i), byte(i >> 8), byte(i >> 16), 9}
		sum := sha256.Sum256(append(salt, fmt.Sprintf("password-%d", i)...))
		fmt.Fprintf(&b, `{"name":"user-%d","password_hash":%q,"hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}`,
			i, base64.StdEncoding.EncodeToString(append(salt, sum[:]...)))
	}
	b.WriteString(`],"vhosts":[`)
	for i := range s.Vhosts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"vhost-%d"}`, i)
	}
	b.WriteString(`],"permissions":[`)
	for i := range s.Users {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"user":"user-%d","vhost":"vhost-%d","configure":"^user-%d\\.","write":".*","read":".*"}`, i, i%vhosts, i)
	}
	if s.Policies > 0 {
		b.WriteString(`],"policies":[`)
		for i := range s.Policies {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"vhost":"vhost-%d","name":"policy-%d","pattern":"^queue-%d$","apply-to":"queues","definition":{"max-length":%d},"priority":0}`, i%vhosts, i, i, 1000+i)
		}
	}
	b.WriteString(`],"queues":[`)
	for i := range s.Queues {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"queue-%d","vhost":"vhost-%d","durable":true,"auto_delete":false,"arguments":{}}`, i, i%vhosts)
	}
	if s.Exchanges > 0 {
		b.WriteString(`],"exchanges":[`)
		for i := range s.Exchanges {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"exchange-%d","vhost":"vhost-%d","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}`, i, i%vhosts)
		}
	}
	if s.Exchanges > 0 && s.Queues > 0 && s.Bindings > 0 {
		b.WriteString(`],"bindings":[`)
		// Exchange x lives in vhost x%vhosts; its queues are those q with
		// q%vhosts == x%vhosts: q = x%vhosts + k*vhosts.
		perVhost := max(1, s.Queues/vhosts)
		for i := range s.Bindings {
			if i > 0 {
				b.WriteByte(',')
			}
			x := i % s.Exchanges
			q := x%vhosts + ((i/s.Exchanges)%perVhost)*vhosts
			fmt.Fprintf(&b, `{"source":"exchange-%d","vhost":"vhost-%d","destination":"queue-%d","destination_type":"queue","routing_key":"rk.%d","arguments":{}}`, x, x%vhosts, q, i)
		}
	}
	b.WriteString("]}\n")
	return b.Bytes()
}
