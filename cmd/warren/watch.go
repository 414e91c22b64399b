package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/urfave/cli/v2"

	"github.com/warren-tool/warren/internal/operation"
	"github.com/warren-tool/warren/internal/operation/inventory"
	"github.com/warren-tool/warren/seeders"
)

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "compare live brokers with their files every interval, log each change and serve metrics (optionally repair drift)",
		ArgsUsage: "FILE|DIR ...",
		Description: "Runs until stopped (SIGINT or SIGTERM, within a second). Every --interval it makes the plan warren diff\n" +
			"makes and logs a line when a broker's state changes: in sync, drift (with the changes by action),\n" +
			"unreachable, invalid files, left alone. With --listen it serves Prometheus metrics on /metrics and\n" +
			"/healthz. A broker whose definitions carry an ETag (RabbitMQ 4.3.5 and later) and that was in sync is\n" +
			"checked with one conditional request while nothing changes; others get the whole diff.\n\n" +
			"The files, and the secret files they name, are read again when they change, and on SIGHUP; while they\n" +
			"are invalid nothing is compared or applied. A broker that cannot be reached is tried again after a\n" +
			"growing wait (twice the interval, then four times, up to --max-backoff).\n\n" +
			"With --apply, drift is repaired as warren apply --yes repairs it: the lock, the plan read again under\n" +
			"it, nothing deleted without --prune, no message destroyed without --destroy-messages. After\n" +
			"--max-failures failed applies in a row a broker is left alone (and says so) until its files change or\n" +
			"SIGHUP. See docs/watch.md.",
		Flags: append(append(append(connectionFlags(), cloudFlags(false)...),
			&cli.DurationFlag{Name: "interval", Value: time.Minute, Usage: "time between two checks of a broker"},
			&cli.StringFlag{Name: "listen", Usage: "serve /metrics (Prometheus) and /healthz on this address, as host:port or :port"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "the log's lines: text or json (one object a line)"},
			&cli.StringFlag{Name: "name", Usage: "the broker's name in the log and the metrics (default: its first URL's host and port)"},
			&cli.BoolFlag{Name: "apply", Usage: "repair drift, as warren apply --yes"},
			&cli.IntFlag{Name: "max-failures", Value: 3, Usage: "with --apply: failed applies in a row before a broker is left alone"},
			&cli.DurationFlag{Name: "max-backoff", Value: 5 * time.Minute, Usage: "the longest wait before trying a broker that keeps failing"},
			&cli.BoolFlag{Name: "prune", Usage: "with --apply: also delete what the broker has and the files do not name (and count it as drift)"},
			&cli.BoolFlag{Name: "keep-guest", Usage: "keep the default guest user even when the files do not define it"},
			&cli.BoolFlag{Name: "replace", Usage: "with --apply: allow replacing queues (empty ones) and exchanges"},
			&cli.BoolFlag{Name: "destroy-messages", Usage: "with --apply: allow deleting messages"},
			targetFlag(),
			maxSizeFlag(),
		), ownerFlags()...),
		Action: runWatch,
	}
}

func runWatch(c *cli.Context) error {
	if !c.Args().Present() {
		return errors.New("name the definitions files or directories to watch brokers against (or --inventory FILE)")
	}
	for _, p := range c.Args().Slice() {
		if p == "-" {
			return errors.New("a watch reads its files again when they change: name files, not standard input")
		}
	}
	name, err := operation.ParseTarget(c.String("target"))
	if err != nil {
		return err
	}
	size, err := parseSize(c.String("max-size"))
	if err != nil {
		return err
	}
	ed, err := edition(c, name)
	if err != nil {
		return err
	}
	b := operation.WatchBroker{
		Name:    c.String("name"),
		Files:   operation.Files{Paths: c.Args().Slice(), MaxSize: size},
		Target:  name,
		Edition: ed,
		Options: planOptionsOf(c, name),
		Given:   givenOptions(c),
		Open: func(ctx context.Context, ui operation.UI) (seeders.Target, error) {
			return openTarget(c, ui, name)
		},
	}
	if b.Name == "" {
		b.Name = brokerLabel(connectionOf(c).URLs)
	}
	return watch(c, []operation.WatchBroker{b})
}

// runWatchInventory watches the inventory's selected brokers, each with
// its own entry's connection, target and files.
func runWatchInventory(c *cli.Context, inv *inventory.Inventory) error {
	if c.Args().Present() {
		return errors.New("watching an inventory takes each broker's files from it: name no files (or use --broker NAME)")
	}
	brokers, err := inv.Select(c.StringSlice("select"))
	if err != nil {
		return err
	}
	if len(brokers) == 0 {
		return fmt.Errorf("no broker of %s matches --select %s", inv.Path, strings.Join(c.StringSlice("select"), " "))
	}
	size, err := parseSize(c.String("max-size"))
	if err != nil {
		return err
	}
	base := connectionOf(c)
	base = operation.Connection{Timeout: base.Timeout, ImportTimeout: base.ImportTimeout, Wait: base.Wait, WaitFor: base.WaitFor}
	var ws []operation.WatchBroker
	for _, e := range brokers {
		name, conn, err := operation.EntryConnection(base, e)
		if err != nil {
			return fmt.Errorf("broker %s: %w", e.Name, err)
		}
		opts := planOptionsOf(c, name)
		if opts.Owner == "" {
			opts.Owner = e.Owner
		}
		opts.InstanceType, opts.DeploymentMode = e.InstanceType, savedDeploymentMode(e.DeploymentMode)
		sizing := operation.EntryAmazonMQ(e)
		ws = append(ws, operation.WatchBroker{
			Name:    e.Name,
			Files:   operation.Files{Paths: e.Files, Overlays: e.Overlays, Layered: true, MaxSize: size},
			Target:  name,
			Options: opts,
			Given:   givenOptions(c),
			Open: func(ctx context.Context, ui operation.UI) (seeders.Target, error) {
				return operation.Open(ctx, ui, operation.TargetRequest{Name: name, Connection: conn, Workers: workers(), AmazonMQ: sizing})
			},
		})
	}
	return watch(c, ws)
}

// watch runs the watch until SIGINT or SIGTERM, serving metrics when asked.
func watch(c *cli.Context, brokers []operation.WatchBroker) error {
	format := c.String("log-format")
	if format != "text" && format != "json" {
		return fmt.Errorf("unknown --log-format %q: use text or json", format)
	}
	if c.Duration("interval") <= 0 {
		return fmt.Errorf("--interval %s: give a positive duration, such as 30s or 5m", c.Duration("interval"))
	}
	if !c.Bool("apply") {
		for _, f := range []string{"replace", "destroy-messages"} {
			if c.Bool(f) {
				return fmt.Errorf("--%s says what --apply may do: use it with --apply", f)
			}
		}
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			}
		}
	}()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := operation.NewWatchMetrics(reg)
	if addr := c.String("listen"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("--listen %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		fmt.Fprintf(c.App.ErrWriter, "warren watch: metrics on http://%s/metrics\n", ln.Addr())
	}
	return operation.Watch(ctx, operation.WatchRequest{
		Brokers: brokers, Interval: c.Duration("interval"), Apply: c.Bool("apply"), MaxFailures: c.Int("max-failures"),
		MaxBackoff: c.Duration("max-backoff"), Log: c.App.ErrWriter, JSONLog: format == "json", Metrics: metrics, Reload: reload,
		NewUI: func(w io.Writer) operation.UI { return newViewOn(strings.NewReader(""), w, w, "text") },
	})
}

// brokerLabel names a broker by its first URL's host and port: never its
// credentials.
func brokerLabel(urls []string) string {
	for _, raw := range urls {
		first, _, _ := strings.Cut(raw, ",")
		if u, err := url.Parse(strings.TrimSpace(first)); err == nil && u.Host != "" {
			return u.Host
		}
	}
	return "broker"
}
