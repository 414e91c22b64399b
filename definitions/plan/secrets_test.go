package plan

import (
	"errors"
	"slices"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/schema"
)

// TestReadSecrets: every secret a plan sends is read, an unreadable one is
// a SecretError naming its field, a URI RabbitMQ would refuse is one with
// E111, and the values read (with the passwords of written URIs) come
// back for masking.
func TestReadSecrets(t *testing.T) {
	lit := "literal-pw"
	p := &Plan{Changes: []Change{
		{Action: Create, Kind: definitions.KindUser, After: &definitions.User{Name: "a", Password: &definitions.Secret{Env: "A"}}},
		{Action: Create, Kind: definitions.KindUser, After: &definitions.User{Name: "b", Password: &definitions.Secret{Literal: &lit}}},
		{Action: Update, Kind: definitions.KindUser, After: &definitions.User{Name: "c", Password: &definitions.Secret{Env: "UNREAD"}}, Fields: []FieldChange{{Field: "tags"}}},
		{Action: Create, Kind: definitions.KindParameter, After: &definitions.Parameter{Vhost: "v", Component: "shovel", Name: "s",
			Value: map[string]any{"src-uri": []any{"amqp://w:written-pw@h", map[string]any{"env": "SRC"}}, "dest-uri": map[string]any{"file": "missing"}}}},
		{Action: Create, Kind: definitions.KindParameter, After: &definitions.Parameter{Vhost: "v", Component: "federation-upstream", Name: "u",
			Value: map[string]any{"uri": map[string]any{"env": "BAD"}}}},
	}}
	env := map[string]string{"A": "a-pw", "SRC": "amqp://s:src-pw@h/v", "BAD": "amqp://f:bad-pw@h:0/v"}
	values, err := p.ReadSecrets(func(s *definitions.Secret) (string, error) {
		if s.Literal != nil {
			return *s.Literal, nil
		}
		if v, ok := env[s.Env]; ok {
			return v, nil
		}
		return "", errors.New("cannot read")
	})
	for _, want := range []string{"a-pw", "literal-pw", "written-pw", "amqp://s:src-pw@h/v", "src-pw", "bad-pw"} {
		if !slices.Contains(values, want) {
			t.Errorf("values lack %q: %q", want, values)
		}
	}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *definitions.SecretError
		if errors.As(e, &se) {
			got = append(got, se.Object.Addr()+" "+se.Field+" "+string(se.Code))
		}
	}
	want := []string{`parameter shovel "s" on vhost "v" value/dest-uri `, `parameter federation-upstream "u" on vhost "v" value/uri ` + string(schema.EBrokerURI)}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}
