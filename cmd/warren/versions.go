package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
)

func rabbitmqVersionFlag() cli.Flag {
	return &cli.StringFlag{Name: "rabbitmq-version", EnvVars: []string{"WARREN_RABBITMQ_VERSION"},
		Usage: "apply this RabbitMQ version's rules (a series such as 4.0, or a release such as 4.0.5); default: every supported version (docs/rabbitmq-versions.md)"}
}

// rabbitmqVersion reads --rabbitmq-version, noting on standard error when
// RabbitMQ no longer supports that version.
func rabbitmqVersion(c *cli.Context) (string, error) {
	v := c.String("rabbitmq-version")
	supported, err := definitions.CheckRabbitMQVersion(v)
	if err != nil {
		return "", err
	}
	if !supported {
		fmt.Fprintf(c.App.ErrWriter, "warren: RabbitMQ %s is out of support; checking its rules anyway\n", v)
	}
	return v, nil
}
