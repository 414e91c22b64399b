package definitions

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the package's tests, then checks that none of them changed
// the empty limits every user without limits shares (the converter's and
// Normalize's): a model's maps are never changed in place.
func TestMain(m *testing.M) {
	code := m.Run()
	if len(noLimits) != 0 {
		fmt.Fprintf(os.Stderr, "the shared empty limits were changed in place: %v\n", noLimits)
		code = 1
	}
	os.Exit(code)
}
