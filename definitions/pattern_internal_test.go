package definitions

import (
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
)

// TestPlainPatternCompiles checks the shortcut of checker.pattern: every
// pattern plainPattern lets through without parsing must compile in RE2
// and in PCRE (regexp2), over every string of up to five characters made
// of the characters that matter to it, and the common patterns must take
// the shortcut.
func TestPlainPatternCompiles(t *testing.T) {
	alphabet := []byte(`a.*+?^$\{}-`)
	var walk func(prefix []byte)
	taken := 0
	walk = func(prefix []byte) {
		if len(prefix) > 0 && plainPattern(string(prefix)) {
			taken++
			p := string(prefix)
			if _, err := syntax.Parse(p, syntax.Perl); err != nil {
				t.Errorf("plainPattern(%q) is true, but RE2 refuses it: %v", p, err)
			}
			if _, err := regexp2.Compile(p, regexp2.None); err != nil {
				t.Errorf("plainPattern(%q) is true, but PCRE refuses it: %v", p, err)
			}
		}
		if len(prefix) == 5 {
			return
		}
		for _, c := range alphabet {
			walk(append(prefix, c))
		}
	}
	walk(nil)
	if taken == 0 {
		t.Fatal("plainPattern took no pattern")
	}
	for _, p := range []string{"", ".*", "^$", `^user-12\..*$`, `^amq\.`, "^{username}-.*", `^{vhost}\.q`, "queue_1", `a\-b`} {
		if !plainPattern(p) {
			t.Errorf("plainPattern(%q) = false, want the shortcut", p)
		}
		if _, err := syntax.Parse(p, syntax.Perl); err != nil {
			t.Errorf("%q: RE2 refuses it: %v", p, err)
		}
		if _, err := regexp2.Compile(p, regexp2.None); err != nil {
			t.Errorf("%q: PCRE refuses it: %v", p, err)
		}
	}
	for _, p := range []string{"(", "a**", "*", "^*", `\d+`, "a{2}", "[a-", `a\`, "x|y", "{user}"} {
		if plainPattern(p) {
			t.Errorf("plainPattern(%q) = true, want it parsed", p)
		}
	}
}

// TestPatternsThePCRERefuses: escapes regexp2 reads as .NET does and
// PCRE refuses (RabbitMQ 4.3.6 answered 400 invalid_regexp for ^\u0041$,
// ^\l$ and ^\N{U+41}$, and took ^\Q\u\E$ and ^\\u$) are errors at the
// pattern, with PCRE's words; the others are not.
func TestPatternsThePCRERefuses(t *testing.T) {
	for pat, refused := range map[string]bool{
		`^\u0041$`: true, `^\l$`: true, `^\L$`: true, `^\U$`: true, `^\N{U+41}$`: true, `[\u0041]`: true,
		`^\Q\u\E$`: false, `^\\u$`: false, `^(?<=a)b$`: false, `^a\d+$`: false,
		// \N is any character but a newline: 3.10.8, 4.0.5 and 4.3.6 took
		// these, with \N repeated by a brace, and refused \N{abc},
		// \N{U+41} and [\N]; 3.10.8 and 4.0.5 refused \N{,3} and \N{ 2}.
		`^a\Nb$`: false, `^a\N+$`: false, `^\N{2}$`: false, `^\N{2,}$`: false, `^\N{2,3}$`: false,
		`^\N{,3}$`: true, `^\N{ 2}$`: true,
		`^[\]x]\N$`: false, `^[\]\N]$`: true, `^\Q[\E\N$`: false, `^\N{abc}$`: true, `[\N]`: true, `^[^x\N]$`: true,
	} {
		c := &checker{re: map[string]error{}}
		perm := &Permission{User: "u", Vhost: "v", Configure: pat}
		c.pattern(perm, "configure", pat)
		got := len(c.diags) > 0
		if got != refused {
			t.Errorf("%q: an error %v, want %v: %v", pat, got, refused, c.diags)
		}
		if got && !strings.Contains(c.diags[0].Message, "PCRE does not support") && !strings.Contains(c.diags[0].Message, "not supported in a class") && !strings.Contains(c.diags[0].Message, "4.0 and before refuse") {
			t.Errorf("%q: %s", pat, c.diags[0].Message)
		}
	}
}
