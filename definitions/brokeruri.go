package definitions

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// uriIntParams are the query parameters of an AMQP URI that RabbitMQ
// reads as integers ("amqp://host?heartbeat=abc": invalid_amqp_params).
var uriIntParams = []string{"heartbeat", "connection_timeout", "channel_max", "frame_max"}

// CheckBrokerURI says why RabbitMQ would refuse s as a federation
// upstream's or shovel's URI, nil when it would take it. Seen on 4.3.6,
// 4.0.5 and 3.10.8: a scheme other than amqp or amqps
// (unexpected_uri_scheme), none, or no "//" after it; amqps with no host
// (badrecord); a port without a host (port_requires_host); a port,
// everything after the host's first ":", that is not a number from 1 to
// 65535 (port_out_of_range, unable_to_parse_uri, also for "host:" and
// "host:5672:5673"); an IPv6 host followed by other than ":port"; a vhost
// of more than one path segment (invalid_vhost: "/" in a vhost is %2F) or
// with a bad percent-escape; a heartbeat, connection_timeout, channel_max
// or frame_max whose first value is not an integer as Erlang writes one
// (invalid_amqp_params; "%35" is not decoded, "+3" and 20 digits are
// integers). Taken as they are: no host ("amqp://", the local node),
// spaces, a fragment, unknown query parameters and bad percent-escapes in
// them, a "[" never closed. The error never holds the URI or its userinfo.
func CheckBrokerURI(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if strings.Contains(s, ":") {
			return fmt.Errorf("it has no \"//\" after its scheme (amqp://host/vhost)")
		}
		return fmt.Errorf("it has no scheme: write amqp://host/vhost or amqps://host/vhost")
	}
	if sc := strings.ToLower(scheme); sc != "amqp" && sc != "amqps" {
		if strings.ContainsAny(scheme, "@:/ ") {
			return fmt.Errorf("it has no scheme: write amqp://host/vhost or amqps://host/vhost")
		}
		return fmt.Errorf("its scheme is %q: RabbitMQ takes amqp and amqps", scheme)
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	// The userinfo ends at the last "@" (a password may hold anything),
	// as maskURI takes it.
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	hostport, path, _ := strings.Cut(rest, "/")
	if strings.Contains(path, "/") {
		return fmt.Errorf("its vhost has more than one path segment; write a \"/\" inside a vhost name as %%2F")
	}
	if _, err := url.PathUnescape(path); err != nil {
		return fmt.Errorf("its vhost has a bad percent-escape")
	}
	if hostport == "" && strings.EqualFold(scheme, "amqps") {
		// amqps with no host would be the local node's direct
		// connection, which has no TLS (badrecord).
		return fmt.Errorf("amqps needs a host: write amqps://host/vhost, or amqp:// for the local node")
	}
	// The port follows the first ":" of the host (uri_parser reads
	// "host:5672:5673" as port "5672:5673"); an IPv6 host in brackets
	// may be followed only by ":port". A "[" never closed is taken as a
	// host, as RabbitMQ takes it.
	host, port, hasPort := hostport, "", false
	if end := strings.IndexByte(hostport, ']'); strings.HasPrefix(hostport, "[") && end >= 0 {
		after := hostport[end+1:]
		if after != "" && after[0] != ':' {
			return fmt.Errorf("its IPv6 host is followed by something other than \":port\"")
		}
		host = hostport[1:end]
		port, hasPort = strings.CutPrefix(after, ":")
	} else if !strings.HasPrefix(hostport, "[") {
		host, port, hasPort = strings.Cut(hostport, ":")
	}
	if hasPort && host == "" {
		return fmt.Errorf("it has a port but no host (port_requires_host)")
	}
	if hasPort {
		n, ok := erlangInteger(port)
		if !ok || n < 1 || n > 65535 {
			// The port is not shown: in "amqp://user:password" (the host
			// left out) it is the password.
			return fmt.Errorf("its port is not a number from 1 to 65535")
		}
	}
	// The query is read as amqp_uri reads it: pairs split at "&" and "=",
	// nothing percent-decoded, the first of a repeated key taken, an
	// integer parameter's value read by list_to_integer (a sign, digits,
	// any size).
	seen := map[string]bool{}
	for _, pair := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || seen[k] || !slices.Contains(uriIntParams, k) {
			continue
		}
		seen[k] = true
		if _, ok := erlangInteger(v); !ok {
			return fmt.Errorf("its query parameter %s is not a whole number", k)
		}
	}
	return nil
}

// Source names where a secret is read from, without its value:
// {env: NAME}, {file: PATH}, or "the file" for a literal.
func (s *Secret) Source() string {
	switch {
	case s.Env != "":
		return "{env: " + s.Env + "}"
	case s.File != "":
		return "{file: " + s.File + "}"
	}
	return "the files"
}

// erlangInteger reads s as Erlang's list_to_integer does: an optional sign
// and one or more decimal digits, of any size (a value beyond an int is
// returned as math.MaxInt or math.MinInt).
func erlangInteger(s string) (int, bool) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		if strings.HasPrefix(s, "-") {
			return math.MinInt, true
		}
		return math.MaxInt, true
	}
	return n, true
}
