package definitions

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/warren-tool/warren/schema"
)

// URIKeys are the keys of a parameter's value that hold broker URIs, with
// their credentials: a federation upstream's uri, a shovel's src-uri and
// dest-uri. Each may be a string or a list of strings; in files, each
// string may be a reference instead: {env: NAME} or {file: PATH},
// resolved only when a command needs the value (diff compares it, apply
// and boot send it).
var URIKeys = []string{"uri", "src-uri", "dest-uri"}

// uriSecret reads a {env: NAME} or {file: PATH} reference; ok is false for
// anything else.
func uriSecret(v any) (s *Secret, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return nil, false
	}
	if e, isStr := m["env"].(string); isStr {
		return &Secret{Env: e}, true
	}
	if f, isStr := m["file"].(string); isStr {
		return &Secret{File: f}, true
	}
	return nil, false
}

// HasSecretRefs reports whether a parameter value holds {env} or {file}
// references under URIKeys.
func HasSecretRefs(v any) bool {
	found := false
	eachURI(v, func(u any) any {
		if _, ok := uriSecret(u); ok {
			found = true
		}
		return u
	})
	return found
}

// eachURI returns a copy of a parameter value with f applied to every URI
// (string or reference) under URIKeys, lists included. Other values are
// shared, not copied.
func eachURI(v any, f func(any) any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
		if !isURIKey(k) {
			continue
		}
		if list, ok := x.([]any); ok {
			l := make([]any, len(list))
			for i, e := range list {
				l[i] = f(e)
			}
			out[k] = l
			continue
		}
		out[k] = f(x)
	}
	return out
}

func isURIKey(k string) bool {
	for _, u := range URIKeys {
		if k == u {
			return true
		}
	}
	return false
}

// ResolveValue returns a parameter value with its URI references resolved.
// A value without references comes back as it is.
func ResolveValue(v any, resolve func(*Secret) (string, error)) (any, error) {
	if !HasSecretRefs(v) {
		return v, nil
	}
	var first error
	out := eachURI(v, func(u any) any {
		s, ok := uriSecret(u)
		if !ok {
			return u
		}
		r, err := resolve(s)
		if err != nil && first == nil {
			first = err
		}
		return r
	})
	return out, first
}

// uriUserinfo finds a URI's userinfo: everything between "://" and the
// authority's LAST "@", whatever the characters: a broker takes a
// password with spaces, slashes or "@" in it (amqp://fed:Canary A2@host/prod
// on 4.3.6), so only the last "@" is sure to end it. After "user:" it
// spans "?" and "#" too: RabbitMQ takes amqp://fed:2024#word@host/v (as
// host fed, port 2024), and its password must not show. In free text this
// may take more than the userinfo, never less.
var uriUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^?#/:@]*:(?s:.*)|[^?#]*)@`)

// masked replaces a password in a URI.
const masked = "(sensitive)"

// MaskCredentials returns a value with the password of every URI in it
// replaced by "(sensitive)", at any depth: what a plan, an error or a log
// may show of a parameter's value.
func MaskCredentials(v any) any {
	switch v := v.(type) {
	case string:
		return maskURI(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = MaskCredentials(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = MaskCredentials(x)
		}
		return out
	}
	return v
}

func maskURI(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	return uriUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := uriUserinfo.FindStringSubmatch(m)
		user, _, hasPassword := strings.Cut(sub[2], ":")
		if !hasPassword {
			return m
		}
		return sub[1] + user + ":" + masked + "@"
	})
}

// MaskText masks a text that may repeat secrets (a broker's error): every
// value in secrets, longest first, and the password of every URI in it.
func MaskText(text string, secrets []string) string {
	vs := slices.Clone(secrets)
	slices.SortFunc(vs, func(a, b string) int { return len(b) - len(a) })
	for _, v := range vs {
		if v != "" && strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, masked)
		}
	}
	return maskURI(text)
}

// HasCredentials reports whether a value holds a URI with a password.
func HasCredentials(v any) bool {
	switch v := v.(type) {
	case string:
		return maskURI(v) != v
	case map[string]any:
		for _, x := range v {
			if HasCredentials(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if HasCredentials(x) {
				return true
			}
		}
	}
	return false
}

// URIPasswords lists the passwords of the URIs in a value, in a fixed order
// (map keys sorted), to tell whether they changed.
func URIPasswords(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			for _, m := range uriUserinfo.FindAllStringSubmatch(v, -1) {
				if _, pw, ok := strings.Cut(m[2], ":"); ok {
					out = append(out, pw)
				}
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				walk(v[k])
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// uriRefs checks the references under a parameter value's URI keys: each
// object there must be {env: NAME} or {file: PATH} with a non-empty string
// (E086).
func (c *checker) uriRefs(o Object, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, k := range URIKeys {
		x, ok := m[k]
		if !ok {
			continue
		}
		items := []any{x}
		field := "value/" + k
		if list, ok := x.([]any); ok {
			items = list
		}
		for i, it := range items {
			f := field
			if _, isList := x.([]any); isList {
				f = fmt.Sprintf("%s/%d", field, i)
			}
			if str, isStr := it.(string); isStr && TakesBrokerURIs(o) {
				if err := CheckBrokerURI(str); err != nil {
					c.errorf(o, f, schema.EBrokerURI, "%s is not a URI RabbitMQ takes: %v", k, err)
				}
			}
			if _, isMap := it.(map[string]any); !isMap {
				continue
			}
			s, ok := uriSecret(it)
			if !ok || (s.Env == "" && s.File == "") {
				c.errorf(o, f, schema.EParamSecret, "%s must be a URI string, {env: NAME} or {file: PATH}", k)
			}
		}
	}
}

// SecretError is a password or URI reference ({env: NAME}, {file: PATH})
// that could not be resolved when a command needed it (diff, apply, boot).
type SecretError struct {
	Object Object
	Field  string // "password", "value"
	Err    error
	// Code is E034 when zero (the secret cannot be read); EBrokerURI for a
	// URI read from {env} or {file} that RabbitMQ would refuse.
	Code schema.Code
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Object.Addr(), e.Field, e.Err)
}

func (e *SecretError) Unwrap() error { return e.Err }

// SecretDiagnostics turns the SecretErrors in err (one, or several
// joined) into E034 diagnostics at the references' places in d's files; ok
// is false when err holds none.
func (d *Document) SecretDiagnostics(err error) (diags schema.Diagnostics, ok bool) {
	for _, se := range secretErrors(err, nil) {
		loc := Location(se.Object)
		if loc.Pointer != "" {
			loc.Pointer += "/" + se.Field
		}
		code, msg := schema.ESecretSource, fmt.Sprintf("%s: %s cannot be read: %v", se.Object.Addr(), se.Field, se.Err)
		if se.Code != "" {
			code, msg = se.Code, fmt.Sprintf("%s: %s: %v", se.Object.Addr(), se.Field, se.Err)
		}
		diags = append(diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: schema.Error, Code: code, Message: msg})
	}
	if len(diags) == 0 {
		return nil, false
	}
	d.resolve(diags)
	return diags, true
}

// secretErrors appends the SecretErrors err holds, through wrapping and
// errors.Join, to out.
func secretErrors(err error, out []*SecretError) []*SecretError {
	switch e := err.(type) {
	case nil:
		return out
	case *SecretError:
		return append(out, e)
	case interface{ Unwrap() []error }:
		for _, inner := range e.Unwrap() {
			out = secretErrors(inner, out)
		}
		return out
	case interface{ Unwrap() error }:
		return secretErrors(e.Unwrap(), out)
	}
	return out
}

// SecretRef is one {env}/{file} reference under a parameter value's
// URIKeys, with its JSON pointer below the value: "uri", "src-uri/1".
type SecretRef struct {
	Field  string
	Secret *Secret
}

// SecretRefs lists the references under a parameter value's URIKeys, in a
// fixed order.
func SecretRefs(v any) []SecretRef {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var out []SecretRef
	for _, k := range URIKeys {
		x, ok := m[k]
		if !ok {
			continue
		}
		if list, ok := x.([]any); ok {
			for i, e := range list {
				if s, ok := uriSecret(e); ok {
					out = append(out, SecretRef{Field: fmt.Sprintf("%s/%d", k, i), Secret: s})
				}
			}
			continue
		}
		if s, ok := uriSecret(x); ok {
			out = append(out, SecretRef{Field: k, Secret: s})
		}
	}
	return out
}

// TakesBrokerURIs reports whether RabbitMQ parses o's URIKeys as AMQP
// URIs: a federation upstream's or a shovel's parameter.
func TakesBrokerURIs(o Object) bool {
	p, ok := o.(*Parameter)
	return ok && uriComponents[p.Component]
}
