package definitions

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// uriComponents are the parameter components whose URIKeys RabbitMQ parses
// as AMQP URIs (amqp_uri:parse) when it takes the parameter.
var uriComponents = map[string]bool{"federation-upstream": true, "shovel": true}

// uriIntParams are the query parameters of an AMQP URI that RabbitMQ
// reads as integers ("amqp://host?heartbeat=abc": invalid_amqp_params).
var uriIntParams = []string{"heartbeat", "connection_timeout", "channel_max", "frame_max"}

// CheckBrokerURI says why RabbitMQ would refuse s as a federation
// upstream's or shovel's URI, nil when it would take it. Seen on 4.3.6:
// a scheme other than amqp or amqps (unexpected_uri_scheme), none, or no
// "//" after it; a port that is not a number from 1 to 65535
// (port_out_of_range, unable_to_parse_uri, also for "host:"); a vhost of
// more than one path segment (invalid_vhost: "/" in a vhost is %2F) or
// with a bad percent-escape; a heartbeat, connection_timeout, channel_max
// or frame_max that is not a number (invalid_amqp_params). Taken as they
// are: no host ("amqp://", the local node), spaces, a fragment, unknown
// query parameters. The error never holds the URI or its userinfo.
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
	host := hostport
	if strings.HasPrefix(hostport, "[") {
		end := strings.IndexByte(hostport, ']')
		if end < 0 {
			return fmt.Errorf("its IPv6 host has no closing \"]\"")
		}
		host = hostport[end+1:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		port := host[i+1:]
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			// The port is not shown: in "amqp://user:password" (the host
			// left out) it is the password.
			return fmt.Errorf("its port is not a number from 1 to 65535")
		}
	}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return fmt.Errorf("its query has a bad percent-escape")
		}
		for _, k := range uriIntParams {
			for _, v := range q[k] {
				if _, err := strconv.Atoi(v); err != nil {
					return fmt.Errorf("its query parameter %s is not a whole number", k)
				}
			}
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
