package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// startingBroker is a TCP front for a node that is not there yet: until
// target is set it drops every connection (as a pod whose broker has not
// opened its port yet), then it forwards to the node.
type startingBroker struct {
	l      net.Listener
	target atomic.Value // "127.0.0.1:port"
	wg     sync.WaitGroup
}

func newStartingBroker(t *testing.T) *startingBroker {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &startingBroker{l: l}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			addr, _ := b.target.Load().(string)
			if addr == "" {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				up, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer up.Close()
				go io.Copy(up, c)
				io.Copy(c, up)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); b.wg.Wait() })
	return b
}

func (b *startingBroker) URL() string { return "http://" + b.l.Addr().String() }

// TestApplyWaitsForAStartingBroker is the post-deploy job: warren apply
// --wait starts before the broker does (a node booting from warren boot's
// definitions, so the files' administrator exists only once the boot-time
// import ran), waits, applies, and its output reads well in a job log: no
// colors, no progress bar, plain lines.
func TestApplyWaitsForAStartingBroker(t *testing.T) {
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	t.Setenv("OPS_PASSWORD", "ops-password-1")
	t.Setenv("APP_PASSWORD", "app-password-1")
	seed := writeTemp(t, "seed.yaml", "users:\n  - {name: ops, password: {env: OPS_PASSWORD}, tags: [administrator]}\nvhosts:\n  - {name: orders}\npermissions:\n  - {user: ops, vhost: orders, configure: \".*\", write: \".*\", read: \".*\"}\n")
	dir := t.TempDir()
	if code, out, errOut := warren(t, "boot", seed, "--out", dir, "--node-path", "{{dir}}/definitions.json"); code != exitOK {
		t.Fatalf("boot: exit %d\n%s%s", code, out, errOut)
	}
	conf, _ := os.ReadFile(filepath.Join(dir, "10-warren-definitions.conf"))
	var config []string
	for _, l := range strings.Split(string(conf), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			config = append(config, l)
		}
	}
	// What the job applies: more than the seed.
	job := writeTemp(t, "job.yaml", "users:\n  - {name: ops, password: {env: OPS_PASSWORD}, tags: [administrator]}\n  - {name: app, password: {env: APP_PASSWORD}, tags: []}\nvhosts:\n  - {name: orders}\npermissions:\n  - {user: ops, vhost: orders, configure: \".*\", write: \".*\", read: \".*\"}\n  - {user: app, vhost: orders, configure: \"^app\\\\.\", write: \".*\", read: \".*\"}\nqueues:\n  - {name: orders.incoming, vhost: orders, arguments: {x-queue-type: quorum}}\n")

	front := newStartingBroker(t)
	t.Setenv("WARREN_URL", front.URL())
	t.Setenv("WARREN_USERNAME", "ops")
	t.Setenv("WARREN_PASSWORD", "ops-password-1")
	t.Setenv("NO_COLOR", "") // set but empty still means no color; the output is not a terminal anyway
	type result struct {
		code        int
		out, errOut string
		took        time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		var stdout, stderr bytes.Buffer
		code := run([]string{"warren", "apply", "--yes", "--wait", "3m", job}, strings.NewReader(""), &stdout, &stderr)
		done <- result{code, stdout.String(), stderr.String(), time.Since(start)}
	}()
	time.Sleep(2 * time.Second) // the job is waiting on a port that drops it
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Config: config, NoAdmin: true,
		Files: map[string]string{"definitions.json": filepath.Join(dir, "definitions.json")}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	// The management API answers (Start returned); the boot-time import may
	// still be running.
	front.target.Store(fmt.Sprintf("127.0.0.1:%d", n.MgmtPort))
	var r result
	select {
	case r = <-done:
	case <-time.After(4 * time.Minute):
		t.Fatal("warren apply --wait did not return")
	}
	t.Logf("on RabbitMQ %s: apply --wait returned after %s:\n%s%s", n.Version, r.took.Round(time.Second), r.out, r.errOut)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	log := r.out + r.errOut
	if strings.ContainsAny(log, "\x1b\r") {
		t.Errorf("the job log has escape sequences or carriage returns: %q", log)
	}
	for _, want := range []string{`+ user "app"`, `+ queue "orders.incoming" on vhost "orders"`, "The broker matches the files."} {
		if !strings.Contains(log, want) {
			t.Errorf("the job log lacks %q", want)
		}
	}
	// It says that it waits, once, and when the broker is ready.
	if strings.Count(r.errOut, "warren: waiting up to 3m0s for 1 of 1 nodes") != 1 || !strings.Contains(r.errOut, "warren: 1 of 1 nodes ready") {
		t.Errorf("the job log does not say it waited:\n%s", r.errOut)
	}
	mustInSync(t, job)
}
