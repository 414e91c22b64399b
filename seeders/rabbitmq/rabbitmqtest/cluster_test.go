package rabbitmqtest

import (
	"context"
	"testing"
	"time"
)

// TestCluster starts a three-node cluster, sees every node share the
// cluster's users, kills one (kill -9) and starts it again.
func TestCluster(t *testing.T) {
	cl := SharedCluster(t)
	ctx := context.Background()
	if len(cl.Nodes) != 3 {
		t.Fatalf("a cluster of %d nodes", len(cl.Nodes))
	}
	// An object made through one node is there through every other.
	if err := cl.Nodes[1].Do(ctx, "PUT", "/api/vhosts/made-on-2", nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, node := range cl.Nodes {
		members, err := node.Members(ctx)
		if err != nil || len(members) != 3 {
			t.Errorf("%s sees members %v (%v), want 3", node.Name, members, err)
		}
		if err := node.Do(ctx, "GET", "/api/vhosts/made-on-2", nil, nil); err != nil {
			t.Errorf("%s: %v", node.Name, err)
		}
	}
	start := time.Now()
	if err := cl.Kill(2); err != nil {
		t.Fatal(err)
	}
	if cl.Nodes[2].Running() {
		t.Fatal("node 3 still runs after Kill")
	}
	if err := cl.Nodes[2].Do(ctx, "GET", "/api/overview", nil, nil); err == nil {
		t.Error("a killed node still answers")
	}
	if err := cl.waitMembers(ctx, cl.Nodes[0], 30*time.Second); err != nil {
		t.Errorf("the others do not see node 3 gone: %v", err)
	}
	if err := cl.Restart(ctx, 2); err != nil {
		t.Fatal(err)
	}
	t.Logf("kill and restart: %s", time.Since(start))
	if err := cl.Nodes[2].Do(ctx, "GET", "/api/vhosts/made-on-2", nil, nil); err != nil {
		t.Errorf("node 3 after restart: %v", err)
	}
	// Reset works across the cluster.
	cl = SharedCluster(t)
	if err := cl.Nodes[2].Do(ctx, "GET", "/api/vhosts/made-on-2", nil, nil); err == nil {
		t.Error("the vhost is still there after Reset")
	}
}
