// Package operation is warren's engine between the command line and the
// seeders: diff, apply, saved plans, export, the export file as a target,
// fleets, migrate, connecting and waiting for a cluster. Each operation
// takes a typed request and a UI (where diagnostics, plans, notes,
// confirmation, progress and warnings go) and returns a typed result. It
// never sees a flag: package main turns flags into requests and renders
// results; a fleet, migrate and any other caller build requests of their
// own and call the same functions.
//
// The arrows: cmd/warren → operation → seeders/* → definitions/plan →
// definitions → schema. The inventory (operation/inventory) gives fleets
// their brokers and paths; operation loads the files.
package operation
