package definitions

import (
	"slices"
	"testing"
)

// TestMaskURI: everything between "://" and a URI authority's last "@"
// after the user name is masked, whatever the characters; the user and
// the host stay.
func TestMaskURI(t *testing.T) {
	for _, tc := range []struct{ in, want, password string }{
		{"amqp://fed:secret@host/v", "amqp://fed:(sensitive)@host/v", "secret"},
		{"amqp://fed:Canary A2@host/prod", "amqp://fed:(sensitive)@host/prod", "Canary A2"},
		{"amqps://fed:p@ss@word@host:5671/%2F?heartbeat=5", "amqps://fed:(sensitive)@host:5671/%2F?heartbeat=5", "p@ss@word"},
		{"amqp://fed:tab\there@host", "amqp://fed:(sensitive)@host", "tab\there"},
		{"amqp://host/v", "amqp://host/v", ""},
		{"amqp://user@host/v", "amqp://user@host/v", ""},
		{"amqp://host/v?cacertfile=/a@b", "amqp://host/v?cacertfile=/a@b", ""},
		// RabbitMQ 4.3.6, 4.0.5 and 3.10.8 take these (host fed, port
		// 2024); what the user wrote as a password stays hidden.
		{"amqp://fed:2024#word@h/v", "amqp://fed:(sensitive)@h/v", "2024#word"},
		{"amqp://fed:2024?word@h/v?heartbeat=5", "amqp://fed:(sensitive)@h/v?heartbeat=5", "2024?word"},
	} {
		if got := maskURI(tc.in); got != tc.want {
			t.Errorf("maskURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := HasCredentials(tc.in); got != (tc.password != "") {
			t.Errorf("HasCredentials(%q) = %v", tc.in, got)
		}
		var want []string
		if tc.password != "" {
			want = []string{tc.password}
		}
		if got := URIPasswords(tc.in); !slices.Equal(got, want) {
			t.Errorf("URIPasswords(%q) = %q, want %q", tc.in, got, want)
		}
	}
}

// TestMaskText: a broker's error text is masked by the secrets' values
// (longest first) and by URI shape.
func TestMaskText(t *testing.T) {
	in := `Validation failed "amqp://fed:Canary A2@h:99999/p" not a valid URI; token tok-1234 and tok-12345`
	got := MaskText(in, []string{"tok-1234", "tok-12345"})
	want := `Validation failed "amqp://fed:(sensitive)@h:99999/p" not a valid URI; token (sensitive) and (sensitive)`
	if got != want {
		t.Errorf("MaskText:\n got %s\nwant %s", got, want)
	}
}
