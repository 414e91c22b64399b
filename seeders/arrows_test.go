package seeders_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/warren-tool/warren/seeders/"

// goList runs go list in this directory with args (go test puts its own
// go first on PATH).
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// owner is the target a package under seeders/ belongs to (the first
// path element: rabbitmq for seeders/rabbitmq/boot), or "" for seeders
// itself and its internal packages, which no target owns.
func owner(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, module)
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	if first == "internal" {
		return ""
	}
	return first
}

// TestNoTargetImportsAnother: a target's packages (and their tests)
// import seeders and seeders/internal/..., never another target's: the
// composition of a platform's rules with a target happens where targets
// are opened.
func TestNoTargetImportsAnother(t *testing.T) {
	lines := goList(t, "-f", "{{.ImportPath}} {{join .Imports \" \"}} {{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./...")
	targets := map[string]bool{}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg := fields[0]
		if own := owner(pkg); own != "" {
			targets[own] = true
			for _, imp := range fields[1:] {
				if other := owner(imp); other != "" && other != own {
					t.Errorf("%s imports %s: target %s uses target %s's package", pkg, imp, own, other)
				}
			}
		}
	}
	// The walk saw the targets: a go list that listed nothing would pass.
	for _, want := range []string{"rabbitmq", "amazonmqrabbitmq", "amazonmqactivemq", "huaweicloud"} {
		if !targets[want] {
			t.Errorf("go list did not list target %s", want)
		}
	}
}

// TestBootIsOffline: what a blank node imports at boot is written without
// an HTTP client: seeders/rabbitmq/boot depends on no net/http, neither
// itself nor through what it imports.
func TestBootIsOffline(t *testing.T) {
	deps := goList(t, "-deps", "./rabbitmq/boot")
	if !slices.Contains(deps, module+"rabbitmq/boot") {
		t.Fatalf("go list -deps did not list the boot package: %v", deps)
	}
	for _, d := range deps {
		if d == "net/http" || d == module+"rabbitmq" || d == module+"internal/httpapi" {
			t.Errorf("seeders/rabbitmq/boot depends on %s", d)
		}
	}
}
