package definitions_test

import (
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
)

// ResolveSecret reads {file} through internal/secret, which refuses a
// device at once.
func TestResolveSecretFile(t *testing.T) {
	s := &definitions.Secret{File: "/dev/zero"}
	if _, err := definitions.ResolveSecret(s); err == nil || !strings.Contains(err.Error(), "cannot read password file /dev/zero: not a regular file or a pipe (a character device)") {
		t.Errorf("{file: /dev/zero}: %v", err)
	}
}

func TestDotSegment(t *testing.T) {
	for name, want := range map[string]bool{".": true, "..": true, "%2E%2E": true, "%2e.": true, "%252E%252E": true,
		"...": false, ".a": false, "a..": false, "%2E%2E%2E": false, "": false, "/": false} {
		if got := definitions.DotSegment(name); got != want {
			t.Errorf("DotSegment(%q) = %v, want %v", name, got, want)
		}
	}
}
