// Package plan is the diff step of load → validate → diff → apply: Diff
// compares the files' definitions (package definitions, loaded and
// checked) with a broker's and returns a Plan, the value apply carries out
// and nothing else. Each Change has a typed Step (create, update, replace,
// delete, re-bind after a replace, borrow access and take it back, remove
// guest, write a user whole, …) and a typed Addr; a target's own rules come
// in as DiffOptions. Ordering and safety (keep an administrator, the acting
// user's password last, nothing deleted unless pruning) are decided here,
// never during apply.
//
// A SavedPlan (planfile.go) is the contract between review and apply:
// warren diff -o writes one, warren apply PLAN.json makes the plan again and
// carries it out only when nothing differs (Differences). Its plan is the
// JSON shape of warren diff --format json (PlanJSON), which package render
// makes.
//
// Imports run one way: render → plan → definitions → schema. The package is
// pure: no network, no clock.
package plan
