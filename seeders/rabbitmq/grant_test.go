package rabbitmq_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders/rabbitmq"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestApplyCutOffBeforeTakeBackLeavesAMarkedGrant: an apply that creates a
// vhost is held right after its import, before it takes back the full
// permissions RabbitMQ grants the user that creates a vhost: what the
// broker holds then is what an apply killed there leaves. The grant is
// marked, and the next plan removes it; a diff afterwards is empty.
func TestApplyCutOffBeforeTakeBackLeavesAMarkedGrant(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	c := client(t, n)
	desired := parse(t, "defs.json", []byte(`{"vhosts": [{"name": "/"}, {"name": "fresh"}]}`))
	acting := plan.WithActingUser(n.Admin)
	p, _ := diff(t, c, desired, acting)

	imported, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- c.Apply(ctx, p, rabbitmq.ApplyOptions{Acting: n.Admin, Progress: func(pr rabbitmq.Progress) {
			if pr.What == "import" {
				once.Do(func() { close(imported); <-release })
			}
		}})
	}()
	select {
	case <-imported:
	case err := <-done:
		t.Fatalf("the apply ended before its import was reported: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the apply never imported")
	}
	defer func() {
		close(release)
		if err := <-done; err != nil {
			t.Errorf("the held apply, let go: %v", err)
		}
	}()

	grant := "/api/permissions/fresh/" + url.PathEscape(n.Admin)
	var perm struct{ Configure, Write, Read string }
	if err := n.Do(ctx, "GET", grant, nil, &perm); err != nil {
		t.Fatalf("no grant after the import (RabbitMQ grants the creating user full permissions): %v", err)
	}
	if perm.Configure != plan.TemporaryPattern || perm.Write != plan.TemporaryPattern || perm.Read != plan.TemporaryPattern {
		t.Fatalf("the grant an apply cut off here leaves is not marked: %+v", perm)
	}

	next, text := diff(t, c, desired, acting)
	want := `- permission "` + n.Admin + `" on vhost "fresh"  (` + plan.LeftoverGrantReason + `)`
	if !strings.Contains(text, want) {
		t.Fatalf("the next plan does not remove the grant; want %q:\n%s", want, text)
	}
	if err := c.Apply(ctx, next, rabbitmq.ApplyOptions{Acting: n.Admin}); err != nil {
		t.Fatal(err)
	}
	if err := n.Do(ctx, "GET", grant, nil, nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("the grant is still there after the next apply: %v", err)
	}
	if after, text := diff(t, c, desired, acting); !after.Empty() {
		t.Fatalf("diff after the apply is not empty:\n%s", text)
	}
}
