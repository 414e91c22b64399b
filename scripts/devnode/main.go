// Command devnode starts a disposable RabbitMQ node for people (make node):
// its own name, free ports and data directory, the management plugin on. It
// prints how to reach it and stops it on Ctrl-C.
// Killed any other way (even with SIGKILL), it does not leave the node
// running: the node stops with it, and a -dir keeps its data.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

func main() {
	dir := flag.String("dir", "", "data directory (default: a temporary one, removed on exit)")
	name := flag.String("name", "", "node name before @localhost (default: a new one; give a kept -dir's node its name again, such as make bench-scale's warren-bench-x10)")
	conf := flag.String("conf", "", "extra rabbitmq.conf lines, separated by ;")
	confFile := flag.String("conf-file", "", "a rabbitmq.conf fragment to add (such as warren boot's)")
	noAdmin := flag.Bool("no-admin", false, "do not create an administrator (for nodes that import definitions at boot)")
	envFile := flag.String("env", "", "write the node's URL and admin credentials to this file, as shell variables")
	flag.Parse()
	opts := rabbitmqtest.Options{Dir: *dir, Name: *name, NoAdmin: *noAdmin, StartTimeout: 15 * time.Minute}
	if *conf != "" {
		opts.Config = strings.Split(*conf, ";")
	}
	if *confFile != "" {
		data, err := os.ReadFile(*confFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "devnode:", err)
			os.Exit(1)
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			// The definitions the fragment names are copied into the node's
			// directory, where a node in a chroot (RabbitMQ 4.0) sees them.
			if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "definitions.local.path" {
				opts.Files = map[string]string{"definitions.json": strings.TrimSpace(v)}
				line = "definitions.local.path = {{dir}}/definitions.json"
			}
			opts.Config = append(opts.Config, line)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := rabbitmqtest.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devnode:", err)
		os.Exit(1)
	}
	vars := fmt.Sprintf("WARREN_URL=%s\nWARREN_USERNAME=%s\nWARREN_PASSWORD=%s\nNODE_NAME=%s\nNODE_DIR=%s\n", n.URL, n.Admin, n.AdminPassword, n.Name, n.Dir)
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(vars), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "devnode:", err)
		}
	}
	fmt.Printf("RabbitMQ %s node %s is up: management API %s, AMQP port %d.\n", n.Version, n.Name, n.URL, n.AMQPPort)
	if n.Admin != "" && *envFile != "" {
		fmt.Printf("Administrator: %s (its password is in %s)\n", n.Admin, *envFile)
	}
	fmt.Println("Ctrl-C stops it.")
	<-ctx.Done()
	if err := n.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "devnode:", err)
	}
}
