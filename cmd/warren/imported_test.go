package main

import (
	"context"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestVhostMetadataKept: a vhost whose metadata gives another description
// and other tags than its top level is applied, and a diff right after is
// empty, on every version: from 4.0.6 the import keeps the metadata's
// (warren warns W124 and compares with them), before it the top-level
// ones (and warren, speaking for the broker's version, says nothing).
func TestVhostMetadataKept(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	defs := writeTemp(t, "defs.json", `{"vhosts": [{"name": "described", "description": "top", "tags": ["a"], "metadata": {"description": "meta", "tags": ["b"]}}]}`)
	code, out, errOut := warren(t, "apply", "--yes", "--keep-guest", defs)
	if code != exitOK {
		t.Fatalf("apply on RabbitMQ %s: exit %d%s\n%s%s", n.Version, code, mismatch(n), out, errOut)
	}
	var v struct{ Description string }
	if err := n.Do(context.Background(), "GET", "/api/vhosts/described", nil, &v); err != nil {
		t.Fatal(err)
	}
	want := "top"
	if definitions.Rule(definitions.RuleVhostMetadataWins).AppliesTo(n.Version) {
		want = "meta"
	}
	if v.Description != want {
		t.Errorf("RabbitMQ %s kept description %q, want %q%s", n.Version, v.Description, want, mismatch(n))
	}
	// The warning is said for the broker's own version: where its import
	// keeps the metadata's.
	if warned := strings.Contains(errOut, "[vhost-metadata-description-tags-win]"); warned != (want == "meta") {
		t.Errorf("RabbitMQ %s: the warning naming the rule said: %v, want %v\n%s", n.Version, warned, want == "meta", errOut)
	}
	mustInSync(t, "--keep-guest", defs)
}
