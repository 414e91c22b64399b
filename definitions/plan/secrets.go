package plan

import (
	"errors"
	"fmt"
	"slices"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// ReadSecrets reads every secret the plan sends to the broker: the
// password of each user it creates, whose password changes, or that it
// writes whole, and each {env}/{file} reference in a parameter's URIs. It
// runs before the first request that changes a broker, so that an
// unreadable secret stops an apply before anything changed. The error
// joins one *definitions.SecretError per secret that cannot be read, each
// naming the reference's field ("password", "value/uri", "value/src-uri/1")
// so that Document.SecretDiagnostics puts it at its place in the files.
// A URI that RabbitMQ would refuse (CheckBrokerURI) is a SecretError too,
// with Code EBrokerURI, its value not shown. The values read are returned,
// for masking a broker's error text.
func (p *Plan) ReadSecrets(resolve func(*definitions.Secret) (string, error)) ([]string, error) {
	if resolve == nil {
		resolve = definitions.ResolveSecret
	}
	var values []string
	var errs []error
	seen := map[definitions.Object]bool{}
	user := func(u *definitions.User) {
		if u == nil || u.Password == nil || seen[u] {
			return
		}
		seen[u] = true
		pw, err := resolve(u.Password)
		if err != nil {
			errs = append(errs, &definitions.SecretError{Object: u, Field: "password", Err: err})
			return
		}
		values = append(values, pw)
	}
	param := func(o definitions.Object, v any) {
		if seen[o] {
			return
		}
		seen[o] = true
		// The passwords of the URIs written in the files are masked too.
		values = append(values, definitions.URIPasswords(v)...)
		for _, ref := range definitions.SecretRefs(v) {
			s, err := resolve(ref.Secret)
			if err != nil {
				errs = append(errs, &definitions.SecretError{Object: o, Field: "value/" + ref.Field, Err: err})
				continue
			}
			values = append(values, s)
			values = append(values, definitions.URIPasswords(s)...)
			if definitions.TakesBrokerURIs(o) {
				if err := definitions.CheckBrokerURI(s); err != nil {
					errs = append(errs, &definitions.SecretError{Object: o, Field: "value/" + ref.Field, Code: schema.EBrokerURI,
						Err: fmt.Errorf("the URI read from %s is not one RabbitMQ takes: %v", ref.Secret.Source(), err)})
				}
			}
		}
	}
	for _, ch := range p.Changes {
		if ch.User != nil {
			user(ch.User.User)
		}
		switch o := ch.After.(type) {
		case *definitions.User:
			if ch.Action == Create || ch.Step == StepActingPassword || ch.Step == StepWriteUser || slices.ContainsFunc(ch.Fields, func(f FieldChange) bool { return f.Field == "password" }) {
				user(o)
			}
		case *definitions.Parameter:
			param(o, o.Value)
		case *definitions.GlobalParameter:
			param(o, o.Value)
		}
	}
	return values, errors.Join(errs...)
}
