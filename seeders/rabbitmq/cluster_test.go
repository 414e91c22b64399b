package rabbitmq

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Which URLs are trusted is decided from what the nodes say about each
// other; what real nodes say is in cmd/warren's TestCluster* (a real
// cluster, a standalone node, nodes killed). Partitions cannot be made
// here, so these views are written out.
func TestClusterMembers(t *testing.T) {
	a := NodeView{URL: "http://a", Node: "a@h", Running: []string{"a@h", "b@h", "c@h"}}
	b := NodeView{URL: "http://b", Node: "b@h", Running: []string{"a@h", "b@h", "c@h"}}
	c := NodeView{URL: "http://c", Node: "c@h", Running: []string{"a@h", "b@h", "c@h"}}
	down := NodeView{URL: "http://c", Err: errors.New("connection refused")}
	alone := NodeView{URL: "http://x", Node: "x@h", Running: []string{"x@h"}}
	// c cut off: it sees only itself; a and b see it stopped.
	cutA := NodeView{URL: "http://a", Node: "a@h", Running: []string{"a@h", "b@h"}, Stopped: []string{"c@h"}, Partitions: []string{"c@h"}}
	cutB := NodeView{URL: "http://b", Node: "b@h", Running: []string{"a@h", "b@h"}, Stopped: []string{"c@h"}}
	cutC := NodeView{URL: "http://c", Node: "c@h", Running: []string{"c@h"}, Stopped: []string{"a@h", "b@h"}}
	tests := []struct {
		name        string
		views       []NodeView
		members     []string
		partitioned int
		problem     map[string]string // URL → part of its problem
	}{
		{"one cluster", []NodeView{a, b, c}, []string{"http://a", "http://b", "http://c"}, 0, nil},
		{"a node down", []NodeView{a, b, down}, []string{"http://a", "http://b"}, 0, map[string]string{"http://c": "not answering"}},
		{"a standalone node", []NodeView{alone, a, b}, []string{"http://a", "http://b"}, 0,
			map[string]string{"http://x": "node x@h is not a member of the cluster of a@h"}},
		{"one of each: a tie", []NodeView{alone, a}, nil, 0, map[string]string{"http://x": "node x@h, which sees x@h running", "http://a": "node a@h, which sees a@h, b@h, c@h running"}},
		{"a node cut off", []NodeView{cutA, cutB, cutC}, []string{"http://a", "http://b"}, 1,
			map[string]string{"http://c": "node c@h is cut off from the cluster of a@h"}},
		{"nobody answers", []NodeView{down}, nil, 0, map[string]string{"http://c": "not answering: connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &ClusterView{Nodes: tt.views, Members: members(tt.views)}
			if diff := cmp.Diff(tt.members, v.Members); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
			if got := len(v.Partitioned()); got != tt.partitioned {
				t.Errorf("partitioned: %v", v.Partitioned())
			}
			for _, nv := range tt.views {
				got, want := v.Problem(nv), tt.problem[nv.URL]
				if (want == "") != (got == "") || !strings.Contains(got, want) {
					t.Errorf("%s: problem %q, want %q", nv.URL, got, want)
				}
			}
		})
	}
}
