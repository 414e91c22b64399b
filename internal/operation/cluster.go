package operation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq"
)

// joinCluster runs after the client is made, before any other request:
// with --wait it waits for the broker or cluster; with several URLs it
// checks that they are nodes of one cluster and uses only those that are
// (the others are named on standard error, and not trusted: a standalone
// node, one still joining, or one cut off by a partition).
func joinCluster(ctx context.Context, ui UI, client *rabbitmq.Client, wait time.Duration, waitFor string) error {
	urls := client.URLs()
	var view *rabbitmq.ClusterView
	if d := wait; d > 0 {
		need := len(urls)
		switch waitFor {
		case "all":
		case "quorum":
			need = len(urls)/2 + 1
		default:
			return fmt.Errorf("unknown --wait-for %q: use all or quorum", waitFor)
		}
		var err error
		if view, err = waitForCluster(ctx, ui.Log(), client, d, need); err != nil {
			return err
		}
	} else if len(urls) > 1 {
		view = client.InspectCluster(ctx)
		if err := unauthorized(view); err != nil {
			return err
		}
	}
	if view == nil {
		return nil
	}
	if len(view.Members) == 0 {
		return fmt.Errorf("%w; warren does not know which to trust:\n%s", rabbitmq.ErrNotOneCluster, describeNodes(view))
	}
	if p := view.Partitioned(); len(p) > 0 {
		return fmt.Errorf("the cluster is partitioned: %s; warren changes nothing and reads nothing until it heals (what one side took could be lost)", strings.Join(p, "; "))
	}
	if len(view.Members) == len(urls) {
		return nil
	}
	for _, nv := range view.Nodes {
		if problem := view.Problem(nv); problem != "" {
			logf(ui, "warren: warning: not using %s: %s", nv.URL, problem)
		}
	}
	return client.UseOnly(view.Members)
}

// unauthorized is the first 401 a node gave when no node took the user:
// waiting will not fix credentials. (A node that refuses the user while
// others take it is not a member: another cluster's, or a standalone.)
func unauthorized(view *rabbitmq.ClusterView) error {
	var first error
	for _, nv := range view.Nodes {
		var ae *rabbitmq.APIError
		switch {
		case nv.Err == nil:
			return nil
		case first == nil && errors.As(nv.Err, &ae) && ae.Status == 401:
			first = nv.Err
		}
	}
	return first
}

// waitForCluster asks every URL once a second until need of them answer
// as members of one cluster, in one piece, without alarms. It says on w
// when it starts waiting and each time the count of ready nodes changes:
// plain lines, for a job's log.
func waitForCluster(ctx context.Context, w io.Writer, client *rabbitmq.Client, d time.Duration, need int) (*rabbitmq.ClusterView, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	last := -1
	for {
		view := client.InspectCluster(ctx)
		if err := unauthorized(view); err != nil {
			return nil, err
		}
		ready := view.Healthy()
		if ready >= need && len(view.Partitioned()) == 0 {
			if last >= 0 {
				fmt.Fprintf(w, "warren: %d of %d nodes ready\n", ready, len(view.Nodes))
			}
			return view, nil
		}
		if ready != last {
			fmt.Fprintf(w, "warren: waiting up to %s for %d of %d nodes; %d ready\n", d, need, len(view.Nodes), ready)
			last = ready
		}
		select {
		case <-ctx.Done():
			what := "the broker was"
			if len(view.Nodes) > 1 {
				what = fmt.Sprintf("the cluster was (%d of %d nodes ready, --wait-for needs %d)", ready, len(view.Nodes), need)
			}
			return nil, fmt.Errorf("%s not ready within %s:\n%s", what, d, describeNodes(view))
		case <-time.After(time.Second):
		}
	}
}

// describeNodes says, one line per URL, what warren found there.
func describeNodes(view *rabbitmq.ClusterView) string {
	var b strings.Builder
	for _, nv := range view.Nodes {
		writeNode(&b, view, nv)
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeNode(w io.Writer, view *rabbitmq.ClusterView, nv rabbitmq.NodeView) {
	switch problem := view.Problem(nv); {
	case problem != "":
		fmt.Fprintf(w, "  %s: %s\n", nv.URL, problem)
	case nv.Alarm != nil:
		fmt.Fprintf(w, "  %s: node %s, a member, not healthy: %v\n", nv.URL, nv.Node, nv.Alarm)
	default:
		fmt.Fprintf(w, "  %s: node %s, a member, ready\n", nv.URL, nv.Node)
	}
}
