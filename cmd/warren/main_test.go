package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

var update = os.Getenv("WARREN_UPDATE") != ""

func TestMain(m *testing.M) {
	testscript.Main(stopNodeAfter{m}, map[string]func(){
		"warren": func() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// stopNodeAfter runs the tests, then stops the shared RabbitMQ node:
// testscript.Main ends in os.Exit, so it must happen inside Run.
type stopNodeAfter struct{ m *testing.M }

func (s stopNodeAfter) Run() int {
	code := s.m.Run()
	rabbitmqtest.StopShared()
	if binDir != "" {
		os.RemoveAll(binDir) // see warrenBinary
	}
	return code
}

// TestScripts runs testdata/script/<subcommand>_<topic>.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: update,
		Setup: func(env *testscript.Env) error {
			// The examples, so scripts can run warren over them.
			env.Setenv("EXAMPLES", examplesDir(t))
			return nil
		},
	})
}

func examplesDir(t *testing.T) string {
	abs, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestExitCodes pins warren's exit codes: they are API.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := write("valid.yaml", "vhosts:\n  - name: app\n")
	warning := write("warning.yaml", "users:\n  - name: app\n    password: literal\n")
	invalid := write("invalid.json", `{"users": [{"tags": []}]}`)
	unformatted := write("unformatted.yaml", "vhosts:\n  - name: b\n  - name: a\n")
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"validate", valid}, exitOK},
		{[]string{"validate", warning}, exitOK},
		{[]string{"validate", "--strict", warning}, exitError},
		{[]string{"validate", invalid}, exitError},
		{[]string{"validate", filepath.Join(dir, "missing.json")}, exitError},
		{[]string{"validate"}, exitError},
		{[]string{"validate", "--target", "nowhere", valid}, exitError},
		{[]string{"validate", "--format", "xml", valid}, exitError},
		{[]string{"fmt", "--check", valid}, exitOK},
		{[]string{"fmt", "--check", unformatted}, exitError},
		{[]string{"fmt", invalid}, exitError},
		{[]string{"schema"}, exitOK},
		{[]string{"no-such-command"}, exitError},
		{[]string{"--version"}, exitOK},
		{[]string{"validate", "--no-such-flag", valid}, exitError},
		{[]string{"migrate", "plan", "--upstream-uri", "env:OLD_URI"}, exitError},                   // no --to
		{[]string{"migrate", "status", "--to", "http://127.0.0.1:9", "--format", "xml"}, exitError}, // before any request
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(append([]string{"warren"}, tt.args...), strings.NewReader(""), &stdout, &stderr)
			if got != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, tt.want, stdout.String(), stderr.String())
			}
		})
	}
}

// TestExamples validates every example with --strict (warnings are errors),
// with its target's rules and its passwords resolvable, and checks that it
// is canonically formatted.
func TestExamples(t *testing.T) {
	env := map[string]string{
		"WARREN_ADMIN_PASSWORD": "Admin-Password-1", "BILLING_PASSWORD": "x", "GRAFANA_PASSWORD": "x",
		"DEPLOYER_PASSWORD": "x", "SHIPPING_PASSWORD": "x",
		"MQ_ADMIN_PASSWORD": "x", "PAYMENTS_PASSWORD": "x", "DASHBOARDS_PASSWORD": "x",
		"ACTIVEMQ_ADMIN_PASSWORD": "console-admin-pw-1", "ACTIVEMQ_ORDERS_PASSWORD": "orders-service-pw-1",
		"ACTIVEMQ_REPLICATION_PASSWORD": "replication-pw-12",
		"INVENTORY_SECRET_KEY":          "Inventory-Key-1", "REPORTING_SECRET_KEY": "Reporting-Key-1",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	root := examplesDir(t)
	cases := map[string]string{ // directory → target
		"boot-seed":            "rabbitmq",
		"ci-drift/definitions": "rabbitmq",
	}
	targets, _ := filepath.Glob(filepath.Join(root, "targets", "*"))
	for _, d := range targets {
		cases[filepath.Join("targets", filepath.Base(d))] = filepath.Base(d)
	}
	if len(cases) < 5 {
		t.Fatalf("found %d examples", len(cases))
	}
	for dir, target := range cases {
		t.Run(dir, func(t *testing.T) {
			path := filepath.Join(root, dir)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"warren", "validate", "--strict", "--target", target, path}, nil, &stdout, &stderr); code != exitOK {
				t.Errorf("validate exit %d:\n%s%s", code, stdout.String(), stderr.String())
			}
			stdout.Reset()
			if code := run([]string{"warren", "fmt", "--check", path}, nil, &stdout, &stderr); code != exitOK {
				t.Errorf("not canonically formatted (run warren fmt %s):\n%s", dir, stdout.String())
			}
		})
	}
}
