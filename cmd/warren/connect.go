package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/internal/operation/inventory"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/rabbitmq"
)

const defaultURL = operation.DefaultURL

// connectionFlags are shared by the commands that talk to a broker.
func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "url", Value: cli.NewStringSlice(defaultURL), EnvVars: []string{"WARREN_URL"},
			Usage: "management API URL; repeat for the nodes of a cluster (tried in turn when one is down)"},
		&cli.StringFlag{Name: "username", EnvVars: []string{"WARREN_USERNAME"},
			Usage: "user to log in as (an administrator); guest only for a loopback URL"},
		&cli.StringFlag{Name: "password-file", EnvVars: []string{"WARREN_PASSWORD_FILE"},
			Usage: "read the password from this file (or set WARREN_PASSWORD; without either warren prompts on a terminal)"},
		&cli.StringFlag{Name: "password", Hidden: true,
			Usage: "the password on the command line, where every user of the machine can read it; prefer WARREN_PASSWORD or --password-file"},
		&cli.StringFlag{Name: "ca-cert", EnvVars: []string{"WARREN_CA_CERT"}, Usage: "PEM file of the CAs that sign the broker's certificate"},
		&cli.StringFlag{Name: "client-cert", EnvVars: []string{"WARREN_CLIENT_CERT"}, Usage: "PEM client certificate for TLS client authentication"},
		&cli.StringFlag{Name: "client-key", EnvVars: []string{"WARREN_CLIENT_KEY"}, Usage: "PEM key of --client-cert"},
		&cli.BoolFlag{Name: "insecure", Usage: "do not verify the broker's TLS certificate"},
		&cli.DurationFlag{Name: "timeout", Value: 60 * time.Second, EnvVars: []string{"WARREN_TIMEOUT"}, Usage: "time limit for each request"},
		&cli.StringFlag{Name: "amqp-url", EnvVars: []string{"WARREN_AMQP_URL"},
			Usage: "the broker's AMQP 0-9-1 listener (amqp://host:port or amqps://host:port), where warren reads queues' message counts before deleting them; default: the listener the management API lists"},
		&cli.DurationFlag{Name: "import-timeout", Value: rabbitmq.DefaultImportTimeout, EnvVars: []string{"WARREN_IMPORT_TIMEOUT"}, Usage: "time limit for an import (POST /api/definitions), the broker's own work on every object at once"},
	}
}

// waitFlags are apply's: wait for the broker (or the cluster) to be ready.
func waitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "wait", Usage: "wait up to this long for the broker's API and health check before starting (init containers, deploy steps); with several --url, for the cluster's nodes (see --wait-for)"},
		&cli.StringFlag{Name: "wait-for", Value: "all", Usage: "with --wait and several --url: all (every node named answers as a member of one cluster, without alarms) or quorum (more than half of them)"},
	}
}

// entryKey holds the inventory entry --broker names (withInventory), whose
// settings the command's flags override.
type entryKey struct{}

// entryOf is the inventory entry --broker named, or nil.
func entryOf(c *cli.Context) *inventory.Broker {
	if c == nil || c.Context == nil {
		return nil
	}
	b, _ := c.Context.Value(entryKey{}).(*inventory.Broker)
	return b
}

// withEntry is c's context with the entry --broker named.
func withEntry(ctx context.Context, b *inventory.Broker) context.Context {
	return context.WithValue(ctx, entryKey{}, b)
}

// connectionOf reads the connection flags; the URLs given (a saved
// plan's) stand for --url. An inventory entry's password (from its
// {env: NAME}) is known already.
func connectionOf(c *cli.Context, given ...string) operation.Connection {
	if len(given) == 0 {
		given = c.StringSlice("url")
	}
	conn := operation.Connection{
		URLs: given,
		Login: operation.Login{User: c.String("username"), PasswordFile: c.String("password-file"),
			Password: c.String("password"), PasswordEnv: "WARREN_PASSWORD", Known: entryPassword(c)},
		TLS: operation.TLS{CACert: c.String("ca-cert"), ClientCert: c.String("client-cert"), ClientKey: c.String("client-key"),
			Insecure: c.Bool("insecure")},
		Timeout: c.Duration("timeout"), ImportTimeout: c.Duration("import-timeout"), AMQPURL: c.String("amqp-url"),
		Wait: c.Duration("wait"), WaitFor: c.String("wait-for"),
	}
	return conn
}

// entryPassword is the password an inventory entry's {env: NAME} gives,
// when no flag or variable gives one ("" otherwise); read in withInventory.
func entryPassword(c *cli.Context) string {
	v, _ := c.Context.Value(entryPasswordKey{}).(string)
	return v
}

type entryPasswordKey struct{}

// givenOptions are the options the command line gives explicitly.
func givenOptions(c *cli.Context) map[seeders.Option]bool {
	out := map[seeders.Option]bool{}
	for _, o := range []seeders.Option{seeders.OptionPrune, seeders.OptionKeepGuest, seeders.OptionReplace, seeders.OptionDestroyMessages,
		seeders.OptionUpdatePasswords, seeders.OptionBreakLock, seeders.OptionWait, seeders.OptionReboot, seeders.OptionAMQPURL,
		seeders.OptionCloseConnections} {
		out[o] = c.IsSet(string(o))
	}
	return out
}

// openTarget connects to the target name, through the URLs given (a
// saved plan's) or the connection flags.
func openTarget(c *cli.Context, ui operation.UI, name definitions.TargetName, urls ...string) (seeders.Target, error) {
	return operation.Open(c.Context, ui, targetRequest(c, name, urls...))
}

// targetRequest is how the command line names the target and reaches it.
func targetRequest(c *cli.Context, name definitions.TargetName, urls ...string) operation.TargetRequest {
	return operation.TargetRequest{
		Name:       name,
		Connection: connectionOf(c, urls...),
		Cloud: operation.Cloud{Endpoint: c.String("endpoint"), BrokerID: c.String("broker-id"), Region: c.String("region"),
			ProjectID: c.String("project-id"), InstanceID: c.String("instance-id"), Edition: c.String("edition")},
		AmazonMQ: operation.AmazonMQ{InstanceType: c.String("instance-type"), DeploymentMode: c.String("deployment-mode")},
		Workers:  workers(),
	}
}

// workers reads WARREN_APPLY_WORKERS, how many deletions run at once (for
// measuring; the default, 4, is what make bench found fastest).
func workers() int {
	var n int
	fmt.Sscan(os.Getenv("WARREN_APPLY_WORKERS"), &n)
	return n
}
