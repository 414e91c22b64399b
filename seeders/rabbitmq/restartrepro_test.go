//go:build restartrepro

package rabbitmq

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestRestartExportRepro looks for an export that lacks what the broker
// holds right after a restart: it fills a node (the file WARREN_RESTART_FILE,
// then WARREN_RESTART_REPRO users, each with a permission), stops it
// (rabbitmqctl stop, or a kill with WARREN_RESTART_KILL=1), starts it again
// in its directory and counts each kind of every GET /api/definitions from
// the moment the API answers. It only reports, and is built only with the
// tag restartrepro:
//
//	WARREN_RABBITMQ=4.3 WARREN_RESTART_REPRO=50000 WARREN_RESTART_ROUNDS=3 \
//	  go test -tags restartrepro -run TestRestartExportRepro -v -timeout 60m ./seeders/rabbitmq
func TestRestartExportRepro(t *testing.T) {
	users, _ := strconv.Atoi(os.Getenv("WARREN_RESTART_REPRO"))
	file := os.Getenv("WARREN_RESTART_FILE")
	if users == 0 && file == "" {
		t.Fatal("set WARREN_RESTART_REPRO=<users> or WARREN_RESTART_FILE")
	}
	ctx := context.Background()
	// A generated file of 100,000 users is over the default 20 MB.
	n, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{Config: []string{"management.http.max_body_size = 200000000"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop() })
	t.Logf("node %s %s at %s", n.Name, n.Version, n.URL)
	var files [][]byte
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	if users > 0 {
		files = append(files, reproDefinitions(users))
	}
	for _, data := range files {
		t0 := time.Now()
		if err := n.PostDefinitions(ctx, data); err != nil {
			t.Fatal(err)
		}
		t.Logf("import of %d bytes: %s", len(data), time.Since(t0).Round(time.Millisecond))
	}
	before := exportCounts(ctx, n)
	t.Logf("before restart: %v", before)
	for round := 1; round <= reproRounds(); round++ {
		if os.Getenv("WARREN_RESTART_KILL") == "1" {
			if err := n.Kill(); err != nil {
				t.Fatal(err)
			}
		} else {
			if out, err := n.Ctl(ctx, "stop"); err != nil {
				t.Fatal(out, err)
			}
			for n.Running() {
				time.Sleep(100 * time.Millisecond)
			}
		}
		var (
			wg   sync.WaitGroup
			stop = make(chan struct{})
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			first := time.Time{}
			last := ""
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				got := exportCounts(ctx, n)
				if got == nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				if first.IsZero() {
					first = time.Now()
				}
				mark := ""
				if fmt.Sprint(got) != fmt.Sprint(before) {
					mark = "  DIFFERS"
				}
				if fmt.Sprint(got) != last {
					t.Logf("round %d +%s answer %d: %v%s", round, time.Since(start).Round(time.Millisecond), i, got, mark)
					last = fmt.Sprint(got)
				}
				if time.Since(first) > 8*time.Second {
					t.Logf("round %d: %d answers", round, i)
					return
				}
			}
		}()
		if err := n.Restart(ctx, 0); err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		wg.Wait()
	}
}

func reproRounds() int {
	if r, _ := strconv.Atoi(os.Getenv("WARREN_RESTART_ROUNDS")); r > 0 {
		return r
	}
	return 1
}

// exportCounts is how many objects of each kind GET /api/definitions
// lists, or nil when the API does not answer 200.
func exportCounts(ctx context.Context, n *rabbitmqtest.Node) map[string]int {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", n.URL+"/api/definitions", nil)
	req.SetBasicAuth(n.Admin, n.AdminPassword)
	resp, err := reproConnection.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return map[string]int{"status": resp.StatusCode}
	}
	var doc map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return map[string]int{"decode-error": 1}
	}
	counts := map[string]int{}
	for _, k := range []string{"users", "vhosts", "permissions", "topic_permissions", "parameters", "policies", "exchanges", "queues", "bindings"} {
		var items []json.RawMessage
		json.Unmarshal(doc[k], &items)
		counts[k] = len(items)
	}
	return counts
}

var reproConnection = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// reproDefinitions is a file of users users in ten vhosts, each user with
// a permission, a topic permission for every tenth, a policy and a
// parameter per vhost.
func reproDefinitions(users int) []byte {
	doc := map[string][]map[string]any{}
	for v := 0; v < 10; v++ {
		vh := fmt.Sprintf("vhost-%d", v)
		doc["vhosts"] = append(doc["vhosts"], map[string]any{"name": vh})
		doc["policies"] = append(doc["policies"], map[string]any{"vhost": vh, "name": "p", "pattern": "^x", "apply-to": "queues", "priority": 0, "definition": map[string]any{"max-length": 10}})
		doc["parameters"] = append(doc["parameters"], map[string]any{"vhost": vh, "component": "vhost-limits", "name": "limits", "value": map[string]any{"max-queues": 100}})
	}
	for u := 0; u < users; u++ {
		name := fmt.Sprintf("user-%d", u)
		vh := fmt.Sprintf("vhost-%d", u%10)
		doc["users"] = append(doc["users"], map[string]any{"name": name, "password_hash": "", "tags": []string{}})
		doc["permissions"] = append(doc["permissions"], map[string]any{"user": name, "vhost": vh, "configure": ".*", "write": ".*", "read": ".*"})
		if u%10 == 0 {
			doc["topic_permissions"] = append(doc["topic_permissions"], map[string]any{"user": name, "vhost": vh, "exchange": "amq.topic", "write": ".*", "read": ".*"})
		}
	}
	data, _ := json.Marshal(doc)
	return data
}
