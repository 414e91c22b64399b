package migrate

import (
	"fmt"
	"io"
)

// Report writes the changes, the queues the federation drains and the
// problems, as migrate plan prints them. Deterministic; no secret (the
// upstream's URI is a reference, or has no password).
func (r *Result) Report(w io.Writer) {
	fmt.Fprintf(w, "Changes (%d):\n", len(r.Changes))
	for _, c := range r.Changes {
		fmt.Fprintf(w, "  %s\n", c)
	}
	fmt.Fprintf(w, "Queues the federation drains (%d):\n", len(r.Queues))
	for _, q := range r.Queues {
		fmt.Fprintf(w, "  queue %q on vhost %q: %s → %s\n", q.Name, q.Vhost, q.OldType, q.NewType)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(w, "Cannot be migrated automatically (%d):\n", len(r.Problems))
		for _, d := range r.Problems {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}
