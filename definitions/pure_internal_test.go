package definitions

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The package doc says definitions is pure: no network, no clock. Its
// non-test files import nothing that dials, waits or reads the clock;
// reading a secret (environment, files, pipes with a deadline) is
// internal/secret's.
func TestPureImports(t *testing.T) {
	impure := []string{"time", "syscall", "net", "net/http", "os/exec", "context"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range impure {
				if path == bad {
					t.Errorf("%s imports %s; the package is pure (no network, no clock)", name, path)
				}
			}
		}
	}
}
