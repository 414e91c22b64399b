package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// NoRedirects is an http.Client's CheckRedirect that follows none: a 307
// would send the request's credentials and body (passwords, on an import
// or a user's creation) to wherever the server points. The client then
// answers with the redirect, for RedirectError.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// RedirectError is the error for a redirect, which warren never follows:
// it names where the server pointed, and the base URL to give instead
// (the Location with the request's path taken off). prefix names the
// package, flag the option that sets the base URL.
func RedirectError(resp *http.Response, prefix string, base *url.URL, path, flag string) error {
	req := resp.Request
	where := "(no Location)"
	suggest := ""
	if loc, err := resp.Location(); err == nil {
		where = Printable(loc.Redacted())
		p, _, _ := strings.Cut(path, "?")
		if rest, ok := strings.CutSuffix(loc.EscapedPath(), p); ok {
			b := *loc
			b.User, b.RawQuery, b.Fragment = nil, "", ""
			b.Path, b.RawPath = "", ""
			if u, err := url.Parse(b.String() + rest); err == nil {
				suggest = u.String()
			}
		}
	}
	method := http.MethodGet
	if req != nil {
		method = req.Method
	}
	msg := fmt.Sprintf("%s: %s %s: %s answered %d %s redirecting to %s; warren does not follow redirects (the request's credentials and body would go there too)",
		prefix, method, path, base.Redacted(), resp.StatusCode, http.StatusText(resp.StatusCode), where)
	if suggest != "" {
		msg += fmt.Sprintf(": if that is the right place, use %s %s", flag, suggest)
	} else {
		msg += fmt.Sprintf(": set %s to the URL the server should be reached at", flag)
	}
	return errors.New(msg)
}
