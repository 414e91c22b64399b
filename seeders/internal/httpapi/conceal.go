package httpapi

import (
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/warren-tool/warren/definitions"
)

// Printable makes text from a server safe to print on a terminal: control
// characters (escape sequences, carriage returns) and bidirectional
// overrides are written as Go escapes, and the text is cut at 1,000 bytes.
func Printable(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i >= 1000 {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Secrets is the set of secret values a client masks in what a server
// says (definitions.MaskText: the values, and the passwords of URIs by
// their shape). It is safe for concurrent use; the zero value masks URI
// passwords only.
type Secrets struct {
	mu     sync.Mutex
	values []string
}

// Add adds values to mask from now on.
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = append(s.values, values...)
}

// Mask returns text with every secret masked.
func (s *Secrets) Mask(text string) string {
	if text == "" {
		return text
	}
	s.mu.Lock()
	values := s.values
	s.mu.Unlock()
	return definitions.MaskText(text, values)
}
