package access

import (
	"fmt"
	"strings"

	"github.com/warren-tool/warren/definitions"
)

// forEngine rewrites a PCRE pattern so that regexp2, which reads .NET's
// syntax, matches ASCII names as Erlang's re does on RabbitMQ version v.
// \Q…\E quotes text to PCRE and is an error to .NET, as is \_: they are
// rewritten. Three constructs compile in both and mean different things:
//
//   - POSIX classes: [[:alpha:]] is a letter to PCRE, and to .NET the
//     class of [ : a l p h followed by a literal ]. They become ranges.
//   - [ inside a class is literal to PCRE; to .NET, -[…] subtracts a
//     class. It is escaped.
//   - {,3}: text to PCRE (Erlang/OTP 27 and before, RabbitMQ 4.0 and
//     before), {0,3} to PCRE2 10.43 (OTP 28 and later, which RabbitMQ 4.1
//     and later may run on). On those, or without a version, it cannot be
//     told: an error.
//
// An unknown POSIX class name is an error, as it is to PCRE.
func forEngine(pat, v string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case strings.HasPrefix(pat[i:], `\Q`):
			// Text up to \E (or the end), in a class or not.
			i += definitions.QuoteLiteral(&b, pat[i:]) - 1
		case strings.HasPrefix(pat[i:], `\E`):
			i++ // an \E without \Q: PCRE ignores it
		case strings.HasPrefix(pat[i:], `\_`):
			b.WriteByte('_') // .NET refuses \_; PCRE reads _
			i++
		case !inClass && strings.HasPrefix(pat[i:], `\N`):
			b.WriteString(`[^\n]`) // PCRE's any character but a newline; .NET has no \N
			i++
		case c == '\\':
			if i+1 < len(pat) {
				b.WriteString(pat[i : i+2])
				i++
				continue
			}
			b.WriteByte(c)
		case !inClass && strings.HasPrefix(pat[i:], "(?#"):
			// A comment: copied to its end.
			end := strings.IndexByte(pat[i:], ')')
			if end < 0 {
				end = len(pat) - i - 1
			}
			b.WriteString(pat[i : i+end+1])
			i += end
		case !inClass && c == '[':
			inClass = true
			b.WriteByte(c)
			if i+1 < len(pat) && pat[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' {
				b.WriteString(`\]`) // a ] first is literal
				i++
			}
		case !inClass && c == '{':
			if q, ok := shortQuantifier(pat[i:]); ok && since43(v) != Denied {
				return "", fmt.Errorf("%s is text to RabbitMQ on Erlang/OTP 27 and before (RabbitMQ 4.0 and before), and a repetition on OTP 28 and later; give the RabbitMQ version, or write {0,n}", q)
			}
			b.WriteByte(c)
		case inClass && c == ']':
			inClass = false
			b.WriteByte(c)
		case inClass && c == '[' && strings.HasPrefix(pat[i:], "[:"):
			end := strings.Index(pat[i+2:], ":]")
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			name := pat[i+2 : i+2+end]
			set, ok := posixClass(name)
			if !ok {
				return "", fmt.Errorf("unknown POSIX class name %q", name)
			}
			b.WriteString(set)
			i += 2 + end + 1
		case inClass && c == '[':
			b.WriteString(`\[`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// shortQuantifier says whether s starts with a brace that PCRE2 10.43
// reads as a quantifier and PCRE as text: {,n}, or one with spaces, as
// { 1, 3 }.
func shortQuantifier(s string) (string, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return "", false
	}
	in := s[1:end]
	if strings.Trim(in, "0123456789, \t") != "" || strings.Count(in, ",") > 1 {
		return "", false
	}
	digits := strings.Trim(in, " \t,")
	if digits == "" {
		return "", false // {}, {,}: text to both
	}
	// What PCRE reads as a quantifier too: {n}, {n,}, {n,m}.
	if in[0] != ',' && !strings.ContainsAny(in, " \t") {
		return "", false
	}
	return s[:end+1], true
}

// posixClass is a POSIX class's characters as class items, for PCRE
// without Unicode properties (ASCII): [:^name:] is the complement, bytes
// from 0x80 included.
func posixClass(name string) (string, bool) {
	neg := strings.HasPrefix(name, "^")
	name = strings.TrimPrefix(name, "^")
	var in func(c byte) bool
	switch name {
	case "alnum":
		in = func(c byte) bool { return isAlpha(c) || isDigit(c) }
	case "alpha":
		in = isAlpha
	case "ascii":
		in = func(c byte) bool { return c < 0x80 }
	case "blank":
		in = func(c byte) bool { return c == ' ' || c == '\t' }
	case "cntrl":
		in = func(c byte) bool { return c < 0x20 || c == 0x7f }
	case "digit":
		in = isDigit
	case "graph":
		in = func(c byte) bool { return c > 0x20 && c < 0x7f }
	case "lower":
		in = func(c byte) bool { return c >= 'a' && c <= 'z' }
	case "print":
		in = func(c byte) bool { return c >= 0x20 && c < 0x7f }
	case "punct":
		in = func(c byte) bool { return c > 0x20 && c < 0x7f && !isAlpha(c) && !isDigit(c) }
	case "space":
		in = func(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }
	case "upper":
		in = func(c byte) bool { return c >= 'A' && c <= 'Z' }
	case "word":
		in = func(c byte) bool { return isAlpha(c) || isDigit(c) || c == '_' }
	case "xdigit":
		in = func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	default:
		return "", false
	}
	var b strings.Builder
	member := func(c int) bool { return (c < 0x80 && in(byte(c))) != neg }
	for c := 0; c < 0x100; c++ {
		if !member(c) {
			continue
		}
		// A run of members: c … last.
		last := c
		for last+1 < 0x100 && member(last+1) {
			last++
		}
		fmt.Fprintf(&b, `\x%02X`, c)
		if last > c {
			fmt.Fprintf(&b, `-\x%02X`, last)
		}
		c = last
	}
	return b.String(), true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
