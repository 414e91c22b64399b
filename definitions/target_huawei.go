package definitions

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/warren-tool/warren/schema"
)

// Huawei Cloud DMS for RabbitMQ: what its API can express
// (docs/cloud-apis.md §6), per edition.

// The DMS editions, as --edition names them.
const (
	// HuaweiAMQP is the RabbitMQ AMQP-0-9-1 edition (the default): users
	// through DMS; every exchange and queue durable; no internal
	// exchanges, no exchange-to-exchange bindings, no lazy mode, no
	// policies.
	HuaweiAMQP = "amqp-0-9-1"
	// Huawei3x is the RabbitMQ 3.x edition (3.8.35, 3.12.13): users,
	// permissions and policies through the instance's own management API.
	Huawei3x = "3.x"
)

// HuaweiEditions lists the editions, for flags and help.
var HuaweiEditions = []string{HuaweiAMQP, Huawei3x}

var huawei3xKinds = []Kind{KindVhost, KindExchange, KindQueue, KindBinding}

var (
	huaweiExchangeName = regexp.MustCompile(`^[A-Za-z0-9.%|_/-]{3,128}$`)
	huaweiQueueChars   = regexp.MustCompile(`^[A-Za-z0-9.%|_/-]+$`)
)

// huaweiQueueArgs are the queue arguments CreateQueue has fields for.
var huaweiQueueArgs = []string{"x-dead-letter-exchange", "x-dead-letter-routing-key", "x-message-ttl", "x-queue-mode"}

// huaweiKindMessage says why an edition cannot hold a kind.
func huaweiKindMessage(k Kind, edition string) string {
	if edition == Huawei3x {
		switch k {
		case KindUser, KindPermission, KindTopicPermission, KindPolicy, KindParameter, KindGlobalParameter:
			return fmt.Sprintf("the DMS API of the 3.x edition has no %s: manage them through the instance's management API (--target rabbitmq), or leave it out of these files", k)
		}
		return fmt.Sprintf("Huawei Cloud DMS (3.x edition) cannot hold %s (only %s)", k, kindList(huawei3xKinds))
	}
	return fmt.Sprintf("the AMQP-0-9-1 edition of Huawei Cloud DMS has no %s (only %s)", k, kindList(targetKinds[TargetHuaweiCloudRabbitMQ]))
}

// huaweiTopology checks exchanges, queues and bindings against what DMS
// can create.
func (c *checker) huaweiTopology() {
	amqp := c.opts.Edition != Huawei3x
	// DMS vhosts are names: limits would be parameters DMS has no API
	// for, and a default queue type would make the vhost's queues other
	// than classic.
	for _, v := range c.doc.Vhosts {
		if lim, _ := vhostLimits(v); lim != nil {
			c.errorf(v, "limits", schema.ETargetKind, "vhost %q: Huawei Cloud DMS has no vhost limits", v.Name)
		}
		if t := c.vhostTypes[v.Name]; t != "" && t != "classic" {
			c.errorf(v, "default_queue_type", schema.ETargetQueue, "vhost %q: DMS creates classic queues only, not %s queues", v.Name, t)
		}
	}
	for _, x := range c.doc.Exchanges {
		switch {
		case x.Name == "" || strings.HasPrefix(x.Name, "amq."):
			c.errorf(x, "name", schema.ETargetExchange, "exchange %q is the broker's own: DMS creates and deletes no built-in exchange", x.Name)
		case !huaweiExchangeName.MatchString(x.Name):
			c.errorf(x, "name", schema.ETargetName, "exchange name %q: DMS exchange names are 3-128 characters of letters, digits and . %% | - _ /", x.Name)
		}
		if !slices.Contains([]string{"direct", "fanout", "topic", "headers"}, x.Type) {
			c.errorf(x, "type", schema.ETargetExchange, "exchange %q: DMS creates direct, fanout, topic and headers exchanges, not %q", x.Name, x.Type)
		}
		if amqp && x.Internal != nil && *x.Internal {
			c.errorf(x, "internal", schema.ETargetExchange, "exchange %q: the AMQP-0-9-1 edition has no internal exchanges", x.Name)
		}
		if amqp && x.Durable != nil && !*x.Durable {
			c.errorf(x, "durable", schema.ETargetExchange, "exchange %q: on the AMQP-0-9-1 edition every exchange is durable", x.Name)
		}
	}
	for _, q := range c.doc.Queues {
		if msg := huaweiQueueNameProblem(q.Name, amqp); msg != "" {
			c.errorf(q, "name", schema.ETargetName, "queue name %q: %s", q.Name, msg)
		}
		if q.Type != "" && q.Type != "classic" {
			c.errorf(q, "type", schema.ETargetQueue, "queue %q: DMS creates classic queues only, not %s queues", q.Name, q.Type)
		}
		if amqp && q.Durable != nil && !*q.Durable {
			c.errorf(q, "durable", schema.ETargetQueue, "queue %q: on the AMQP-0-9-1 edition every queue is durable", q.Name)
		}
		for name, v := range q.Arguments.All() {
			field := "arguments/" + schema.EscapePointerToken(name)
			switch {
			case name == "x-queue-type":
				if v != "classic" {
					c.errorf(q, field, schema.ETargetQueue, "queue %q: DMS creates classic queues only, not %v queues", q.Name, v)
				}
			case !slices.Contains(huaweiQueueArgs, name):
				c.errorf(q, field, schema.ETargetQueue, "queue %q: DMS cannot set %s (only dead-lettering, x-message-ttl and, on the 3.x edition, x-queue-mode: lazy)", q.Name, name)
			case name == "x-queue-mode" && amqp:
				c.errorf(q, field, schema.ETargetQueue, "queue %q: the AMQP-0-9-1 edition has no lazy mode (messages are on disk already)", q.Name)
			case name == "x-queue-mode" && v != "lazy":
				c.errorf(q, field, schema.ETargetQueue, "queue %q: DMS sets x-queue-mode lazy only, not %v", q.Name, v)
			}
		}
	}
	for _, b := range c.doc.Bindings {
		if len(b.Arguments) > 0 {
			c.errorf(b, "arguments", schema.ETargetBinding, "DMS bindings have no arguments")
		}
		if b.Source == "" {
			c.errorf(b, "source", schema.ETargetBinding, "DMS cannot bind the default exchange: every queue is bound to it already")
		}
		if amqp && b.DestinationType == "exchange" {
			c.errorf(b, "destination_type", schema.ETargetBinding, "the AMQP-0-9-1 edition binds exchanges to queues only, not to exchange %q", b.Destination)
		}
		if utf8.RuneCountInString(b.RoutingKey) > 128 || strings.ContainsAny(b.RoutingKey, "+~") ||
			strings.ContainsFunc(b.RoutingKey, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			c.errorf(b, "routing_key", schema.ETargetBinding, "routing key %q: DMS routing keys are at most 128 characters, without + ~ or Chinese characters", b.RoutingKey)
		}
	}
}

// huaweiQueueNameProblem applies DMS's queue name rule: letters, digits
// and . % | - _ /; 2-128 characters on 3.x, 2-64 on AMQP-0-9-1 where
// each . % | and / counts as 3.
func huaweiQueueNameProblem(name string, amqp bool) string {
	if !huaweiQueueChars.MatchString(name) {
		return "DMS queue names hold only letters, digits and . % | - _ /"
	}
	n := len(name)
	if amqp {
		n += 2 * (strings.Count(name, ".") + strings.Count(name, "%") + strings.Count(name, "|") + strings.Count(name, "/"))
		if n < 2 || n > 64 {
			return fmt.Sprintf("the AMQP-0-9-1 edition takes 2-64 characters, each . %% | and / counting as 3 (this one counts %d)", n)
		}
		return ""
	}
	if n < 2 || n > 128 {
		return "the 3.x edition takes 2-128 characters"
	}
	return ""
}
