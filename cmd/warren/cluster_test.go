package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// These tests run warren against the test binary's shared three-node
// cluster: warren is given every node's URL, and nodes die under it.

// useCluster points warren at urls, as the cluster's administrator.
func useCluster(t *testing.T, cl *rabbitmqtest.Cluster, urls ...string) {
	t.Setenv("WARREN_URL", strings.Join(urls, ","))
	t.Setenv("WARREN_USERNAME", cl.Admin)
	t.Setenv("WARREN_PASSWORD", cl.AdminPassword)
	t.Setenv("APP_PASSWORD", "app-password-1")
}

// fleetDefs is a vhost with n users, their permissions, n exchanges and n
// bindings between them: 4n+1 objects.
func fleetDefs(t *testing.T, n int) string {
	doc := map[string][]map[string]any{
		"vhosts": {{"name": "fleet"}},
	}
	for i := range n {
		user := fmt.Sprintf("app-%04d", i)
		doc["users"] = append(doc["users"], map[string]any{"name": user, "password": map[string]any{"env": "APP_PASSWORD"}, "tags": []string{}})
		doc["permissions"] = append(doc["permissions"], map[string]any{"user": user, "vhost": "fleet", "configure": "^" + user, "write": ".*", "read": ".*"})
		doc["exchanges"] = append(doc["exchanges"], map[string]any{"name": fmt.Sprintf("ex-%04d", i), "vhost": "fleet", "type": "topic"})
		doc["bindings"] = append(doc["bindings"], map[string]any{"vhost": "fleet", "source": fmt.Sprintf("ex-%04d", i),
			"destination": fmt.Sprintf("ex-%04d", (i+1)%n), "destination_type": "exchange", "routing_key": "orders.#"})
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "fleet.json", string(data))
}

// countFleet counts the users app-* and the exchanges of vhost fleet that
// node sees.
func countFleet(node *rabbitmqtest.Node) int {
	var users []struct{ Name string }
	if err := node.Do(context.Background(), "GET", "/api/users?columns=name", nil, &users); err != nil {
		return -1
	}
	n := 0
	for _, u := range users {
		if strings.HasPrefix(u.Name, "app-") {
			n++
		}
	}
	return n + countExchanges(node)
}

// countExchanges counts the exchanges of vhost fleet that node sees.
func countExchanges(node *rabbitmqtest.Node) int {
	var xs []struct{ Name, Vhost string }
	if err := node.Do(context.Background(), "GET", "/api/exchanges?columns=name,vhost", nil, &xs); err != nil {
		return -1
	}
	n := 0
	for _, x := range xs {
		if x.Vhost == "fleet" && strings.HasPrefix(x.Name, "ex-") {
			n++
		}
	}
	return n
}

// A node dies (kill -9) in the middle of an apply of 3,001 objects (while
// it imports them) and in the middle of a diff: warren goes on through
// another node, says only what is true, and a second run has nothing to
// do.
func TestClusterNodeDies(t *testing.T) {
	cl := rabbitmqtest.SharedCluster(t)
	ctx := context.Background()
	const n = 750
	defs := fleetDefs(t, n)
	first, second, third := cl.Nodes[0], cl.Nodes[1], cl.Nodes[2]

	// The apply: the first node dies half a second into the import.
	atKill := -1
	front, err := rabbitmqtest.NewFront(first, rabbitmqtest.FrontOptions{
		Match:  func(r *http.Request) bool { return r.Method == "POST" && r.URL.Path == "/api/definitions" },
		Delay:  500 * time.Millisecond,
		OnKill: func() { atKill = countFleet(second) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	useCluster(t, cl, front.URL, second.URL, third.URL)
	start := time.Now()
	code, _, errOut := warren(t, "apply", "--yes", defs)
	t.Logf("apply with a node killed: %s; %d of its %d users and exchanges were there at the kill", time.Since(start), atKill, 2*n)
	select {
	case <-front.Killed:
	default:
		t.Fatalf("the first node was not killed\n%s", errOut)
	}
	if code != exitOK || !strings.Contains(errOut, "The broker matches the files.") {
		t.Fatalf("apply with the first node killed: exit %d\n%s", code, errOut)
	}
	if atKill <= 0 || atKill >= 2*n {
		t.Errorf("%d of %d users and exchanges were there when the node died: it did not die in the middle of the import", atKill, 2*n)
	}

	// Run again, naming the dead node's own URL too: nothing to do.
	useCluster(t, cl, cl.URLs()...)
	code, out, errOut := warren(t, "apply", "--yes", defs)
	if code != exitOK || !strings.Contains(out, "No changes") {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if want := "warren: warning: not using " + first.URL + ": not answering"; !strings.Contains(errOut, want) {
		t.Errorf("the dead node is not named:\n%s\nwant %q", errOut, want)
	}
	// Back, the node has what the others took.
	if err := cl.Restart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	useCluster(t, cl, first.URL)
	if code, out, errOut := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("diff through the restarted node: exit %d\n%s\n%s", code, out, errOut)
	}

	// The diff: some drift, and the first node dies when warren reads the
	// exchanges. The plan is the one a diff through a healthy node shows.
	grant := "/api/permissions/fleet/" + cl.Admin
	if err := second.Do(ctx, "PUT", grant, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := second.Do(ctx, "DELETE", fmt.Sprintf("/api/exchanges/fleet/ex-%04d", i*100), nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := second.Do(ctx, "DELETE", grant, nil, nil); err != nil {
		t.Fatal(err)
	}
	useCluster(t, cl, second.URL)
	code, want, errOut := warren(t, "diff", defs)
	if code != exitDrift || strings.Count(want, "+ exchange") != 5 {
		t.Fatalf("diff through the second node: exit %d\n%s\n%s", code, want, errOut)
	}
	front, err = rabbitmqtest.NewFront(first, rabbitmqtest.FrontOptions{
		Match: func(r *http.Request) bool {
			return r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/api/exchanges")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	useCluster(t, cl, front.URL, second.URL, third.URL)
	code, got, errOut := warren(t, "diff", defs)
	select {
	case <-front.Killed:
	default:
		t.Fatalf("the first node was not killed\n%s", errOut)
	}
	if code != exitDrift || got != want {
		t.Fatalf("diff with the first node killed: exit %d\n%s\n%s\nwant the plan\n%s", code, got, errOut, want)
	}
	if code, _, errOut := warren(t, "apply", "--yes", defs); code != exitOK {
		t.Fatalf("apply after the diff: exit %d\n%s", code, errOut)
	}
	useCluster(t, cl, cl.URLs()...)
	if code, out, errOut := warren(t, "diff", defs); code != exitOK {
		t.Fatalf("diff at the end: exit %d\n%s\n%s", code, out, errOut)
	}
}

// A node that answers but is not a member of the cluster (a standalone
// node, one that has not joined) is named and not used; --wait waits for
// every node named, or a quorum.
func TestClusterStrangersAndWait(t *testing.T) {
	cl := rabbitmqtest.SharedCluster(t)
	stranger := rabbitmqtest.Shared(t) // a standalone node
	ctx := context.Background()
	// The stranger takes the cluster's administrator too: only membership
	// tells it apart. (Both are the harness's user, warren-harness, with
	// other passwords: the stranger's is given back, for the tests that use
	// it after.)
	if err := stranger.Do(ctx, "PUT", "/api/users/"+cl.Admin, map[string]any{"password": cl.AdminPassword, "tags": "administrator"}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		body := map[string]any{"password": stranger.AdminPassword, "tags": "administrator"}
		if err := stranger.Call(ctx, cl.Admin, cl.AdminPassword, "PUT", "/api/users/"+stranger.Admin, body, nil); err != nil {
			t.Errorf("giving the stranger its administrator's password back: %v", err)
		}
	})
	defs := writeTemp(t, "defs.yaml", "vhosts:\n  - {name: one}\n")

	useCluster(t, cl, stranger.URL, cl.Nodes[0].URL, cl.Nodes[1].URL)
	code, _, errOut := warren(t, "apply", "--yes", defs)
	if code != exitOK {
		t.Fatalf("apply with a stranger among the URLs: exit %d\n%s", code, errOut)
	}
	want := fmt.Sprintf("warren: warning: not using %s: node %s is not a member of the cluster of %s", stranger.URL, stranger.Name, cl.Nodes[0].Name)
	if !strings.Contains(errOut, want) {
		t.Errorf("the stranger is not named:\n%s\nwant %q", errOut, want)
	}
	if err := stranger.Do(ctx, "GET", "/api/vhosts/one", nil, nil); err == nil {
		t.Error("the vhost was made on the stranger")
	}
	if err := cl.Nodes[2].Do(ctx, "GET", "/api/vhosts/one", nil, nil); err != nil {
		t.Errorf("the cluster has no vhost one: %v", err)
	}
	// One node of each: warren cannot tell which to trust.
	useCluster(t, cl, stranger.URL, cl.Nodes[0].URL)
	code, _, errOut = warren(t, "diff", defs)
	if code != exitError || !strings.Contains(errOut, "the URLs given are not nodes of one cluster") || !strings.Contains(errOut, stranger.Name) {
		t.Errorf("diff with a node of each: exit %d\n%s", code, errOut)
	}

	// The third node's app is stopped (rabbitmqctl stop_app: the Erlang
	// node runs, the API does not): --wait for all gives up, for a quorum
	// goes on.
	third := cl.Nodes[2]
	if _, err := third.Ctl(ctx, "stop_app"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { third.Ctl(ctx, "start_app") })
	useCluster(t, cl, cl.URLs()...)
	defs = writeTemp(t, "defs.yaml", "vhosts:\n  - {name: two}\n")
	code, _, errOut = warren(t, "apply", "--yes", "--wait", "3s", defs)
	if code != exitError || !strings.Contains(errOut, "the cluster was (2 of 3 nodes ready, --wait-for needs 3) not ready within 3s") ||
		!strings.Contains(errOut, third.URL+": not answering") {
		t.Fatalf("--wait 3s with a node down: exit %d\n%s", code, errOut)
	}
	if err := cl.Nodes[0].Do(ctx, "GET", "/api/vhosts/two", nil, nil); err == nil {
		t.Fatal("apply went on although the cluster was not ready")
	}
	code, _, errOut = warren(t, "apply", "--yes", "--wait", "30s", "--wait-for", "quorum", defs)
	if code != exitOK || !strings.Contains(errOut, "not using "+third.URL) {
		t.Fatalf("--wait-for quorum with a node down: exit %d\n%s", code, errOut)
	}

	// The node's app starts late: --wait waits for it.
	defs = writeTemp(t, "defs.yaml", "vhosts:\n  - {name: three}\n")
	var wg sync.WaitGroup
	var restartErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(2 * time.Second)
		_, restartErr = third.Ctl(ctx, "start_app")
	}()
	start := time.Now()
	code, _, errOut = warren(t, "apply", "--yes", "--wait", "120s", defs)
	t.Logf("apply --wait with a node whose app starts 2 s late: %s", time.Since(start))
	wg.Wait()
	if restartErr != nil {
		t.Fatal(restartErr)
	}
	if code != exitOK || !strings.Contains(errOut, "warren: waiting up to 2m0s for 3 of 3 nodes; 2 ready") ||
		!strings.Contains(errOut, "warren: 3 of 3 nodes ready") || strings.Contains(errOut, "not using") {
		t.Fatalf("--wait with a node that starts late: exit %d\n%s", code, errOut)
	}
}
