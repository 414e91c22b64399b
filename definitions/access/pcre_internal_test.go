package access

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Patterns that compile in PCRE and in regexp2 (.NET syntax) with
// different meanings are matched as PCRE matches them (the POSIX classes
// and a class's [ on real nodes: TestAccessAgreesWithBrokerOnNames), and
// {,n}, which changed meaning with PCRE2, as the version's PCRE does or
// not at all.
func TestMatchPCREOnly(t *testing.T) {
	const unknown = "unknown"
	for _, tc := range []struct {
		version, pattern, name string
		want                   string // "true", "false" or unknown
	}{
		{"4.3.6", `^[[:alpha:]]+$`, "abc", "true"},
		{"4.3.6", `^[[:alpha:]]+$`, "ab1", "false"},
		{"4.3.6", `^[[:alpha:]]+$`, "[:a]", "false"},
		{"3.10.8", `^[[:digit:][:upper:]_]+$`, "AB_12", "true"},
		{"3.10.8", `^[[:digit:][:upper:]_]+$`, "ab", "false"},
		{"", `^[^[:alnum:]]$`, "-", "true"},
		{"", `^[^[:alnum:]]$`, "x", "false"},
		{"", `^[[:^digit:]]+$`, "abc", "true"},
		{"", `^[[:^digit:]]+$`, "a1", "false"},
		{"", `^[[:punct:]]$`, ".", "true"},
		{"", `^[[:punct:]]$`, "a", "false"},
		{"", `^[[:space:]]$`, "\v", "true"},
		{"", `^[[:word:]]+$`, "a_1", "true"},
		{"", `^[[:xdigit:]]+$`, "09afAF", "true"},
		{"", `^[[:xdigit:]]+$`, "g", "false"},
		{"", `^[[:nope:]]$`, "a", unknown},
		// \N is any character but a newline to PCRE; .NET has no \N.
		{"4.3.6", `^a\Nb$`, "a.b", "true"},
		{"4.3.6", `^a\Nb$`, "a\nb", "false"},
		{"", `^\N{2}$`, "ab", "true"},
		{"", `^\N{2}$`, "abc", "false"},
		{"", `^[\]]\N$`, "]x", "true"},
		// [ in a class is text to PCRE; .NET subtracts -[…].
		{"", `^[a-z-[aeiou]]$`, "b]", "true"},
		{"", `^[a-z-[aeiou]]$`, "b", "false"},
		{"", `^[]a]$`, "]", "true"},
		{"", `^[^]a]$`, "b", "true"},
		{"", `^[\]]$`, "]", "true"},
		{"", `(?#[)^a$`, "a", "true"},
		// \Q…\E quotes; \_ is _; a lone \E is nothing.
		{"4.3.6", `^\Qa{,3}\E$`, "a{,3}", "true"},
		{"4.3.6", `^\Qa{,3}\E$`, "aa", "false"},
		{"", `^\Qa.b\E+$`, "a.bb", "true"},
		{"", `^\Qa.b\E$`, "axb", "false"},
		{"", `^[\Q]^\E]+$`, "]^", "true"},
		{"", `^\Qa.b`, "a.b", "true"},
		{"", `^\\Q$`, `\Q`, "true"},
		{"", `^\_?a\E$`, "_a", "true"},
		// {,3}: text up to 4.0 (OTP 27 and before), not known after.
		{"4.0.5", `^a{,3}$`, "a{,3}", "true"},
		{"4.0.5", `^a{,3}$`, "aa", "false"},
		{"4.3.6", `^a{,3}$`, "aa", unknown},
		{"", `^a{ 1, 3 }$`, "aa", unknown},
		{"4.3.6", `^a{1,3}$`, "aa", "true"},
		{"4.3.6", `^a{,}$`, "a{,}", "true"},
		{"4.3.6", `^a\{,3}$`, "a{,3}", "true"},
	} {
		m := New(nil, Options{Version: tc.version})
		ok, why := m.Match(tc.pattern, tc.name)
		got := "false"
		switch {
		case why != "":
			got = unknown
		case ok:
			got = "true"
		}
		if got != tc.want {
			t.Errorf("RabbitMQ %q: %s against %q: %s (%s), want %s", tc.version, tc.pattern, tc.name, got, why, tc.want)
		}
	}
}

// A pattern whose match runs too long on one name is not tried on the
// next: asking about many resources costs one timeout, not one each.
func TestSlowPatternTriedOnce(t *testing.T) {
	m := New(nil, Options{})
	const pat = `(a+)+$`
	start := time.Now()
	for i := 0; i < 20; i++ {
		name := strings.Repeat("a", 40) + "b" + strconv.Itoa(i)
		ok, why := m.Match(pat, name)
		if ok || !strings.Contains(why, "took too long") {
			t.Fatalf("%s against %s: %v, %q; want unknown (too long)", pat, name, ok, why)
		}
		if i > 0 && !strings.Contains(why, "not tried again") {
			t.Errorf("%s against %s: %q; want it not tried again", pat, name, why)
		}
	}
	if d := time.Since(start); d > 10*matchTimeout {
		t.Errorf("20 names took %s (a match times out after %s)", d, matchTimeout)
	}
}

// A match that timed out at once (regexp2's clock lagging on a busy
// machine) is run again, up to three times; one that ran its time, once:
// a pattern is slow when it runs its time twice.
func TestTimedMatchRetriesEarlyTimeouts(t *testing.T) {
	timeout := errors.New("match timeout")
	calls := 0
	ok, err := timedMatch(func() (bool, error) {
		calls++
		if calls == 1 {
			return false, timeout
		}
		return true, nil
	})
	if !ok || err != nil || calls != 2 {
		t.Errorf("an early timeout: %v, %v after %d calls; want a match after 2", ok, err, calls)
	}
	calls = 0
	ok, err = timedMatch(func() (bool, error) {
		calls++
		if calls == 1 {
			time.Sleep(matchTimeout)
			return false, timeout
		}
		return true, nil
	})
	if !ok || err != nil || calls != 2 {
		t.Errorf("a match that ran its time once (waiting for a core): %v, %v after %d calls; want a match after 2", ok, err, calls)
	}
	calls = 0
	_, err = timedMatch(func() (bool, error) {
		calls++
		time.Sleep(matchTimeout)
		return false, timeout
	})
	if err == nil || calls != 2 {
		t.Errorf("a match that ran its time twice: %v after %d calls; want the timeout after 2", err, calls)
	}
	calls = 0
	if _, err = timedMatch(func() (bool, error) { calls++; return false, timeout }); err == nil || calls != 4 {
		t.Errorf("early timeouts every time: %v after %d calls; want the timeout after 4", err, calls)
	}
}
