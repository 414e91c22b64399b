package migrate

import (
	"fmt"
	"net/url"
	"strings"
)

// URITemplate says how the new cluster reaches the old one over AMQP, for
// one vhost at a time (a federation upstream's URI names the upstream
// vhost in its path). Exactly one field is set.
type URITemplate struct {
	// Literal is amqp[s]://[user@]host[:port] without a password (TLS
	// client certificates, or a user whose password the broker is given
	// otherwise); the vhost is appended as the path.
	Literal string
	// Env and File name where the whole URI, password and vhost included,
	// is read when warren applies it; {vhost} in them stands for the
	// vhost's slug (Slug; upper case in Env).
	Env, File string
}

// ParseURITemplate reads --upstream-uri: env:NAME, file:PATH, or a URI
// without a password.
func ParseURITemplate(s string) (URITemplate, error) {
	if name, ok := strings.CutPrefix(s, "env:"); ok && name != "" {
		return URITemplate{Env: name}, nil
	}
	if path, ok := strings.CutPrefix(s, "file:"); ok && path != "" {
		return URITemplate{File: path}, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
		return URITemplate{}, fmt.Errorf("upstream URI %q: use env:NAME or file:PATH (where the URI with its password is read), or amqp[s]://[user@]host[:port]", redact(s))
	}
	if _, has := u.User.Password(); has {
		return URITemplate{}, fmt.Errorf("upstream URI %s holds a password: it would be saved in the new cluster's definitions and plans; give env:NAME or file:PATH instead", u.Redacted())
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#") {
		// Not shown: in amqp://fed:2024#secret@host the "port" and the
		// fragment are a password written without percent-escapes. A
		// query would also end up before the vhost warren appends.
		return URITemplate{}, fmt.Errorf("upstream URI has a query or fragment (\"?\" or \"#\"): warren appends each vhost as the path; give env:NAME or file:PATH for a URI with parameters, and write \"?\", \"#\" in a password as %%3F, %%23")
	}
	if u.Path != "" && u.Path != "/" {
		return URITemplate{}, fmt.Errorf("upstream URI %s names a vhost: warren adds each vhost's own", u.Redacted())
	}
	u.Path, u.RawPath = "", ""
	return URITemplate{Literal: u.String()}, nil
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(not a URI)"
}

// PerVhost reports whether the template gives each vhost its own URI.
func (t URITemplate) PerVhost() bool {
	return t.Literal != "" || strings.Contains(t.Env+t.File, "{vhost}")
}

// For is the uri value of vhost's federation upstream: a string, or an
// {env}/{file} reference that warren resolves when it applies it.
func (t URITemplate) For(vhost string) any {
	switch {
	case t.Env != "":
		return map[string]any{"env": strings.ReplaceAll(t.Env, "{vhost}", strings.ToUpper(strings.ReplaceAll(Slug(vhost), "-", "_")))}
	case t.File != "":
		return map[string]any{"file": strings.ReplaceAll(t.File, "{vhost}", Slug(vhost))}
	}
	return t.Literal + "/" + url.PathEscape(vhost)
}

// Slug names a vhost where a file name or a variable name must: "/" is
// "default", and every character but A-Z, a-z, 0-9, - and _ becomes _.
func Slug(vhost string) string {
	if vhost == "/" {
		return "default"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, vhost)
}
