package access

import (
	"testing"

	"github.com/dlclark/regexp2"
)

// TestLiteralAgreesWithPCRE: every pattern parseLiteral takes, over every
// string of up to four characters of an alphabet that matters to it,
// matches exactly where regexp2 (PCRE) matches; and the common patterns
// take the shortcut.
func TestLiteralAgreesWithPCRE(t *testing.T) {
	alphabet := []byte("ab.\n")
	var subjects []string
	var grow func(p string)
	grow = func(p string) {
		subjects = append(subjects, p)
		if len(p) == 4 {
			return
		}
		for _, c := range alphabet {
			grow(p + string(c))
		}
	}
	grow("")
	var patterns []string
	for _, pre := range []string{"", "^"} {
		for _, text := range []string{"", "a", "ab", `a\.`, `\.b`, "b", `a\$`} {
			for _, any := range []string{"", ".*"} {
				for _, end := range []string{"", "$"} {
					patterns = append(patterns, pre+text+any+end)
				}
			}
		}
	}
	taken := 0
	for _, p := range patterns {
		l, ok := parseLiteral(p)
		if !ok {
			continue
		}
		taken++
		re := regexp2.MustCompile(p, regexp2.None)
		for _, s := range subjects {
			want, _ := re.MatchString(s)
			if got := l.match(s); got != want {
				t.Errorf("pattern %q on %q: literal %v, PCRE %v", p, s, got, want)
			}
		}
	}
	if taken < len(patterns) {
		t.Errorf("only %d of %d patterns took the shortcut", taken, len(patterns))
	}
	for _, p := range []string{`a|b`, `a+`, `[ab]`, `(a)`, `a.b`, `\d`, `a{2}`} {
		if _, ok := parseLiteral(p); ok {
			t.Errorf("parseLiteral(%q) took it", p)
		}
	}
}
