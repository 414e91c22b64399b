package huaweifake

// Exchanges, queues and bindings, as docs/cloud-apis.md §6 describes them.
// Where the contract says a point is unverified, the fake takes the
// stricter guess, so that warren cannot come to rely on leniency DMS may
// not have; each such guess says so where it is made.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Exchange is an exchange on the instance.
type Exchange struct {
	Name, Type                    string
	Durable, AutoDelete, Internal bool
	Arguments                     map[string]any
	Default                       bool // a built-in exchange
}

// Queue is a queue on the instance.
type Queue struct {
	Name                string
	Durable, AutoDelete bool
	DeadLetterExchange  string
	DeadLetterKey       string
	MessageTTL          *int64
	Lazy                bool
	Messages            int
}

// Binding is a binding on the instance.
type Binding struct {
	Source, DestinationType, Destination, RoutingKey, PropertiesKey string
}

type vhostTopology struct {
	exchanges []*Exchange
	queues    []*Queue
	bindings  []*Binding
}

func (s *Server) addVhost(name string) {
	s.vhosts = append(s.vhosts, name)
	t := &vhostTopology{}
	if s.edition == Edition3x {
		// Every vhost of a 3.x instance has RabbitMQ's built-in exchanges
		// (§6.5). The default exchange's name in a list, and which report
		// "default": true, are unverified: "" and the default exchange only.
		t.exchanges = append(t.exchanges, &Exchange{Name: "", Type: "direct", Durable: true, Default: true})
		for _, x := range []struct{ name, typ string }{{"amq.direct", "direct"}, {"amq.fanout", "fanout"}, {"amq.headers", "headers"},
			{"amq.match", "headers"}, {"amq.rabbitmq.trace", "topic"}, {"amq.topic", "topic"}} {
			t.exchanges = append(t.exchanges, &Exchange{Name: x.name, Type: x.typ, Durable: true, Internal: x.name == "amq.rabbitmq.trace"})
		}
	}
	s.topology[name] = t
}

// Exchanges, Queues and Bindings show a vhost's, for tests.
func (s *Server) Exchanges(vhost string) []Exchange {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Exchange
	if t := s.topology[vhost]; t != nil {
		for _, x := range t.exchanges {
			out = append(out, *x)
		}
	}
	return out
}

func (s *Server) Queues(vhost string) []Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Queue
	if t := s.topology[vhost]; t != nil {
		for _, q := range t.queues {
			out = append(out, *q)
		}
	}
	return out
}

func (s *Server) Bindings(vhost string) []Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Binding
	if t := s.topology[vhost]; t != nil {
		for _, b := range t.bindings {
			out = append(out, *b)
		}
	}
	return out
}

// SetMessages puts n messages in a queue (a publisher's doing), for tests.
func (s *Server) SetMessages(vhost, queue string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.topology[vhost]; t != nil {
		for _, q := range t.queues {
			if q.Name == queue {
				q.Messages = n
			}
		}
	}
}

// topologyRoute is a request under
// /v2/rabbitmq/{project_id}/instances/{instance_id}/vhosts/{vhost}/…,
// its path segments unescaped one by one (names may hold "/", which
// warren percent-encodes; §6.2 leaves the encoding unverified).
type topologyRoute struct {
	op, project, instance, vhost string
	// rest are the segments after the vhost.
	rest   []string
	method string
	query  url.Values
}

// parseTopologyRoute recognises the §6.2 operations.
func parseTopologyRoute(r *http.Request) (*topologyRoute, bool) {
	raw := strings.Split(r.URL.EscapedPath(), "/")
	if len(raw) < 9 || raw[0] != "" || raw[1] != "v2" || raw[2] != "rabbitmq" || raw[4] != "instances" || raw[6] != "vhosts" {
		return nil, false
	}
	segs := make([]string, len(raw))
	for i, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		segs[i] = u
	}
	t := &topologyRoute{project: segs[3], instance: segs[5], method: r.Method, query: r.URL.Query()}
	// The vhost path parameter writes "/" as __F_SLASH__ (§3.3): a raw
	// "/" there is a call that fails.
	if strings.Contains(raw[7], "%2F") || strings.Contains(raw[7], "%2f") {
		return nil, false
	}
	t.vhost = strings.ReplaceAll(segs[7], "__F_SLASH__", "/")
	t.rest = segs[8:]
	m := r.Method
	switch rest := t.rest; {
	case len(rest) == 1 && rest[0] == "exchanges":
		t.op = map[string]string{"GET": "ListExchanges", "PUT": "CreateExchange", "POST": "BatchDeleteExchanges"}[m]
	case len(rest) == 1 && rest[0] == "queues":
		t.op = map[string]string{"GET": "ListQueues", "PUT": "CreateQueue", "POST": "BatchDeleteQueues"}[m]
	case len(rest) == 2 && rest[0] == "queues" && m == "GET":
		t.op = "ShowQueueDetails"
	case len(rest) == 3 && rest[0] == "queues" && rest[2] == "contents" && m == "DELETE":
		t.op = "DeleteQueueInfo"
	case len(rest) == 3 && rest[0] == "exchanges" && rest[2] == "binding":
		t.op = map[string]string{"GET": "ListBindings", "POST": "CreateBinding"}[m]
	case len(rest) == 9 && rest[0] == "exchanges" && rest[2] == "destination-type" && rest[4] == "destination" &&
		rest[6] == "properties-key" && rest[8] == "unbinding" && m == "DELETE":
		t.op = "DeleteBinding"
	}
	return t, t.op != ""
}

var (
	// Exchange names (§6.4, the console guide's current rule).
	exchangeName = regexp.MustCompile(`^[A-Za-z0-9.%|_/-]{3,128}$`)
	queueChars   = regexp.MustCompile(`^[A-Za-z0-9.%|_/-]+$`)
)

// queueNameOK applies §6.4: 2-128 characters on 3.x; 2-64 on AMQP-0-9-1,
// where each . % | and / counts as 3.
func (s *Server) queueNameOK(name string) bool {
	if !queueChars.MatchString(name) {
		return false
	}
	n := len(name)
	if s.edition == EditionAMQP {
		n += 2*strings.Count(name, ".") + 2*strings.Count(name, "%") + 2*strings.Count(name, "|") + 2*strings.Count(name, "/")
		return n >= 2 && n <= 64
	}
	return n >= 2 && n <= 128
}

// strictBody decodes a body and refuses keys the operation does not take:
// the API has no generic queue arguments, no exclusive and no queue type
// (§6.3), and whether DMS ignores or refuses unknown keys is unverified.
func strictBody(body []byte, out any) error {
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.DisallowUnknownFields()
	return d.Decode(out)
}

func (s *Server) unknown(w http.ResponseWriter, what string) {
	code := "DMS.00404700"
	if s.UnknownStatus == http.StatusBadRequest {
		code = "DMS.00400700"
	}
	s.fail(w, s.UnknownStatus, code, what+" does not exist.")
}

func (s *Server) invalid(w http.ResponseWriter, msg string) {
	s.fail(w, http.StatusBadRequest, "DMS.00400701", msg)
}

func (s *Server) serveTopology(w http.ResponseWriter, tr *topologyRoute, body []byte) {
	t := s.topology[tr.vhost]
	if t == nil {
		s.unknown(w, fmt.Sprintf("The vhost %s", tr.vhost))
		return
	}
	findX := func(name string) *Exchange {
		for _, x := range t.exchanges {
			if x.Name == name {
				return x
			}
		}
		return nil
	}
	findQ := func(name string) *Queue {
		for _, q := range t.queues {
			if q.Name == name {
				return q
			}
		}
		return nil
	}
	switch tr.op {
	case "ListExchanges", "ListQueues":
		offset, limit, ok := paging(tr.query)
		if !ok {
			s.fail(w, http.StatusBadRequest, "DMS.00400085", "limit must be 0-50")
			return
		}
		var items []map[string]any
		if tr.op == "ListExchanges" {
			for _, x := range t.exchanges {
				items = append(items, exchangeJSON(tr.vhost, x))
			}
		} else {
			for _, q := range t.queues {
				items = append(items, s.queueJSON(tr.vhost, q))
			}
		}
		end := min(offset+limit, len(items))
		page := append([]map[string]any{}, items[min(offset, end):end]...)
		json.NewEncoder(w).Encode(map[string]any{"size": len(page), "total": len(items), "items": page})
	case "CreateExchange":
		var in struct {
			Name       *string        `json:"name"`
			Type       *string        `json:"type"`
			AutoDelete *bool          `json:"auto_delete"`
			Durable    *bool          `json:"durable"`
			Internal   *bool          `json:"internal"`
			Arguments  map[string]any `json:"arguments"`
		}
		if err := strictBody(body, &in); err != nil || in.Name == nil || in.Type == nil || in.AutoDelete == nil {
			s.invalid(w, "Invalid request body: name, type and auto_delete are required.")
			return
		}
		if !exchangeName.MatchString(*in.Name) {
			s.invalid(w, "The exchange name must be 3-128 characters of letters, digits, . % | - _ and /.")
			return
		}
		// x-delayed-message exists in one region only (§6.3): refused here.
		if !slices.Contains([]string{"direct", "fanout", "topic", "headers"}, *in.Type) {
			s.invalid(w, fmt.Sprintf("The exchange type %s is not supported.", *in.Type))
			return
		}
		x := &Exchange{Name: *in.Name, Type: *in.Type, AutoDelete: *in.AutoDelete, Durable: true, Arguments: in.Arguments}
		if in.Internal != nil {
			x.Internal = *in.Internal
		}
		if s.edition == EditionAMQP {
			// durable is ignored (everything is durable); internal
			// exchanges are unsupported (§6.4).
			if x.Internal {
				s.invalid(w, "Internal exchanges are not supported by RabbitMQ AMQP-0-9-1 instances.")
				return
			}
		} else if in.Durable != nil {
			x.Durable = *in.Durable
		}
		// A duplicate is refused even when identical: whether DMS answers
		// 200 to an identical re-create is unverified (§6.6).
		if findX(x.Name) != nil {
			s.invalid(w, fmt.Sprintf("The exchange %s already exists.", x.Name))
			return
		}
		t.exchanges = append(t.exchanges, x)
		json.NewEncoder(w).Encode(exchangeJSON(tr.vhost, x))
	case "BatchDeleteExchanges", "BatchDeleteQueues":
		var in struct {
			Name []string `json:"name"`
		}
		if err := strictBody(body, &in); err != nil || len(in.Name) == 0 {
			s.invalid(w, "Invalid request body: name is a list of names.")
			return
		}
		// One unknown name fails the batch, and nothing is deleted (what
		// DMS does is unverified, §6.6).
		for _, n := range in.Name {
			if tr.op == "BatchDeleteExchanges" {
				x := findX(n)
				if x == nil {
					s.unknown(w, fmt.Sprintf("The exchange %s", n))
					return
				}
				if x.Default || strings.HasPrefix(n, "amq.") {
					s.invalid(w, fmt.Sprintf("The built-in exchange %s cannot be deleted.", n))
					return
				}
			} else if findQ(n) == nil {
				s.unknown(w, fmt.Sprintf("The queue %s", n))
				return
			}
		}
		kind := "exchange"
		if tr.op == "BatchDeleteExchanges" {
			t.exchanges = slices.DeleteFunc(t.exchanges, func(x *Exchange) bool { return slices.Contains(in.Name, x.Name) })
		} else {
			kind = "queue"
			t.queues = slices.DeleteFunc(t.queues, func(q *Queue) bool { return slices.Contains(in.Name, q.Name) })
		}
		// Their bindings go with them.
		t.bindings = slices.DeleteFunc(t.bindings, func(b *Binding) bool {
			return kind == "exchange" && slices.Contains(in.Name, b.Source) || b.DestinationType == kind && slices.Contains(in.Name, b.Destination)
		})
		w.WriteHeader(http.StatusNoContent)
	case "CreateQueue":
		var in struct {
			Name                 *string `json:"name"`
			AutoDelete           *bool   `json:"auto_delete"`
			Durable              *bool   `json:"durable"`
			DeadLetterExchange   *string `json:"dead_letter_exchange"`
			DeadLetterRoutingKey *string `json:"dead_letter_routing_key"`
			MessageTTL           *int64  `json:"message_ttl"`
			LazyMode             *string `json:"lazy_mode"`
		}
		if err := strictBody(body, &in); err != nil || in.Name == nil || in.AutoDelete == nil {
			s.invalid(w, "Invalid request body: name and auto_delete are required; no other queue arguments are accepted.")
			return
		}
		if !s.queueNameOK(*in.Name) {
			s.invalid(w, "The queue name breaks the naming rules.")
			return
		}
		if in.LazyMode != nil && *in.LazyMode != "lazy" {
			s.invalid(w, "lazy_mode must be lazy.")
			return
		}
		if in.MessageTTL != nil && *in.MessageTTL < 0 {
			s.invalid(w, "message_ttl must not be negative.")
			return
		}
		q := &Queue{Name: *in.Name, AutoDelete: *in.AutoDelete, Durable: true, MessageTTL: in.MessageTTL}
		if in.DeadLetterExchange != nil {
			q.DeadLetterExchange = *in.DeadLetterExchange
		}
		if in.DeadLetterRoutingKey != nil {
			q.DeadLetterKey = *in.DeadLetterRoutingKey
		}
		if s.edition == Edition3x {
			if in.Durable != nil {
				q.Durable = *in.Durable
			}
			q.Lazy = in.LazyMode != nil
		}
		// On AMQP-0-9-1, durable and lazy_mode do not apply (§6.4): accepted
		// and not kept.
		if findQ(q.Name) != nil {
			s.invalid(w, fmt.Sprintf("The queue %s already exists.", q.Name))
			return
		}
		t.queues = append(t.queues, q)
		echo := map[string]any{"name": q.Name, "auto_delete": q.AutoDelete, "durable": q.Durable}
		if q.DeadLetterExchange != "" {
			echo["dead_letter_exchange"] = q.DeadLetterExchange
		}
		if q.DeadLetterKey != "" {
			echo["dead_letter_routing_key"] = q.DeadLetterKey
		}
		if q.MessageTTL != nil {
			echo["message_ttl"] = *q.MessageTTL
		}
		if q.Lazy {
			echo["lazy_mode"] = "lazy"
		}
		json.NewEncoder(w).Encode(echo)
	case "ShowQueueDetails", "DeleteQueueInfo":
		q := findQ(tr.rest[1])
		if q == nil {
			s.unknown(w, fmt.Sprintf("The queue %s", tr.rest[1]))
			return
		}
		if tr.op == "DeleteQueueInfo" {
			q.Messages = 0
			w.WriteHeader(http.StatusNoContent)
			return
		}
		out := s.queueJSON(tr.vhost, q)
		out["consumer_details"] = []any{}
		bs := []map[string]any{}
		for _, b := range t.bindings {
			if b.DestinationType == "queue" && b.Destination == q.Name {
				bs = append(bs, bindingJSON(b))
			}
		}
		out["queue_bindings"] = bs
		json.NewEncoder(w).Encode(out)
	case "ListBindings":
		if findX(tr.rest[1]) == nil {
			s.unknown(w, fmt.Sprintf("The exchange %s", tr.rest[1]))
			return
		}
		items := []map[string]any{}
		for _, b := range t.bindings {
			if b.Source == tr.rest[1] {
				items = append(items, bindingJSON(b))
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"size": len(items), "total": len(items), "items": items})
	case "CreateBinding":
		var in struct {
			Destination     *string `json:"destination"`
			DestinationType *string `json:"destination_type"`
			RoutingKey      *string `json:"routing_key"`
		}
		// No binding arguments (§6.2): a body with any is refused.
		if err := strictBody(body, &in); err != nil || in.Destination == nil || in.DestinationType == nil || in.RoutingKey == nil {
			s.invalid(w, "Invalid request body: destination, destination_type and routing_key are required.")
			return
		}
		src := findX(tr.rest[1])
		if src == nil {
			s.unknown(w, fmt.Sprintf("The exchange %s", tr.rest[1]))
			return
		}
		if src.Default {
			s.invalid(w, "The default exchange cannot be bound.")
			return
		}
		dtype := strings.ToLower(*in.DestinationType)
		switch {
		case dtype != "queue" && dtype != "exchange":
			s.invalid(w, "destination_type must be Exchange or Queue.")
			return
		case dtype == "exchange" && s.edition == EditionAMQP:
			s.invalid(w, "Binding destinations can only be queues on RabbitMQ AMQP-0-9-1 instances.")
			return
		case dtype == "queue" && findQ(*in.Destination) == nil:
			s.unknown(w, fmt.Sprintf("The queue %s", *in.Destination))
			return
		case dtype == "exchange" && findX(*in.Destination) == nil:
			s.unknown(w, fmt.Sprintf("The exchange %s", *in.Destination))
			return
		}
		if msg := routingKeyProblem(*in.RoutingKey); msg != "" {
			s.invalid(w, msg)
			return
		}
		b := &Binding{Source: src.Name, DestinationType: dtype, Destination: *in.Destination, RoutingKey: *in.RoutingKey, PropertiesKey: propertiesKey(*in.RoutingKey)}
		if slices.ContainsFunc(t.bindings, func(o *Binding) bool { return *o == *b }) {
			s.invalid(w, "The binding already exists.")
			return
		}
		t.bindings = append(t.bindings, b)
		json.NewEncoder(w).Encode(map[string]any{"source": b.Source, "destination_type": b.DestinationType, "destination": b.Destination, "routing_key": b.RoutingKey})
	case "DeleteBinding":
		r := tr.rest
		i := slices.IndexFunc(t.bindings, func(b *Binding) bool {
			return b.Source == r[1] && b.DestinationType == strings.ToLower(r[3]) && b.Destination == r[5] && b.PropertiesKey == r[7]
		})
		if i < 0 {
			s.unknown(w, "The binding")
			return
		}
		t.bindings = slices.Delete(t.bindings, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	}
}

// paging reads offset (≥0, default 0) and limit (0-50, default 10).
func paging(q url.Values) (offset, limit int, ok bool) {
	limit = 10
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 50 {
			return 0, 0, false
		}
		limit = n
	}
	return offset, limit, true
}

// routingKeyProblem applies §6.4: at most 128 characters, no + or ~, no
// Chinese characters. "" is accepted (unverified: a fanout binding needs
// no key).
func routingKeyProblem(k string) string {
	if len([]rune(k)) > 128 || strings.ContainsAny(k, "+~") || strings.ContainsFunc(k, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		return "routing_key must be at most 128 characters, without + ~ or Chinese characters."
	}
	return ""
}

// propertiesKey is the binding's properties_key: the URL-encoded routing
// key (the docs' example), "~" for an empty one as RabbitMQ writes it (the
// rule is unverified, §6.4: warren must take the key from a list and never
// compute it).
func propertiesKey(rk string) string {
	if rk == "" {
		return "~"
	}
	return url.QueryEscape(rk)
}

func exchangeJSON(vhost string, x *Exchange) map[string]any {
	args := x.Arguments
	if args == nil {
		args = map[string]any{}
	}
	return map[string]any{"name": x.Name, "type": x.Type, "durable": x.Durable, "auto_delete": x.AutoDelete, "internal": x.Internal,
		"default": x.Default, "arguments": args, "vhost": vhost}
}

func (s *Server) queueJSON(vhost string, q *Queue) map[string]any {
	out := map[string]any{"vhost": vhost, "name": q.Name, "durable": q.Durable, "auto_delete": q.AutoDelete, "messages": q.Messages, "consumers": 0}
	if s.edition == Edition3x {
		out["policy"] = "" // not returned on AMQP-0-9-1 (§6.4)
	}
	args := map[string]any{}
	if q.MessageTTL != nil {
		args["x-message-ttl"] = *q.MessageTTL
	}
	if q.DeadLetterExchange != "" {
		args["x-dead-letter-exchange"] = q.DeadLetterExchange
	}
	if q.DeadLetterKey != "" {
		args["x-dead-letter-routing-key"] = q.DeadLetterKey
	}
	if q.Lazy {
		args["x-queue-mode"] = "lazy"
	}
	if len(args) > 0 { // omitted when none are set (§6.3)
		out["arguments"] = args
	}
	return out
}

func bindingJSON(b *Binding) map[string]any {
	return map[string]any{"source": b.Source, "destination_type": b.DestinationType, "destination": b.Destination,
		"routing_key": b.RoutingKey, "properties_key": b.PropertiesKey}
}

// RemoveQueue deletes a queue behind warren's back (another client's
// doing), for tests.
func (s *Server) RemoveQueue(vhost, queue string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.topology[vhost]; t != nil {
		t.queues = slices.DeleteFunc(t.queues, func(q *Queue) bool { return q.Name == queue })
	}
}
