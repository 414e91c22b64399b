package main

import (
	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/schema"
)

func schemaCommand() *cli.Command {
	return &cli.Command{
		Name:  "schema",
		Usage: "print the JSON Schema of definitions files (for editors and other tools)",
		Description: "Prints the JSON Schema (draft 2020-12) that warren validates against. Point an editor at it, for\n" +
			"example with a first line '# yaml-language-server: $schema=PATH' in YAML files.\n\nExit codes: 0.",
		Action: func(c *cli.Context) error {
			_, err := c.App.Writer.Write(schema.JSON)
			return err
		},
	}
}
