package main

import (
	"strings"
	"testing"
)

// cellsOf counts a markdown table row's cells: the |s that no odd run of
// backslashes escapes, less one.
func cellsOf(row string) int {
	n, bs := 0, 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			bs++
			continue
		case '|':
			if bs%2 == 0 {
				n++
			}
		}
		bs = 0
	}
	return n - 1
}

// TestAccessMarkdownTables: names and patterns with | \ * _ keep every row
// of warren access --format markdown's tables as wide as its header: a |
// in a user's or a queue's name, or a \| in a pattern, no longer ends a
// cell early.
func TestAccessMarkdownTables(t *testing.T) {
	defs := writeTemp(t, "defs.yaml", `
vhosts: [{name: v}]
users: [{name: 'x|y', password_hash: "", tags: []}, {name: 'a_b_c', password_hash: "", tags: []}]
permissions:
  - {user: 'x|y', vhost: v, configure: '^(a\|b|c)$', write: '.*', read: '^q\*$'}
  - {user: 'a_b_c', vhost: v, configure: '', write: '', read: '.*'}
queues: [{name: 'a|b', vhost: v, durable: true}, {name: 'q*', vhost: v, durable: true}, {name: 'back\slash', vhost: v, durable: true}]
`)
	for _, args := range [][]string{{"--vhost", "v"}, {"--user", "x|y"}, {"--resource", "queue:v/a|b"}, {"--resource", "queue:v/q*"}} {
		code, out, errOut := warren(t, append([]string{"access", defs, "--format", "markdown"}, args...)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errOut)
		}
		width := -1
		for _, line := range strings.Split(out, "\n") {
			if !strings.HasPrefix(line, "|") {
				width = -1 // a table ends
				continue
			}
			if width < 0 {
				width = cellsOf(line)
				continue
			}
			if got := cellsOf(line); got != width {
				t.Errorf("%v: a row of %d cells under a header of %d:\n%s\n%s", args, got, width, line, out)
			}
		}
	}
}
