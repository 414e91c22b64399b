package definitions

import (
	"net/url"

	"github.com/warren-tool/warren/schema"
)

// DotSegment reports whether a name would be read as a dot segment once it
// is a URL path segment: "." or "..", also after percent-decoding, once or
// more ("%2E%2E", "%252e."). RabbitMQ's web server resolves dot segments, so
// such a name escapes its segment: DELETE /api/topic-permissions/../users/X
// is served as DELETE /api/users/X.
func DotSegment(name string) bool {
	for range 4 {
		if name == "." || name == ".." {
			return true
		}
		d, err := url.PathUnescape(name)
		if err != nil || d == name {
			return false
		}
		name = d
	}
	return true // still decoding after four rounds: refuse rather than guess
}

// pathNames lists the names of an object that go into a URL path of the
// management API, by field.
func pathNames(dst [][2]string, o Object) [][2]string {
	switch o := o.(type) {
	case *User:
		return append(dst, [2]string{"name", o.Name})
	case *Vhost:
		return append(dst, [2]string{"name", o.Name})
	case *Permission:
		return append(dst, [2]string{"user", o.User}, [2]string{"vhost", o.Vhost})
	case *TopicPermission:
		return append(dst, [2]string{"user", o.User}, [2]string{"vhost", o.Vhost}, [2]string{"exchange", o.Exchange})
	case *Parameter:
		return append(dst, [2]string{"component", o.Component}, [2]string{"vhost", o.Vhost}, [2]string{"name", o.Name})
	case *GlobalParameter:
		return append(dst, [2]string{"name", o.Name})
	case *Policy:
		return append(dst, [2]string{"vhost", o.Vhost}, [2]string{"name", o.Name})
	case *Queue:
		return append(dst, [2]string{"vhost", o.Vhost}, [2]string{"name", o.Name})
	case *Exchange:
		return append(dst, [2]string{"vhost", o.Vhost}, [2]string{"name", o.Name})
	case *Binding:
		// The routing key is the path's last segment when the binding has
		// no arguments (its properties key): a binding with routing key
		// ".." could be created but never deleted.
		return append(dst, [2]string{"vhost", o.Vhost}, [2]string{"source", o.Source}, [2]string{"destination", o.Destination}, [2]string{"routing_key", o.RoutingKey})
	}
	return dst
}

// dotNames refuses names that are dot segments (E085).
func (c *checker) dotNames() {
	var buf [][2]string
	for _, k := range Kinds {
		for o := range c.doc.All(k) {
			buf = pathNames(buf[:0], o)
			for _, f := range buf {
				if f[1] != "" && DotSegment(f[1]) {
					c.errorf(o, f[0], schema.EDotName, "%s %q is a dot segment: in a URL path it would name another object (RabbitMQ resolves . and ..); rename it", f[0], f[1])
				}
			}
		}
	}
}
