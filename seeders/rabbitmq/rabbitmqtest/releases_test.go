package rabbitmqtest

import (
	"slices"
	"testing"

	"github.com/warren-tool/warren/definitions"
)

// TestTestedReleases: the releases the version table's docs name as
// checked (definitions.TestedReleases) are the ones the tests run.
func TestTestedReleases(t *testing.T) {
	var runs []string
	for _, series := range AllSeries {
		runs = append(runs, Releases[series])
	}
	if !slices.Equal(runs, definitions.TestedReleases) {
		t.Errorf("the tests run %v (rabbitmqtest.Releases), definitions.TestedReleases says %v", runs, definitions.TestedReleases)
	}
}
