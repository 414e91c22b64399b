// Command benchbroker measures warren as whole processes against a real
// RabbitMQ node and against the tools it must be no slower than.
// make bench runs it three times (scripts/bench.sh):
//
//	benchbroker -validate -out V.json        warren validate vs python3 json.load (no broker),
//	                                         at 150,000, 500,000 and 1,500,000 objects (-objects)
//	WARREN_RABBITMQ=3.10 benchbroker -out A.json   one node of that version, 41,200 objects
//	benchbroker -report V.json A.json B.json  the table, versions side by side
//
// -only quick or -only scratch measures one part of a broker run (make
// bench measures both); -warren names another binary to measure.
//
// With -profile DIR, every measured warren command also writes a CPU and a
// heap profile to DIR (WARREN_CPUPROFILE, WARREN_MEMPROFILE) for go tool
// pprof.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/benchproc"
	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

var (
	warren     = flag.String("warren", "bin/warren", "the warren binary")
	rounds     = flag.Int("rounds", 5, "back-to-back pairs of the broker's import and warren apply, from scratch")
	repeats    = flag.Int("repeats", 3, "runs of each quick measure (medians are reported)")
	settle     = flag.Duration("settle", 5*time.Second, "pause after a reset, while the broker finishes deleting queues")
	out        = flag.String("out", "", "write the results here as JSON")
	profile    = flag.String("profile", "", "write CPU and heap profiles of each measured warren command to this directory")
	valid      = flag.Bool("validate", false, "measure warren validate against python3 json.load (no broker)")
	scale      = flag.Int("scale", 0, "measure warren diff against a broker holding this many times the broker rows' 41,200 objects (its node is kept with its data for the next run)")
	accessRows = flag.Bool("access", false, "measure warren access (--user, --resource, --audit) against warren validate of the broker rows' 41,200 objects (no broker)")
	objects    = flag.String("objects", "150000,500000,1500000", "objects in the files of -validate, comma-separated: one file of each size")
	endpoints  = flag.Bool("endpoints", true, "also time each listing warren reads, one at a time")
	applies    = flag.Bool("applies", true, "also time warren apply (no changes, 1% changed); -applies=false -rounds=0 measures only diff and GET /api/definitions")
	report     = flag.Bool("report", false, "print the table of the JSON results named as arguments")
	only       = flag.String("only", "", "measure only these rows of a broker run, comma-separated: quick (diff, apply without changes and with 1% changed, each against one GET), watch (with quick: a watch's checks of the unchanged broker), scratch (apply from scratch against the import); default all")
)

// measures says whether a broker run measures a row (-only).
func measures(row string) bool {
	if *only == "" {
		return true
	}
	for _, r := range strings.Split(*only, ",") {
		if strings.TrimSpace(r) == row {
			return true
		}
	}
	return false
}

// endpointPaths are the listings warren's diff reads (as
// seeders/rabbitmq's kindEndpoints has them), and the whole export.
var endpointPaths = []string{
	"/api/definitions",
	"/api/users",
	"/api/vhosts?columns=name,description,tags,default_queue_type,metadata,tracing",
	"/api/permissions",
	"/api/policies",
	"/api/queues?disable_stats=true&columns=name,vhost,type,durable,auto_delete,exclusive,arguments",
	"/api/exchanges?disable_stats=true&columns=name,vhost,type,durable,auto_delete,internal,arguments",
	"/api/bindings?columns=source,vhost,destination,destination_type,routing_key,arguments",
	"/api/bindings",
	"/api/queues?disable_stats=true",
}

// Results are one run's figures, by measure name; seconds and bytes.
type Results struct {
	Version string             `json:"version"` // RabbitMQ's, "" for -validate
	Values  map[string]float64 `json:"values"`
	Rounds  [][2]float64       `json:"rounds,omitempty"` // from scratch: import s, apply s
}

func main() {
	benchproc.Main() // a copy that measures one command exits here
	flag.Parse()
	var err error
	switch {
	case *report:
		err = printReport(flag.Args())
	case *valid:
		err = save(measureValidate())
	case *accessRows:
		err = save(measureAccess())
	case *scale > 0:
		err = save(measureScale(*scale))
	default:
		err = measureBroker()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchbroker:", err)
		os.Exit(1)
	}
}

func save(r *Results, err error) error {
	if err != nil {
		return err
	}
	data, _ := json.MarshalIndent(r, "", "  ")
	if *out == "" {
		_, err = os.Stdout.Write(append(data, '\n'))
		return err
	}
	return os.WriteFile(*out, append(data, '\n'), 0o644)
}

// process runs a command and returns its wall time and peak resident
// memory, measured by a fresh copy of benchbroker (benchproc: this process
// holds the files it generated, and os/exec would count its memory as the
// command's). Exit code 2 (drift) counts as success.
func process(env []string, name string, args ...string) (secs float64, rss int64, err error) {
	r, err := benchproc.Run(env, []int{2}, name, args...)
	if err != nil {
		return 0, 0, err
	}
	if r.MaxRSS <= r.Floor {
		fmt.Fprintf(os.Stderr, "benchbroker: %s's peak memory is at most %d MB, the measuring copy's own\n", name, r.Floor>>20)
	}
	return r.Seconds, r.MaxRSS, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// profileEnv names the profiles of one measured command.
func profileEnv(name string) []string {
	if *profile == "" {
		return nil
	}
	os.MkdirAll(*profile, 0o755)
	return []string{"WARREN_CPUPROFILE=" + filepath.Join(*profile, name+".cpu.pprof"),
		"WARREN_MEMPROFILE=" + filepath.Join(*profile, name+".mem.pprof")}
}

// validateSizes parses -objects.
func validateSizes() ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(*objects, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-objects %q: want counts of objects, comma-separated", *objects)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// measureValidate times warren validate against python3's json.load on a
// file of each size of -objects, and takes warren's peak memory. Its
// figures are named by size: "validate 150000", "json.load 150000",
// "validate.rss 150000", "validate.file 150000".
func measureValidate() (*Results, error) {
	sizes, err := validateSizes()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "warren-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	res := &Results{Values: map[string]float64{}}
	for _, n := range sizes {
		if err := measureValidateSize(res, dir, n); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func measureValidateSize(res *Results, dir string, n int) error {
	file := filepath.Join(dir, "defs.json")
	data := defgen.Generate(n)
	size := len(data)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	data = nil // the measuring copies start from this process: keep it small
	args := []string{"validate", file}
	if size > definitions.DefaultMaxSize {
		// What a user must say for a file this large.
		args = []string{"validate", "--max-size", fmt.Sprintf("%dMiB", (size+1<<20-1)>>20), file}
	}
	fmt.Fprintf(os.Stderr, "validate: %d objects, %.1f MB, %d runs\n", n, float64(size)/1e6, *repeats)
	var w, p []float64
	var peak int64
	for i := range *repeats {
		var env []string
		if i == 0 {
			env = profileEnv(fmt.Sprintf("validate-%d", n))
		}
		t, rss, err := process(env, *warren, args...)
		if err != nil {
			return err
		}
		w, peak = append(w, t), max(peak, rss)
		t, _, err = process(nil, "python3", "-c", "import json,sys; json.load(open(sys.argv[1]))", file)
		if err != nil {
			return err
		}
		p = append(p, t)
		fmt.Fprintf(os.Stderr, "  run %d: warren %.2f s, %.0f MB; json.load %.2f s\n", i+1, w[i], float64(rss)/1e6, t)
	}
	suffix := " " + strconv.Itoa(n)
	res.Values["validate"+suffix], res.Values["json.load"+suffix] = median(w), median(p)
	res.Values["validate.rss"+suffix], res.Values["validate.file"+suffix] = float64(peak), float64(size)
	return nil
}

func measureBroker() error {
	// Ctrl-C must still stop the node (the deferred Stop below).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	dir, err := os.MkdirTemp("", "warren-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	shape := defgen.BenchShape
	data := shape.Broker()
	file := filepath.Join(dir, "defs.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	// The same file with 1% of its objects changed: permissions' patterns.
	changed := filepath.Join(dir, "changed.json")
	mod := string(data)
	for i := range shape.Objects() / 100 {
		mod = strings.Replace(mod, fmt.Sprintf(`"configure":"^user-%d\\."`, i), fmt.Sprintf(`"configure":"^changed-%d\\."`, i), 1)
	}
	if err := os.WriteFile(changed, []byte(mod), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "RabbitMQ %s: the file has %d objects (%.1f MB); starting a node\n", rabbitmqtest.Series(), shape.Objects(), float64(len(data))/1e6)
	n, err := rabbitmqtest.Start(ctx, rabbitmqtest.Options{StartTimeout: 3 * time.Minute})
	if err != nil {
		return err
	}
	defer n.Stop()
	res := &Results{Version: n.Version, Values: map[string]float64{}}
	// WARREN_TIMEOUT: on a busy machine one import of 41,200 objects can
	// outlast warren's default of 60 s per request.
	env := []string{"WARREN_TIMEOUT=10m", "WARREN_URL=" + n.URL, "WARREN_USERNAME=" + n.Admin, "WARREN_PASSWORD=" + n.AdminPassword}
	warrenRun := func(profileName string, args ...string) (float64, int64, error) {
		return process(append(slices.Clone(env), profileEnv(profileName)...), *warren, args...)
	}
	get := func(path string) (float64, int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", n.URL+path, nil)
		req.SetBasicAuth(n.Admin, n.AdminPassword)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return time.Since(start).Seconds(), len(body), err
	}
	getDefs := func() (float64, int, error) { return get("/api/definitions") }
	post := func(body []byte) func() error { return func() error { return n.PostDefinitions(ctx, body) } }
	// A reset wipes the node's database (rabbitmqctl reset): deleting 100
	// vhosts with 10,000 queues through the API takes minutes here. The
	// blank node has guest again, which makes the harness's administrator.
	reset := func() error {
		for _, c := range []string{"stop_app", "reset", "start_app"} {
			if _, err := n.Ctl(ctx, c); err != nil {
				return err
			}
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			err := n.Call(ctx, "guest", "guest", "PUT", "/api/users/"+n.Admin, map[string]any{"password": n.AdminPassword, "tags": "administrator"}, nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the node did not come back after a reset: %w", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err := n.Do(ctx, "PUT", "/api/permissions/%2F/"+n.Admin, map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil); err != nil {
			return err
		}
		time.Sleep(*settle)
		return nil
	}
	step := func(what string) {
		fmt.Fprintf(os.Stderr, "RabbitMQ %s, %s: %s...\n", n.Version, time.Since(began).Round(time.Second), what)
	}

	step("loading the file (the broker's import)")
	if err := post(data)(); err != nil {
		return err
	}
	if *endpoints {
		// What each listing costs the broker, one at a time, against the
		// whole export: where a diff's time goes on the broker's side.
		// Each is read -repeats times, in turns (the first reads after
		// the import found the broker still busy: GET /api/bindings took
		// 11.7 s on 4.3.6, then 1.2 s), and the median is reported.
		times := map[string][]float64{}
		for r := range max(*repeats, 1) {
			for _, p := range endpointPaths {
				t, sz, err := get(p)
				if err != nil {
					return err
				}
				times[p] = append(times[p], t)
				fmt.Fprintf(os.Stderr, "  GET %s (%d of %d): %.3f s, %d bytes\n", p, r+1, max(*repeats, 1), t, sz)
			}
		}
		for p, ts := range times {
			res.Values["endpoint "+p] = median(ts)
		}
	}
	// Quick measures, each run -repeats times, alternating with a GET so
	// that each ratio compares neighbours in time.
	var gets, diffs, noops, ones, diffRSSs, ownerDiffs []float64
	var diffRSS int64
	size := 0
	quick := *repeats
	if !measures("quick") {
		quick = 0
	}
	if quick > 0 {
		// An owner's record of every object, for the diff with an owner.
		step("recording every object as owner bench's")
		if _, _, err := warrenRun("", "apply", "--yes", "--keep-guest", "--owner", "bench", file); err != nil {
			return err
		}
		_, recordSize, err := get("/api/global-parameters/warren-owner.bench")
		if err != nil {
			return err
		}
		res.Values["record.bytes"] = float64(recordSize)
		fmt.Fprintf(os.Stderr, "  owner bench's record: %d bytes\n", recordSize)
	}
	for r := range quick {
		what := "diff, apply (no changes, 1% changed), GET /api/definitions"
		if !*applies {
			what = "diff, GET /api/definitions"
		}
		step(fmt.Sprintf("%s: run %d of %d", what, r+1, *repeats))
		pname := func(s string) string {
			if r == 0 {
				return s
			}
			return ""
		}
		g, sz, err := getDefs()
		if err != nil {
			return err
		}
		gets, size = append(gets, g), sz
		t, rss, err := warrenRun(pname("diff"), "diff", "--keep-guest", file)
		if err != nil {
			return err
		}
		diffs, diffRSS, diffRSSs = append(diffs, t), max(diffRSS, rss), append(diffRSSs, float64(rss))
		if t, _, err = warrenRun(pname("diff-owner"), "diff", "--keep-guest", "--owner", "bench", file); err != nil {
			return err
		}
		ownerDiffs = append(ownerDiffs, t)
		if !*applies {
			continue
		}
		if t, _, err = warrenRun(pname("apply-nochange"), "apply", "--yes", "--keep-guest", file); err != nil {
			return err
		}
		noops = append(noops, t)
		if t, _, err = warrenRun(pname("apply-1pct"), "apply", "--yes", "--keep-guest", changed); err != nil {
			return err
		}
		ones = append(ones, t)
		if err := post(data)(); err != nil { // back to the file
			return err
		}
	}
	if quick > 0 {
		res.Values["get"], res.Values["get.bytes"] = median(gets), float64(size)
		res.Values["diff"], res.Values["diff.rss"], res.Values["diff.rss.median"] = median(diffs), float64(diffRSS), median(diffRSSs)
		res.Values["diff.owner"] = median(ownerDiffs)
		if *applies {
			res.Values["apply.nochange"], res.Values["apply.1pct"] = median(noops), median(ones)
		}
	}
	if quick > 0 && measures("watch") {
		// The broker is in sync with the file again.
		step("warren watch: checks of an unchanged broker")
		if err := measureWatch(ctx, n, env, file, getDefs, res); err != nil {
			return err
		}
	}
	scratchRounds := *rounds
	if !measures("scratch") {
		scratchRounds = 0
	}

	// From scratch: pairs back to back, each after a reset, alternating
	// which goes first; one import's time varies by seconds between runs.
	for r := range scratchRounds {
		pair := [2]float64{}
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, which := range order {
			if err := reset(); err != nil {
				return err
			}
			if which == 0 {
				step(fmt.Sprintf("from scratch, round %d of %d: the broker's import", r+1, scratchRounds))
				start := time.Now()
				if err := post(data)(); err != nil {
					return err
				}
				pair[0] = time.Since(start).Seconds()
			} else {
				step(fmt.Sprintf("from scratch, round %d of %d: warren apply", r+1, scratchRounds))
				name := ""
				if r == 0 {
					name = "apply-scratch"
				}
				t, _, err := warrenRun(name, "apply", "--yes", "--keep-guest", file)
				if err != nil {
					return err
				}
				pair[1] = t
			}
		}
		res.Rounds = append(res.Rounds, pair)
	}
	var ratios, imports, applies []float64
	for _, p := range res.Rounds {
		ratios, imports, applies = append(ratios, p[1]/p[0]), append(imports, p[0]), append(applies, p[1])
	}
	if len(ratios) > 0 {
		res.Values["scratch.ratio"], res.Values["scratch.import"], res.Values["scratch.apply"] = median(ratios), median(imports), median(applies)
	}
	res.Values["elapsed"] = time.Since(began).Seconds()
	return save(res, nil)
}

// printReport prints the speed goals with each version's figures.
func printReport(paths []string) error {
	var validate *Results
	var brokers []*Results
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r := &Results{}
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if r.Version == "" {
			// -validate's and -access's figures, in one set
			if validate == nil {
				validate = r
			} else {
				maps.Copy(validate.Values, r.Values)
			}
		} else if i := slices.IndexFunc(brokers, func(b *Results) bool { return b.Version == r.Version }); i >= 0 {
			// another run on the same version (-scale): one column
			maps.Copy(brokers[i].Values, r.Values)
		} else {
			brokers = append(brokers, r)
		}
	}
	type row struct {
		measure string
		goal    float64
		value   func(r *Results) (ratio float64, detail string, ok bool)
	}
	// noBroker says whether a row is measured without a broker (-access):
	// such rows print even when no broker's results are given.
	noBroker := func(rw row) bool { return strings.HasSuffix(rw.measure, "(no broker)") }
	ratio := func(a, b string, unit string) func(r *Results) (float64, string, bool) {
		return func(r *Results) (float64, string, bool) {
			x, okx := r.Values[a]
			y, oky := r.Values[b]
			if !okx || !oky || y == 0 {
				return 0, "", false
			}
			if unit == "MB" {
				return x / y, fmt.Sprintf("%.0f MB / %.1f MB", x/1e6, y/1e6), true
			}
			if x < 0.1 || y < 0.1 {
				return x / y, fmt.Sprintf("%.4f s / %.4f s", x, y), true
			}
			return x / y, fmt.Sprintf("%.2f s / %.2f s", x, y), true
		}
	}
	fromValidate := func(f func(r *Results) (float64, string, bool)) func(r *Results) (float64, string, bool) {
		return func(*Results) (float64, string, bool) {
			if validate == nil {
				return 0, "", false
			}
			return f(validate)
		}
	}
	// tagged keeps a row to the versions that tag their definitions (or
	// to those that do not).
	tagged := func(tags bool, f func(r *Results) (float64, string, bool)) func(r *Results) (float64, string, bool) {
		return func(r *Results) (float64, string, bool) {
			if (definitions.CompareVersions(r.Version, definitions.DefinitionsTagSince) >= 0) != tags {
				return 0, "", false
			}
			return f(r)
		}
	}
	rows := []row{
		{"`warren diff`, in sync, 41k objects / one `GET /api/definitions`", 1.1, ratio("diff", "get", "s")},
		{"`warren diff --owner`, in sync, the owner's record of 41k objects / `warren diff` without", 1.05, ratio("diff.owner", "diff", "s")},
		{"`warren apply`, no changes / one `GET /api/definitions`", 1.1, ratio("apply.nochange", "get", "s")},
		{"`warren apply`, 1% of objects changed / one `GET /api/definitions`", 1.5, ratio("apply.1pct", "get", "s")},
		{"`warren apply` from scratch / the broker's own import (median of the pairs' ratios)", 1.05, func(r *Results) (float64, string, bool) {
			v, ok := r.Values["scratch.ratio"]
			return v, fmt.Sprintf("medians %.1f s / %.1f s, %d pairs", r.Values["scratch.apply"], r.Values["scratch.import"], len(r.Rounds)), ok
		}},
		{"peak memory of `warren diff` (41k objects) / size of the live definitions as JSON", 10.0, ratio("diff.rss", "get.bytes", "MB")},
		{"`warren diff`, in sync, ten times the objects (412k) / one `GET /api/definitions` (make bench-scale)", 1.1, ratio("scale.diff", "scale.get", "s")},
		{"peak memory of that diff / size of the live definitions as JSON", 5.0, ratio("scale.diff.rss", "scale.get.bytes", "MB")},
		{"`warren watch`, a check of the unchanged broker (a conditional request, RabbitMQ 4.3.5+) / one `GET /api/definitions`", 0.05, tagged(true, ratio("watch.check", "get", "s"))},
		{"the broker's CPU for that check / for one `GET /api/definitions` (RabbitMQ 4.3.5+)", 0.05, tagged(true, ratio("watch.cpu", "get.cpu", "s"))},
		{"`warren watch`, a check without a tag (a full diff, before 4.3.5) / `warren diff`", 1.0, tagged(false, ratio("watch.check", "diff", "s"))},
		{"resident memory of `warren watch` after 1,000 checks / after 100 (RabbitMQ 4.3.5+)", 1.05, tagged(true, ratio("watch.rss.last", "watch.rss.first", "MB"))},
		{"`warren access --user`, 41k objects / `warren validate` of them (no broker)", 1.0, fromValidate(ratio("access.user", "access.validate", "s"))},
		{"`warren access --resource` / `warren validate` (no broker)", 1.0, fromValidate(ratio("access.resource", "access.validate", "s"))},
		{"`warren access --audit` / `warren validate` (no broker)", 2.0, fromValidate(ratio("access.audit", "access.validate", "s"))},
		{"peak memory of `warren access --user` / of `warren validate` (no broker)", 1.0, fromValidate(ratio("access.user.rss", "access.validate.rss", "MB"))},
		{"peak memory of `warren access --resource` / of `warren validate` (no broker)", 1.0, fromValidate(ratio("access.resource.rss", "access.validate.rss", "MB"))},
		{"peak memory of `warren access --audit` / of `warren validate` (no broker)", 1.0, fromValidate(ratio("access.audit.rss", "access.validate.rss", "MB"))},
	}
	if len(brokers) > 0 {
		fmt.Print("\n| measure | goal |")
		for _, b := range brokers {
			fmt.Printf(" RabbitMQ %s |", b.Version)
		}
		fmt.Print("\n|---|---:|")
		for range brokers {
			fmt.Print("---|")
		}
		fmt.Println()
		for _, rw := range rows {
			fmt.Printf("| %s | ≤ %gx |", rw.measure, rw.goal)
			for _, b := range brokers {
				v, detail, ok := rw.value(b)
				if !ok {
					fmt.Print(" — |")
					continue
				}
				mark := "met"
				if v > rw.goal {
					mark = "NOT met"
				}
				fmt.Printf(" **%.2fx** %s (%s) |", v, mark, detail)
			}
			fmt.Println()
		}
	}
	if len(brokers) == 0 && validate != nil {
		header := false
		for _, rw := range rows {
			if !noBroker(rw) {
				continue
			}
			v, detail, ok := rw.value(nil)
			if !ok {
				continue
			}
			if !header {
				fmt.Print("\n| measure | goal | no broker |\n|---|---:|---|\n")
				header = true
			}
			mark := "met"
			if v > rw.goal {
				mark = "NOT met"
			}
			fmt.Printf("| %s | ≤ %gx | **%.2fx** %s (%s) |\n", rw.measure, rw.goal, v, mark, detail)
		}
	}
	printValidate(validate)
	// Each listing's time against the whole export's, where measured
	// (-endpoints): which way of reading the broker is the faster.
	if slices.ContainsFunc(brokers, func(b *Results) bool { _, ok := b.Values["endpoint /api/definitions"]; return ok }) {
		fmt.Print("\nEach endpoint alone, median seconds:\n\n| GET |")
		for _, b := range brokers {
			fmt.Printf(" RabbitMQ %s |", b.Version)
		}
		fmt.Print("\n|---|")
		for range brokers {
			fmt.Print("---:|")
		}
		fmt.Println()
		for _, p := range endpointPaths {
			fmt.Printf("| `%s` |", p)
			for _, b := range brokers {
				if v, ok := b.Values["endpoint "+p]; ok {
					fmt.Printf(" %.3f |", v)
				} else {
					fmt.Print(" — |")
				}
			}
			fmt.Println()
		}
	}
	for _, b := range brokers {
		fmt.Printf("\nFrom scratch on RabbitMQ %s (each pair back to back, each run after a reset):\n\n| pair | broker's import s | warren apply s | ratio |\n|---:|---:|---:|---:|\n", b.Version)
		for i, p := range b.Rounds {
			fmt.Printf("| %d | %.2f | %.2f | %.2fx |\n", i+1, p[0], p[1], p[1]/p[0])
		}
	}
	for _, b := range brokers {
		fmt.Printf("\nRabbitMQ %s took %.0f s.", b.Version, b.Values["elapsed"])
	}
	fmt.Println()
	return nil
}

// Goals of warren validate, against python3's json.load and the file's size.
const (
	validateTimeGoal   = 1.0
	validateMemoryGoal = 3.0
)

// printValidate prints warren validate's table: a row for each size
// measured, time against python3's json.load, peak memory against the
// file's size.
func printValidate(r *Results) {
	if r == nil {
		return
	}
	var sizes []int
	for k := range r.Values {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, "validate ")); err == nil && strings.HasPrefix(k, "validate ") {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	if len(sizes) == 0 {
		return
	}
	met := func(v, goal float64) string {
		if v > goal {
			return "NOT met"
		}
		return "met"
	}
	fmt.Printf("\n| `warren validate` (no broker) | file | time / python3 `json.load`, goal ≤ %gx | peak memory / file, goal ≤ %gx |\n|---:|---:|---|---|\n", validateTimeGoal, validateMemoryGoal)
	for _, n := range sizes {
		v := func(name string) float64 { return r.Values[name+" "+strconv.Itoa(n)] }
		t, py, rss, file := v("validate"), v("json.load"), v("validate.rss"), v("validate.file")
		fmt.Printf("| %s objects | %.1f MB | **%.2fx** %s (%.2f s / %.2f s) | **%.2fx** %s (%.0f MB / %.0f MB) |\n",
			thousands(n), file/1e6, t/py, met(t/py, validateTimeGoal), t, py, rss/file, met(rss/file, validateMemoryGoal), rss/1e6, file/1e6)
	}
}

// thousands writes n with commas: 1,500,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
