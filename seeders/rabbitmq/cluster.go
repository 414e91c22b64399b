package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-tool/warren/seeders/internal/httpapi"
)

// NodeView is what one of a client's URLs says about the cluster.
type NodeView struct {
	URL string
	// Err is why the URL gave no view: it did not answer, or refused the
	// user. The other fields are then empty.
	Err error
	// Node is the node's name (GET /api/overview "node").
	Node string
	// Running are the nodes it sees running, Stopped those it knows of but
	// sees down (GET /api/nodes), sorted.
	Running, Stopped []string
	// Partitions are the nodes it reports a network partition with.
	Partitions []string
	// Alarm is why its health check fails (GET /api/health/checks/alarms);
	// nil when healthy.
	Alarm error
}

// ClusterView is what a client's URLs say about the cluster they should
// all be nodes of, and which of them warren trusts.
type ClusterView struct {
	// Nodes are the views, in the order of the URLs.
	Nodes []NodeView
	// Members are the URLs of nodes of one cluster: each sees the others
	// running, and they are the most of the URLs that answered. Nodes that
	// answered and are not members are not that cluster's: a standalone
	// node, one that has not joined yet or was cut off by a partition.
	Members []string
}

// ErrNotOneCluster is the error when the URLs that answer are not nodes
// of one cluster (no cluster has more of them than another).
var ErrNotOneCluster = errors.New("the URLs given are not nodes of one cluster")

// InspectCluster asks every URL of the client at once who it is and which
// nodes it sees, and works out which URLs are nodes of one cluster. Each
// URL is asked once, without retries, within min(Timeout, 10s).
// GET /api/overview, GET /api/nodes, GET /api/health/checks/alarms
func (c *Client) InspectCluster(ctx context.Context) *ClusterView {
	v := &ClusterView{Nodes: make([]NodeView, len(c.bases))}
	var wg sync.WaitGroup
	for i, base := range c.bases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.Nodes[i] = c.onNode(base).inspect(ctx)
		}()
	}
	wg.Wait()
	v.Members = members(v.Nodes)
	return v
}

// onNode is a client that asks one node, once.
func (c *Client) onNode(base *url.URL) *Client {
	one := *c
	one.bases = []*url.URL{base}
	one.cur = new(atomic.Int64)
	one.cfg.Retries = 0
	one.cfg.Timeout = min(c.cfg.Timeout, 10*time.Second)
	return &one
}

func (c *Client) inspect(ctx context.Context) NodeView {
	v := NodeView{URL: c.URL()}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	o, err := c.Overview(ctx)
	if err != nil {
		v.Err = err
		return v
	}
	var nodes []struct {
		Name       string   `json:"name"`
		Running    bool     `json:"running"`
		Partitions []string `json:"partitions"`
	}
	if err := c.getJSON(ctx, "/api/nodes?columns=name,running,partitions", &nodes); err != nil {
		v.Err = err
		return v
	}
	v.Node = httpapi.Printable(o.Node)
	for _, n := range nodes {
		name := httpapi.Printable(n.Name)
		if n.Running {
			v.Running = append(v.Running, name)
		} else {
			v.Stopped = append(v.Stopped, name)
		}
		for _, p := range n.Partitions {
			if p = httpapi.Printable(p); !slices.Contains(v.Partitions, p) {
				v.Partitions = append(v.Partitions, p)
			}
		}
	}
	slices.Sort(v.Running)
	slices.Sort(v.Stopped)
	slices.Sort(v.Partitions)
	v.Alarm = c.Healthy(ctx)
	return v
}

// agree reports whether two nodes see each other running: they are of one
// cluster, and not cut off from each other.
func agree(a, b NodeView) bool {
	return slices.Contains(a.Running, b.Node) && slices.Contains(b.Running, a.Node)
}

// members picks, among the views that answered, the largest group that
// agrees with one node; none when two groups are as large.
func members(views []NodeView) []string {
	best, bestSize, tie := -1, 0, false
	for i, a := range views {
		if a.Err != nil {
			continue
		}
		size := 0
		for _, b := range views {
			if b.Err == nil && agree(a, b) {
				size++
			}
		}
		switch {
		case size > bestSize:
			best, bestSize, tie = i, size, false
		case size == bestSize && !agree(a, views[best]):
			tie = true
		}
	}
	if best < 0 || tie {
		return nil
	}
	var out []string
	for _, b := range views {
		if b.Err == nil && agree(views[best], b) {
			out = append(out, b.URL)
		}
	}
	return out
}

// Member reports whether url is one of the members.
func (v *ClusterView) Member(url string) bool { return slices.Contains(v.Members, url) }

// Healthy counts the members whose health check passes.
func (v *ClusterView) Healthy() int {
	n := 0
	for _, nv := range v.Nodes {
		if v.Member(nv.URL) && nv.Alarm == nil {
			n++
		}
	}
	return n
}

// Partitioned names the members that report a partition, as "node (with
// a, b)"; none on a cluster in one piece.
func (v *ClusterView) Partitioned() []string {
	var out []string
	for _, nv := range v.Nodes {
		if v.Member(nv.URL) && len(nv.Partitions) > 0 {
			out = append(out, fmt.Sprintf("%s (with %s)", nv.Node, strings.Join(nv.Partitions, ", ")))
		}
	}
	return out
}

// Problem is why a URL is not used, "" for a member.
func (v *ClusterView) Problem(nv NodeView) string {
	switch {
	case nv.Err != nil:
		return fmt.Sprintf("not answering: %v", nv.Err)
	case v.Member(nv.URL):
		return ""
	case len(v.Members) == 0:
		return fmt.Sprintf("node %s, which sees %s running", nv.Node, strings.Join(nv.Running, ", "))
	}
	var ref NodeView
	for _, m := range v.Nodes {
		if m.URL == v.Members[0] {
			ref = m
		}
	}
	if slices.Contains(nv.Running, ref.Node) || slices.Contains(ref.Stopped, nv.Node) {
		return fmt.Sprintf("node %s is cut off from the cluster of %s (it sees %s running; %s sees it %s): a partition, or a node still joining",
			nv.Node, ref.Node, strings.Join(nv.Running, ", "), ref.Node, seenAs(ref, nv.Node))
	}
	return fmt.Sprintf("node %s is not a member of the cluster of %s (it sees only %s running): a standalone node, or one that has not joined the cluster",
		nv.Node, ref.Node, strings.Join(nv.Running, ", "))
}

func seenAs(ref NodeView, node string) string {
	switch {
	case slices.Contains(ref.Running, node):
		return "running"
	case slices.Contains(ref.Stopped, node):
		return "stopped"
	}
	return "nowhere"
}

// UseOnly makes the client send its requests only to these of its URLs
// (as InspectCluster names them), in its own order. Call it before any
// request is in flight.
func (c *Client) UseOnly(urls []string) error {
	var kept []*url.URL
	for _, b := range c.bases {
		if slices.Contains(urls, b.String()) {
			kept = append(kept, b)
		}
	}
	if len(kept) == 0 {
		return errors.New("rabbitmq: none of the URLs is left to use")
	}
	c.bases = kept
	c.cur.Store(0)
	return nil
}

// URLs are the URLs the client sends its requests to.
func (c *Client) URLs() []string {
	out := make([]string, len(c.bases))
	for i, b := range c.bases {
		out[i] = b.String()
	}
	return out
}
