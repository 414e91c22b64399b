package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders"
)

// checkReferences checks what the files leave to the broker (a vhost or a
// permission's user no file defines, a binding's source or destination no
// file defines) against the live broker, before anything is planned or
// changed: what the broker's version would refuse is an error at its place
// (E112), a binding it would drop silently a warning (W170). The broker is
// read only for the kinds the files leave to it, and only for a RabbitMQ
// broker (a target that says its version).
func checkReferences(c *cli.Context, t seeders.Target, desired *definitions.Document) error {
	v, ok := t.(seeders.Versioned)
	if !ok {
		return nil
	}
	kinds := desired.ReferencedKinds()
	if len(kinds) == 0 {
		return nil
	}
	version, err := v.Version(c.Context)
	if err != nil {
		return err
	}
	live, err := t.Read(c.Context, kinds)
	if err != nil {
		return err
	}
	diags := desired.LiveReferences(live, version)
	printDiagnostics(c.App.ErrWriter, diags)
	if errs, _ := diags.Count(); errs > 0 {
		fmt.Fprintf(c.App.ErrWriter, "warren: %s against the broker (RabbitMQ %s); nothing was changed\n", plural(errs, "error"), version)
		return exitCodeError{exitError}
	}
	return nil
}
