package topology

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Encode writes resources as one multi-document YAML stream, each document
// after a --- line, in the order given.
func Encode(resources ...any) []byte {
	var b bytes.Buffer
	for _, r := range resources {
		b.WriteString("---\n")
		enc := yaml.NewEncoder(&b)
		enc.SetIndent(2)
		if err := enc.Encode(r); err != nil {
			panic("topology: encoding a resource: " + err.Error()) // the types hold only encodable values
		}
		enc.Close()
	}
	return b.Bytes()
}

var invalidRun = regexp.MustCompile(`[^a-z0-9]+`)

// maxName leaves room in a User's name for the operator's
// "-user-credentials" Secret (236) and for suffixes warren adds to name
// Secrets.
const maxName = 200

// Name makes a metadata.name from the parts of an object's identity (its
// vhost and name, …): lower case, every run of other characters than a-z
// and 0-9 turned into -, at most 200 characters. When that changes the
// identity (upper case, /, _, a cut, a hyphen in a part but the last), a hyphen and 8 hex digits of the
// identity's SHA-256 are added, so that names stay unique and do not
// change from one export to the next.
func Name(parts ...string) string {
	ident := strings.Join(parts, "\x00")
	joined := strings.Join(parts, "-")
	s := strings.Trim(invalidRun.ReplaceAllString(strings.ToLower(joined), "-"), "-")
	mangled := s != joined
	for i, p := range parts {
		// "a-b"+"c" and "a"+"b-c" would both give a-b-c: a hyphen is
		// kept only in the last part, so that the parts can be told apart.
		if p == "" || i < len(parts)-1 && strings.Contains(p, "-") {
			mangled = true
		}
	}
	if len(s) > maxName {
		s, mangled = strings.TrimRight(s[:maxName], "-"), true
	}
	if !mangled {
		return s
	}
	sum := sha256.Sum256([]byte(ident))
	suffix := hex.EncodeToString(sum[:4])
	if s == "" {
		return "x-" + suffix
	}
	return s + "-" + suffix
}

// HashName is Name with the hash always added: for objects whose readable
// parts do not identify them (bindings).
func HashName(readable []string, ident ...string) string {
	joined := strings.Join(readable, "-")
	s := strings.Trim(invalidRun.ReplaceAllString(strings.ToLower(joined), "-"), "-")
	if len(s) > maxName {
		s = strings.TrimRight(s[:maxName], "-")
	}
	sum := sha256.Sum256([]byte(strings.Join(ident, "\x00")))
	suffix := hex.EncodeToString(sum[:4])
	if s == "" {
		return "x-" + suffix
	}
	return s + "-" + suffix
}
