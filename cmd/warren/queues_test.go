package main

import (
	"context"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestPruneQuorumQueues: quorum queues do not take DELETE ?if-empty=true
// (the broker answers 400 whether they are empty or not). An empty one is
// pruned; one that holds a message is kept and named, with its count.
func TestPruneQuorumQueues(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	applyEnv(t, n)
	ctx := context.Background()
	for _, q := range []string{"q-empty", "q-full"} {
		if err := n.Do(ctx, "PUT", "/api/queues/%2F/"+q, map[string]any{"durable": true, "arguments": map[string]any{"x-queue-type": "quorum"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, n, "/", "q-full")
	waitForMessages(t, n, "/", "q-full", 1)
	keepFull := writeTemp(t, "keep.yaml", "queues:\n  - {name: q-full, vhost: /, arguments: {x-queue-type: quorum}}\n")
	if code, out, errOut := warren(t, "apply", "--yes", "--prune", keepFull); code != exitOK {
		t.Fatalf("pruning an empty quorum queue: exit %d\n%s%s", code, out, errOut)
	}
	mustInSync(t, "--prune", keepFull)
	none := writeTemp(t, "none.yaml", "queues: []\n")
	code, out, errOut := warren(t, "apply", "--yes", "--prune", none)
	if code != exitError || !strings.Contains(errOut, `queue "q-full" on vhost "/" holds 1 message`) || !strings.Contains(errOut, "--destroy-messages") {
		t.Fatalf("pruning a quorum queue with a message: exit %d\n%s%s", code, out, errOut)
	}
	waitForMessages(t, n, "/", "q-full", 1)
}
