package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	errAgain, errFinal := errors.New("again"), errors.New("final")
	none := func(int) time.Duration { return 0 }
	tests := []struct {
		name     string
		attempts int
		results  []error // what each call returns; errAgain may be tried again
		calls    int
		want     error
	}{
		{"success first", 3, []error{nil}, 1, nil},
		{"success after two", 3, []error{errAgain, errAgain, nil}, 3, nil},
		{"every attempt fails", 3, []error{errAgain, errAgain, errAgain, nil}, 3, errAgain},
		{"not again", 3, []error{errFinal, nil}, 1, errFinal},
		{"no attempts is one", 0, []error{errAgain, nil}, 1, errAgain},
		{"negative attempts is one", -2, []error{errAgain, nil}, 1, errAgain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := Retry(context.Background(), tt.attempts, none, func() (bool, error) {
				err := tt.results[calls]
				calls++
				return err == errAgain, err
			})
			if calls != tt.calls || !errors.Is(err, tt.want) && err != tt.want {
				t.Errorf("%d calls, error %v; want %d calls, error %v", calls, err, tt.calls, tt.want)
			}
		})
	}
}

func TestRetryWaits(t *testing.T) {
	var waits []int
	Retry(context.Background(), 4, func(n int) time.Duration { waits = append(waits, n); return 0 },
		func() (bool, error) { return true, errors.New("again") })
	if len(waits) != 3 || waits[0] != 1 || waits[2] != 3 {
		t.Errorf("waited before calls %v, want [1 2 3]", waits)
	}
	if d := Doubling(200 * time.Millisecond); d(1) != 200*time.Millisecond || d(3) != 800*time.Millisecond {
		t.Errorf("Doubling(200ms): %v, %v", d(1), d(3))
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Retry(ctx, 3, func(int) time.Duration { return time.Hour }, func() (bool, error) {
		calls++
		cancel()
		return true, errors.New("again")
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("a context ended while waiting: %d calls, error %v", calls, err)
	}
}

func TestRedirectError(t *testing.T) {
	base, _ := url.Parse("http://broker:15672")
	loc := "https://user:secret@mq.example.com/rabbit/api/users/app?x=1"
	resp := &http.Response{StatusCode: http.StatusTemporaryRedirect, Header: http.Header{"Location": {loc}},
		Request: &http.Request{Method: http.MethodPut, URL: base}}
	err := RedirectError(resp, "rabbitmq", base, "/api/users/app", "--url")
	msg := err.Error()
	for _, want := range []string{"rabbitmq: PUT /api/users/app: http://broker:15672 answered 307 Temporary Redirect",
		"warren does not follow redirects", "use --url https://mq.example.com/rabbit"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret") {
		t.Errorf("the error shows the Location's password: %s", msg)
	}
	resp.Header = nil
	if msg := RedirectError(resp, "huaweicloud", base, "/v2/x", "--endpoint").Error(); !strings.Contains(msg, "(no Location)") || !strings.Contains(msg, "set --endpoint to the URL") {
		t.Errorf("without a Location: %s", msg)
	}
	if err := NoRedirects(nil, nil); err != http.ErrUseLastResponse {
		t.Errorf("NoRedirects: %v", err)
	}
}

func TestPrintableAndSecrets(t *testing.T) {
	if got := Printable("a\x1b[31mb\r\u202ec"); got != `a\x1b[31mb\r\u202ec` {
		t.Errorf("Printable: %q", got)
	}
	if got := Printable(strings.Repeat("x", 1200)); len(got) != 1000+len("…") {
		t.Errorf("Printable cut at %d bytes", len(got))
	}
	var s Secrets
	s.Add("hunter2")
	got := s.Mask("refused hunter2 in amqp://app:pw@host/vhost")
	if strings.Contains(got, "hunter2") || strings.Contains(got, ":pw@") {
		t.Errorf("Mask: %q", got)
	}
}

func TestReadBounded(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		length, limit int64
		over, fails   bool
	}{
		{"known length within", "abcd", 4, 4, false, false},
		{"known length over", "abcde", 5, 4, true, false},
		{"known length says less than comes", "abcde", 4, 4, true, false},
		{"known length says more than comes", "abc", 4, 4, false, true},
		{"unknown length within", "abcd", -1, 4, false, false},
		{"unknown length over by one", "abcde", -1, 4, true, false},
		{"empty", "", -1, 4, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, over, err := ReadBounded(strings.NewReader(tt.body), tt.length, tt.limit)
			if over != tt.over || (err != nil) != tt.fails {
				t.Fatalf("over %v, error %v; want over %v, failing %v", over, err, tt.over, tt.fails)
			}
			if !over && !tt.fails && string(data) != tt.body {
				t.Errorf("read %q, want %q", data, tt.body)
			}
		})
	}
	// A long answer of unknown length comes whole, across chunks.
	long := strings.Repeat("x", 300<<10)
	if data, over, err := ReadBounded(strings.NewReader(long), -1, 1<<20); err != nil || over || string(data) != long {
		t.Errorf("a 300 KiB answer: %d bytes, over %v, error %v", len(data), over, err)
	}
}
