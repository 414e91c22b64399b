package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
)

// cloudFlags say where a cloud target's API is and which broker it
// manages. The cloud APIs (Amazon MQ for ActiveMQ, Huawei Cloud DMS) never
// return passwords, so both set them on creation and on update only with
// --update-passwords.
func cloudFlags(apply bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "endpoint", EnvVars: []string{"WARREN_ENDPOINT"}, Usage: "the cloud API's URL: amazonmq-activemq defaults to AWS's (or AWS_ENDPOINT_URL_MQ); huaweicloud-rabbitmq needs https://dms.REGION.myhuaweicloud.com"},
		&cli.StringFlag{Name: "broker-id", EnvVars: []string{"WARREN_BROKER_ID"}, Usage: "amazonmq-activemq: the broker (b-…)"},
		&cli.StringFlag{Name: "region", Usage: "amazonmq-activemq: the AWS region (default: AWS_REGION or the shared config)"},
		&cli.StringFlag{Name: "project-id", EnvVars: []string{"WARREN_PROJECT_ID"}, Usage: "huaweicloud-rabbitmq: the project (credentials: HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, or HUAWEICLOUD_TOKEN)"},
		&cli.StringFlag{Name: "instance-id", EnvVars: []string{"WARREN_INSTANCE_ID"}, Usage: "huaweicloud-rabbitmq: the DMS instance"},
		editionFlag(),
		&cli.StringFlag{Name: "instance-type", EnvVars: []string{"WARREN_INSTANCE_TYPE"}, Usage: "amazonmq-rabbitmq: the broker's host instance type (mq.m7g.medium, mq.m7g.large, mq.m7g.xlarge): diff and apply refuse files that would take its queues, exchanges, vhosts or shovels past the type's default limits"},
		&cli.StringFlag{Name: "deployment-mode", EnvVars: []string{"WARREN_DEPLOYMENT_MODE"}, Usage: "amazonmq-rabbitmq, with --instance-type: SINGLE_INSTANCE (default) or CLUSTER_MULTI_AZ"},
		&cli.BoolFlag{Name: "update-passwords", Usage: "cloud targets: set every user's password again (the APIs never return passwords, so they are otherwise set on creation only)"},
	}
	if apply {
		flags = append(flags, &cli.BoolFlag{Name: "reboot", Usage: "amazonmq-activemq: reboot the broker after the apply, which applies the changes now instead of in the maintenance window"})
	}
	return flags
}

// editionFlag names a Huawei Cloud DMS instance's edition, whose rules
// validate, diff and apply follow (docs/targets.md).
func editionFlag() cli.Flag {
	return &cli.StringFlag{Name: "edition", EnvVars: []string{"WARREN_HUAWEI_EDITION"},
		Usage: "huaweicloud-rabbitmq: the DMS instance's edition, " + strings.Join(definitions.HuaweiEditions, " or ") + " (default " + definitions.HuaweiAMQP + ")"}
}

// edition reads --edition: one of definitions.HuaweiEditions, and only
// with --target huaweicloud-rabbitmq.
func edition(c *cli.Context, target definitions.TargetName) (string, error) {
	e := c.String("edition")
	switch {
	case e == "":
		return "", nil
	case !slices.Contains(definitions.HuaweiEditions, e):
		return "", fmt.Errorf("unknown --edition %q: use %s", e, strings.Join(definitions.HuaweiEditions, " or "))
	case target != definitions.TargetHuaweiCloudRabbitMQ:
		return "", fmt.Errorf("--edition is for --target %s only", definitions.TargetHuaweiCloudRabbitMQ)
	}
	return e, nil
}
