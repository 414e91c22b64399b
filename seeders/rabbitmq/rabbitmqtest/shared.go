package rabbitmqtest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
)

var (
	sharedMu   sync.Mutex
	sharedNode *Node
	sharedErr  error
)

// Shared returns the test binary's shared node, starting it on first use,
// reset to a blank node's state. Tests that use it must not run in
// parallel with each other. When RabbitMQ cannot be had the test fails in
// CI (CI set) and is skipped elsewhere, saying why; under -short it is
// skipped without starting a node.
func Shared(t testing.TB) *Node {
	t.Helper()
	if short() {
		Unavailable(t, ErrShort)
	}
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedNode == nil && sharedErr == nil {
		sharedNode, sharedErr = Start(context.Background(), Options{})
	}
	if sharedErr != nil {
		Unavailable(t, sharedErr)
	}
	// Logged, so a failing test says which RabbitMQ it ran on.
	t.Logf("on RabbitMQ %s (node %s, %s)", sharedNode.Version, sharedNode.Name, sharedNode.URL)
	if err := sharedNode.Reset(context.Background()); err != nil {
		t.Fatalf("resetting the shared RabbitMQ %s node: %v", sharedNode.Version, err)
	}
	return sharedNode
}

// Unavailable fails (in CI) or skips (elsewhere) a test that needs a node.
// Under -short (make check) it skips, in CI too: no node is started then.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if short() {
		t.Skip(ErrShort)
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("a real RabbitMQ %s node is required in CI: %v", Series(), err)
	}
	t.Skipf("no RabbitMQ %s node (%v); make test prepares RabbitMQ 3.10 and 4.0 and runs this", Series(), err)
}

// Main runs a package's tests and then stops the shared node. Call it from
// TestMain: func TestMain(m *testing.M) { rabbitmqtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the shared node and the shared cluster, if they were
// started.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedNode != nil {
		if err := sharedNode.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the shared RabbitMQ node:", err)
		}
		sharedNode = nil
	}
	sharedClusterMu.Lock()
	defer sharedClusterMu.Unlock()
	if sharedCluster != nil {
		if err := sharedCluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the shared RabbitMQ cluster:", err)
		}
		sharedCluster = nil
	}
}

var (
	sharedClusterMu  sync.Mutex
	sharedCluster    *Cluster
	sharedClusterErr error
)

// SharedCluster returns the test binary's shared three-node cluster,
// starting it on first use, with every node running (a node a test killed
// is started again) and reset to a blank node's state. Tests that use it
// must not run in parallel with each other. Main (or StopShared) stops it.
// Like Shared, it skips the test under -short without starting a node.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	if short() {
		Unavailable(t, ErrShort)
	}
	sharedClusterMu.Lock()
	defer sharedClusterMu.Unlock()
	if sharedCluster == nil && sharedClusterErr == nil {
		sharedCluster, sharedClusterErr = StartCluster(context.Background(), 3, Options{})
	}
	if sharedClusterErr != nil {
		Unavailable(t, sharedClusterErr)
	}
	cl := sharedCluster
	t.Logf("on a RabbitMQ %s cluster: %v", cl.Nodes[0].Version, cl.URLs())
	if err := cl.Reset(context.Background()); err != nil {
		t.Fatalf("resetting the shared RabbitMQ %s cluster: %v", cl.Nodes[0].Version, err)
	}
	return cl
}
