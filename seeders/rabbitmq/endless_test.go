package rabbitmq_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// endlessUsers answers every request with an answer that never ends: a JSON
// list of users (inside a definitions document for /api/definitions)
// that goes on and on, or, with oneUser, a list whose first user's name
// never ends. It poses as a hostile server, not as a broker.
func endlessUsers(t *testing.T, oneUser bool) *httptest.Server {
	chunk := []byte(strings.Repeat(`{"name":"u","password_hash":"","tags":""},`, 1<<10))
	if oneUser {
		chunk = []byte(strings.Repeat("a", 64<<10))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/api/definitions") {
			io.WriteString(w, `{"users":[`)
		} else {
			io.WriteString(w, `[`)
		}
		if oneUser {
			io.WriteString(w, `{"name":"`)
		}
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// peakHeap runs f and returns the most heap memory in use while it ran
// (sampled every millisecond), above what was in use before.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// TestEndlessAnswerBoundsMemory: an answer that never ends is cut at the
// answer limit (512 MiB), and warren's heap stays under 1 GiB on the way,
// whether the answer is read whole (an export), decoded as it arrives (a
// listing the fast path reads) or read whole for the slow path.
func TestEndlessAnswerBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 512 MiB")
	}
	ctx := context.Background()
	client := func(oneUser bool) *rabbitmq.Client {
		srv := endlessUsers(t, oneUser)
		c, err := rabbitmq.New(rabbitmq.Config{URLs: []string{srv.URL}, Username: "u", Password: "p", Retries: -1, Timeout: 5 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	many, one := client(false), client(true)
	for _, tc := range []struct {
		name string
		read func() error
	}{
		{"export", func() error { _, err := many.Definitions(ctx); return err }},
		{"export decoded as it arrives, with the listings read beside it", func() error { _, err := many.Read(ctx); return err }},
		{"users", func() error { _, err := many.ReadKinds(ctx, []definitions.Kind{definitions.KindUser}); return err }},
		{"parameters", func() error {
			_, err := many.ReadKinds(ctx, []definitions.Kind{definitions.KindParameter})
			return err
		}},
		{"one endless user", func() error { _, err := one.ReadKinds(ctx, []definitions.Kind{definitions.KindUser}); return err }},
	} {
		var rerr error
		peak := peakHeap(func() { rerr = tc.read() })
		t.Logf("%s: peak heap %d MiB: %v", tc.name, peak>>20, rerr)
		if rerr == nil || !strings.Contains(rerr.Error(), "larger than 512 MiB") {
			t.Errorf("%s: want the answer cut at 512 MiB, got %v", tc.name, rerr)
		}
		if peak >= 1<<30 {
			t.Errorf("%s: peak heap %d MiB, want under 1 GiB", tc.name, peak>>20)
		}
	}
}
