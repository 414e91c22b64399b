package rabbitmq

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"

	"github.com/warren-tool/warren/definitions"
)

// The broker's listings of the large kinds (users, permissions, policies,
// queues, exchanges, bindings) are decoded straight into the model: no
// tree of maps, no second encoding, no schema pass over 40,000 objects.
// The fast path takes only answers it understands completely: every field
// one it knows, of the type it expects, and every field that names the
// object present. Anything else (a field a newer broker adds, a value of
// another type, a missing name) makes it give up, and the answer goes the
// way of every other: into a definitions document, through the schema and
// the converter, whose diagnostics answerErrors turns into errors. So the
// fast path gives the Document the slow one would (TestLiveDecodeAgrees),
// and refuses nothing the slow path takes.

// slowDecodes counts answers the fast path gave up on (tests read it: on
// RabbitMQ 3.10 and 4.0 none should).
var slowDecodes atomic.Int64

// errNotFast says that the fast path does not take an answer.
var errNotFast = errors.New("rabbitmq: the answer is not one the fast decoder takes")

// fastKinds are the kinds the fast path decodes.
var fastKinds = map[definitions.Kind]bool{
	definitions.KindUser: true, definitions.KindPermission: true, definitions.KindPolicy: true,
	definitions.KindQueue: true, definitions.KindExchange: true, definitions.KindBinding: true,
}

// streamList decodes a JSON array of objects of type T from r one
// element at a time, as the answer arrives, and hands each to add: neither
// the whole answer nor a slice of every element is held. An unknown field
// is errNotFast; so are null, anything but an array, and anything after it
// (the slow path decides what those are).
func streamList[T any](r io.Reader, add func(*T) error) error {
	// Numbers decode as float64 and become json.Number as encoding/json
	// writes them (numbers): the slow path decodes so, encodes again and
	// parses, and both paths must agree to the digit.
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return notFast(err)
	}
	var v T // one for every element: add keeps what it needs of it
	for dec.More() {
		var zero T
		v = zero
		if err := dec.Decode(&v); err != nil {
			return notFast(err)
		}
		if err := add(&v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return notFast(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return notFast(err) // more than one value
	}
	return nil
}

// notFast is errNotFast, wrapping what made the fast path give up.
func notFast(err error) error {
	if err == nil || err == io.EOF {
		return errNotFast
	}
	return fmt.Errorf("%w: %w", errNotFast, err)
}

type liveUser struct {
	Name             *string `json:"name"`
	PasswordHash     *string `json:"password_hash"`
	HashingAlgorithm *string `json:"hashing_algorithm"`
	Tags             any     `json:"tags"`
	Limits           any     `json:"limits"`
}

type livePermission struct {
	User      *string `json:"user"`
	Vhost     *string `json:"vhost"`
	Configure *string `json:"configure"`
	Write     *string `json:"write"`
	Read      *string `json:"read"`
}

type livePolicy struct {
	Vhost      *string         `json:"vhost"`
	Name       *string         `json:"name"`
	Pattern    *string         `json:"pattern"`
	ApplyTo    *string         `json:"apply-to"`
	Priority   any             `json:"priority"`
	Definition *map[string]any `json:"definition"`
}

type liveQueue struct {
	Name       *string         `json:"name"`
	Vhost      *string         `json:"vhost"`
	Type       *string         `json:"type"`
	Durable    *bool           `json:"durable"`
	AutoDelete *bool           `json:"auto_delete"`
	Exclusive  *bool           `json:"exclusive"`
	Arguments  *map[string]any `json:"arguments"`
}

type liveExchange struct {
	Name       *string         `json:"name"`
	Vhost      *string         `json:"vhost"`
	Type       *string         `json:"type"`
	Durable    *bool           `json:"durable"`
	AutoDelete *bool           `json:"auto_delete"`
	Internal   *bool           `json:"internal"`
	Arguments  *map[string]any `json:"arguments"`
}

type liveBinding struct {
	Source          *string         `json:"source"`
	Vhost           *string         `json:"vhost"`
	Destination     *string         `json:"destination"`
	DestinationType *string         `json:"destination_type"`
	RoutingKey      *string         `json:"routing_key"`
	Arguments       *map[string]any `json:"arguments"`
}

// decodeFast decodes one kind's listing from r into doc as it arrives,
// keeping what ReadKinds keeps (no exclusive queue, built-in exchange or
// implicit binding). It returns an error wrapping errNotFast when the slow
// path must decide; doc is then left as it was.
func decodeFast(doc *definitions.Document, k definitions.Kind, r io.Reader) error {
	switch k {
	case definitions.KindUser:
		out := []*definitions.User{}
		sh := newSharer()
		err := streamList(r, func(u *liveUser) error {
			if u.Name == nil {
				return errNotFast
			}
			tags, ok := liveTags(u.Tags, sh)
			if !ok {
				return errNotFast
			}
			limits, ok := liveLimits(u.Limits)
			if !ok {
				return errNotFast
			}
			if limits != nil && len(limits) == 0 {
				limits = sh.noLimits
			}
			out = append(out, &definitions.User{Name: *u.Name, PasswordHash: u.PasswordHash,
				HashingAlgorithm: sh.str(u.HashingAlgorithm), Tags: tags, Limits: limits})
			return nil
		})
		if err != nil {
			return err
		}
		doc.Users = out
	case definitions.KindPermission:
		out := []*definitions.Permission{}
		sh := newSharer()
		err := streamList(r, func(p *livePermission) error {
			if p.User == nil || p.Vhost == nil || p.Configure == nil || p.Write == nil || p.Read == nil {
				return errNotFast
			}
			out = append(out, &definitions.Permission{User: *p.User, Vhost: sh.str(p.Vhost),
				Configure: sh.str(p.Configure), Write: sh.str(p.Write), Read: sh.str(p.Read)})
			return nil
		})
		if err != nil {
			return err
		}
		doc.Permissions = out
	case definitions.KindPolicy:
		out := []*definitions.Policy{}
		err := streamList(r, func(p *livePolicy) error {
			if p.Name == nil || p.Pattern == nil || p.Definition == nil || *p.Definition == nil {
				return errNotFast
			}
			pol := &definitions.Policy{Vhost: deref(p.Vhost), Name: *p.Name, Pattern: *p.Pattern, ApplyTo: deref(p.ApplyTo), Definition: derefMap(p.Definition)}
			if p.Priority != nil {
				n, ok := wholeNumber(numbers(p.Priority))
				if !ok {
					return errNotFast
				}
				pol.Priority = &n
			}
			out = append(out, pol)
			return nil
		})
		if err != nil {
			return err
		}
		doc.Policies = out
	case definitions.KindQueue:
		out := []*definitions.Queue{}
		sh := newSharer()
		err := streamList(r, func(q *liveQueue) error {
			if q.Name == nil {
				return errNotFast
			}
			if q.Exclusive != nil && *q.Exclusive {
				return nil
			}
			out = append(out, &definitions.Queue{Vhost: sh.str(q.Vhost), Name: *q.Name, Type: sh.str(q.Type),
				Durable: q.Durable, AutoDelete: q.AutoDelete, Arguments: sh.args(q.Arguments)})
			return nil
		})
		if err != nil {
			return err
		}
		doc.Queues = out
	case definitions.KindExchange:
		out := []*definitions.Exchange{}
		sh := newSharer()
		err := streamList(r, func(x *liveExchange) error {
			if x.Name == nil {
				return errNotFast
			}
			if *x.Name == "" || strings.HasPrefix(*x.Name, "amq.") {
				return nil
			}
			if x.Type == nil {
				return errNotFast
			}
			out = append(out, &definitions.Exchange{Vhost: sh.str(x.Vhost), Name: *x.Name, Type: sh.str(x.Type),
				Durable: x.Durable, AutoDelete: x.AutoDelete, Internal: x.Internal, Arguments: sh.args(x.Arguments)})
			return nil
		})
		if err != nil {
			return err
		}
		doc.Exchanges = out
	case definitions.KindBinding:
		out := []*definitions.Binding{}
		sh := newSharer()
		err := streamList(r, func(b *liveBinding) error {
			if b.Source == nil {
				return errNotFast
			}
			if *b.Source == "" {
				return nil
			}
			if b.Destination == nil || b.DestinationType == nil {
				return errNotFast
			}
			out = append(out, &definitions.Binding{Vhost: sh.str(b.Vhost), Source: sh.str(b.Source), Destination: *b.Destination,
				DestinationType: sh.str(b.DestinationType), RoutingKey: deref(b.RoutingKey), Arguments: sh.args(b.Arguments)})
			return nil
		})
		if err != nil {
			return err
		}
		doc.Bindings = out
	default:
		return errNotFast
	}
	return nil
}

// A sharer makes equal values of one listing share memory, which the live
// definitions hold all through a diff: the vhost of 10,000 queues is one
// string, their equal arguments ({"x-queue-type":"classic"} on RabbitMQ
// 4.0) one Table, every user's empty limits one map. So the objects
// ReadKinds returns must be taken as read-only: a map is copied before it
// is changed (Normalize and the planner do), and a Table is never changed.
type sharer struct {
	strings  map[string]string
	tables   map[string]definitions.Table
	noLimits map[string]int64
}

func newSharer() *sharer {
	return &sharer{strings: map[string]string{}, tables: map[string]definitions.Table{}, noLimits: map[string]int64{}}
}

// str is *p ("" for nil), the first equal string the listing had.
func (sh *sharer) str(p *string) string {
	if p == nil {
		return ""
	}
	if s, ok := sh.strings[*p]; ok {
		return s
	}
	sh.strings[*p] = *p
	return *p
}

// args is derefMap(m) as a Table, the first equal one the listing had:
// equal Tables encode alike (sorted keys, numbers as written, and written
// one way by number). An empty Table shares nothing to begin with.
func (sh *sharer) args(m *map[string]any) definitions.Table {
	t := definitions.TableOf(derefMap(m))
	if len(t) == 0 {
		return t
	}
	key, err := t.MarshalJSON()
	if err != nil {
		return t
	}
	if shared, ok := sh.tables[string(key)]; ok {
		return shared
	}
	sh.tables[string(key)] = t
	return t
}

// numbers turns the float64s of a decoded value into json.Number, as the
// model holds them, in place.
func numbers(v any) any {
	switch v := v.(type) {
	case float64:
		return number(v)
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// number writes a float64 as encoding/json does.
func number(f float64) any {
	b, err := json.Marshal(f)
	if err != nil {
		return f // NaN or an infinity, which JSON cannot hold
	}
	return json.Number(b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefMap(m *map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	numbers(*m)
	return *m
}

// liveTags reads a user's tags as the converter does: a list of strings
// or RabbitMQ's comma-separated string; absent or null is nil.
func liveTags(v any, sh *sharer) ([]string, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case string:
		return definitions.SplitTags(v), true
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, sh.str(&s))
		}
		return out, true
	}
	return nil, false
}

// liveLimits reads a user's limits: an object of integers (RabbitMQ 3.10
// and 4.0 write {} for none, or [] once all were cleared); absent or null
// is nil.
func liveLimits(v any) (map[string]int64, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case []any:
		if len(v) > 0 {
			return nil, false
		}
		return nil, true // not an object: the converter keeps no limits
	case map[string]any:
		out := make(map[string]int64, len(v))
		for k, e := range v {
			n, ok := numbers(e).(json.Number)
			if !ok {
				return nil, false
			}
			i, err := n.Int64()
			if err != nil {
				return nil, false
			}
			out[k] = i
		}
		return out, true
	}
	return nil, false
}

// wholeNumber reads a whole number, 1 and 1.0 alike, as the converter
// reads a policy's priority.
func wholeNumber(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}
