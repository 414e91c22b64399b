package rabbitmqtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Cluster is a RabbitMQ cluster of nodes on this machine: each node with
// its own name, ports and directory, all with one Erlang cookie and one
// epmd, joined as an operator joins them (rabbitmqctl stop_app;
// join_cluster first@localhost; start_app). Its cluster_name is left
// unset, as on most clusters: each node then reports its own name.
type Cluster struct {
	// Nodes are the members, the first the one the others joined. Each
	// node's Admin is the cluster's administrator.
	Nodes []*Node
	// Admin and AdminPassword log in as the cluster's administrator, on
	// any node.
	Admin, AdminPassword string
}

// StartCluster starts n nodes at once and joins them into one cluster.
// opts applies to every node; its Name is a prefix ("" picks one) and its
// Dir must be "" (each node gets a temporary directory).
func StartCluster(ctx context.Context, n int, opts Options) (*Cluster, error) {
	if short() {
		return nil, ErrShort
	}
	if n < 1 {
		return nil, errors.New("a cluster needs a node")
	}
	if opts.Dir != "" || opts.NoAdmin {
		return nil, errors.New("a cluster's nodes take temporary directories and an administrator of the harness")
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	prefix := opts.Name
	if prefix == "" {
		prefix = "warren-" + randomHex(3)
	}
	opts.Cookie, opts.EpmdPort = randomHex(20), ports[0]
	cl := &Cluster{Nodes: make([]*Node, n)}
	// Booting is most of the time: all nodes boot at once. Only the first
	// gets an administrator; joining resets the others' users.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := opts
			o.Name = fmt.Sprintf("%s-%d", prefix, i+1)
			o.NoAdmin = i > 0
			cl.Nodes[i], errs[i] = Start(ctx, o)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		cl.Stop()
		return nil, err
	}
	first := cl.Nodes[0]
	cl.Admin, cl.AdminPassword = first.Admin, first.AdminPassword
	// Joins one after another: each changes the cluster's schema.
	for _, node := range cl.Nodes[1:] {
		if err := cl.join(ctx, node); err != nil {
			cl.Stop()
			return nil, err
		}
	}
	if err := cl.waitMembers(ctx, first, 60*time.Second); err != nil {

		cl.Stop()
		return nil, err
	}
	return cl, nil
}

// join makes node a member of the first node's cluster.
func (cl *Cluster) join(ctx context.Context, node *Node) error {
	for _, args := range [][]string{{"stop_app"}, {"join_cluster", cl.Nodes[0].Name}, {"start_app"}} {
		if _, err := node.Ctl(ctx, args...); err != nil {
			return fmt.Errorf("joining %s to %s: %w", node.Name, cl.Nodes[0].Name, err)
		}
	}
	node.Admin, node.AdminPassword = cl.Admin, cl.AdminPassword
	if err := node.waitReady(ctx, 60*time.Second, node.Admin, node.AdminPassword); err != nil {
		return fmt.Errorf("%s after joining the cluster: %w", node.Name, err)
	}
	node.Version = node.readVersion(ctx)
	return nil
}

// Members lists the cluster's nodes as one node sees them (GET /api/nodes):
// the names of those it sees running.
func (n *Node) Members(ctx context.Context) ([]string, error) {
	var nodes []struct {
		Name    string `json:"name"`
		Running bool   `json:"running"`
	}
	if err := n.Do(ctx, "GET", "/api/nodes?columns=name,running", nil, &nodes); err != nil {
		return nil, err
	}
	var out []string
	for _, x := range nodes {
		if x.Running {
			out = append(out, x.Name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// waitMembers waits until via sees every node that runs here running.
func (cl *Cluster) waitMembers(ctx context.Context, via *Node, timeout time.Duration) error {
	var want []string
	for _, node := range cl.Nodes {
		if node.Running() {
			want = append(want, node.Name)
		}
	}
	slices.Sort(want)
	deadline := time.Now().Add(timeout)
	var got []string
	var err error
	for time.Now().Before(deadline) {
		if got, err = via.Members(ctx); err == nil && slices.Equal(got, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("the cluster did not form within %s: %s sees %v running (%v), want %v", timeout, via.Name, got, err, want)
}

// URLs are the nodes' management API URLs, in order.
func (cl *Cluster) URLs() []string {
	out := make([]string, len(cl.Nodes))
	for i, node := range cl.Nodes {
		out[i] = node.URL
	}
	return out
}

// Kill kills node i at once (kill -9 of its process group).
func (cl *Cluster) Kill(i int) error { return cl.Nodes[i].Kill() }

// Restart starts node i again after Kill and waits until it is back in
// the cluster.
func (cl *Cluster) Restart(ctx context.Context, i int) error {
	if err := cl.Nodes[i].Restart(ctx, 0); err != nil {
		return err
	}
	return cl.waitMembers(ctx, cl.Nodes[i], 60*time.Second)
}

// Heal restarts every node that is not running and waits until all are
// members again.
func (cl *Cluster) Heal(ctx context.Context) error {
	for i, node := range cl.Nodes {
		if !node.Running() {
			if err := cl.Restart(ctx, i); err != nil {
				return err
			}
		}
	}
	return cl.waitMembers(ctx, cl.Nodes[0], 60*time.Second)
}

// Reset brings the cluster back to a blank node's state (see Node.Reset),
// after restarting any node that was killed.
func (cl *Cluster) Reset(ctx context.Context) error {
	if err := cl.Heal(ctx); err != nil {
		return err
	}
	return cl.Nodes[0].Reset(ctx)
}

// Stop stops every node, then the cluster's epmd, and removes the nodes'
// directories.
func (cl *Cluster) Stop() error {
	errs := make([]error, len(cl.Nodes))
	var wg sync.WaitGroup
	for i, node := range cl.Nodes {
		if node == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = node.Stop()
		}()
	}
	wg.Wait()
	for _, node := range cl.Nodes {
		if node != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			node.stopEpmd(ctx)
			cancel()
			break
		}
	}
	return errors.Join(errs...)
}
