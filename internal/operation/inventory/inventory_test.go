package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/golden"
	"github.com/warren-tool/warren/schema"
)

func lines(diags schema.Diagnostics) string {
	diags.Sort()
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func TestLoad(t *testing.T) {
	inv, diags := Load("testdata/fleet/inventory.yaml")
	if inv == nil || len(diags) > 0 {
		t.Fatalf("Load: %v", diags)
	}
	if inv.Concurrency != 2 || len(inv.Brokers) != 2 {
		t.Fatalf("concurrency %d, %d brokers", inv.Concurrency, len(inv.Brokers))
	}
	b, err := inv.Broker("staging")
	if err != nil {
		t.Fatal(err)
	}
	want := &Broker{Name: "staging", URLs: []string{"http://localhost:15673"}, Username: "admin",
		PasswordFile: "testdata/fleet/staging.secret", Target: "rabbitmq",
		Files: []string{"testdata/fleet/base.yaml"}, Overlays: []string{"testdata/fleet/staging.yaml"},
		Labels: map[string]string{"env": "staging", "region": "eu"},
		At:     schema.Location{File: "testdata/fleet/inventory.yaml", Pointer: "/brokers/1"}}
	if diff := cmp.Diff(want, b); diff != "" {
		t.Errorf("Broker(staging) (-want +got):\n%s", diff)
	}
	if _, err := inv.Broker("nope"); err == nil || !strings.Contains(err.Error(), "prod, staging") {
		t.Errorf("Broker(nope) = %v, want an error listing the names", err)
	}
	for sel, want := range map[string][]string{
		"env=staging":            {"staging"},
		"region=eu":              {"prod", "staging"},
		"region=eu,env!=staging": {"prod"},
		"env=nowhere":            nil,
	} {
		got, err := inv.Select(strings.Split(sel, ","))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, b := range got {
			names = append(names, b.Name)
		}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("Select(%s) (-want +got):\n%s", sel, diff)
		}
	}
	if _, err := inv.Select([]string{"env"}); err == nil {
		t.Error("Select(env) without a value: no error")
	}
}

func TestPassword(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("s3cret\n"), 0o600)
	t.Setenv("FLEET_PW", "from-env")
	for _, tc := range []struct {
		b    Broker
		want string
		err  bool
	}{
		{Broker{PasswordEnv: "FLEET_PW"}, "from-env", false},
		{Broker{PasswordEnv: "FLEET_UNSET_PW"}, "", true},
		{Broker{PasswordFile: filepath.Join(dir, "pw")}, "s3cret", false},
		{Broker{PasswordFile: filepath.Join(dir, "missing")}, "", true},
		{Broker{}, "", false},
	} {
		got, err := tc.b.Password()
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%+v: Password() = %q, %v", tc.b, got, err)
		}
	}
}

// TestInvalid pins the diagnostics of a broken inventory, with their
// positions: an inline password, a duplicate name (both places), schema
// errors.
func TestInvalid(t *testing.T) {
	inv, diags := Load("testdata/fleet/invalid.yaml")
	if inv != nil {
		t.Error("an inventory with errors was returned")
	}
	golden.File(t, filepath.Join("testdata", "invalid.txt"), lines(diags))
	if strings.Contains(lines(diags), "hunter") {
		t.Error("a diagnostic shows a password written in the inventory")
	}
	// The same as JSON: positions from the JSON locator.
	_, diags = Parse("inv.json", []byte("{\"brokers\": [\n  {\"name\": \"a\", \"urls\": [\"http://x\"], \"files\": [\"f\"], \"password\": \"pw\"}\n]}"))
	if got, want := lines(diags), "inv.json:2:55: /brokers/0/password: the password is written in the inventory: give {env: NAME} or {file: PATH} instead [E090]\n"; got != want {
		t.Errorf("JSON inventory:\n got %q\nwant %q", got, want)
	}
	if _, diags := Load("testdata/fleet/missing.yaml"); len(diags) != 1 || diags[0].Code != schema.ERead {
		t.Errorf("missing file: %v", diags)
	}
	// A device that never ends is refused at MaxSize, not read forever.
	if _, diags := Load("/dev/zero"); len(diags) != 1 || diags[0].Code != schema.ETooLarge {
		t.Errorf("/dev/zero: %v", diags)
	}
}

// TestLayers loads the staging entry's base and overlay and pins what the
// overlay did (patch, replace, delete, add) and where each field came from.
func TestLayers(t *testing.T) {
	t.Setenv("APP_PASSWORD", "x")
	inv, _ := Load("testdata/fleet/inventory.yaml")
	b, _ := inv.Broker("staging")
	doc, layers, diags := definitions.LoadLayers(b.Files, b.Overlays, definitions.LoadOptions{})
	if doc == nil {
		t.Fatalf("no document: %v", diags)
	}
	diags = append(diags, layers.Remap(definitions.Check(doc, definitions.CheckOptions{}))...)
	var out strings.Builder
	out.WriteString("# layers\n" + strings.Join(layers.Describe(), "\n") + "\n# diagnostics\n" + lines(diags))
	out.WriteString("# merged\n")
	out.Write(doc.EncodeYAML(""))
	golden.File(t, filepath.Join("testdata", "layers.txt"), out.String())
}

// TestLayerErrors: an error found after merging points at the overlay
// that set the field; a bad $layer is E092; an object defined twice in
// one layer stays E020.
func TestLayerErrors(t *testing.T) {
	doc, layers, diags := definitions.LoadLayers([]string{"testdata/fleet/base.yaml"}, []string{"testdata/fleet/bad.yaml", "testdata/fleet/dup.yaml"}, definitions.LoadOptions{})
	diags = append(diags, layers.Remap(definitions.Check(doc, definitions.CheckOptions{}))...)
	golden.File(t, filepath.Join("testdata", "layer-errors.txt"), lines(diags))
}
