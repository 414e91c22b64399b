package rabbitmq_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/testcorpus"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// corpusNotDiffed are files RabbitMQ accepts that this test does not diff,
// with the reason.
var corpusNotDiffed = map[string]string{
	"public/hondyman_uisce__rabbitmq-definitions.json":                                       "warren refuses it (E033: a hash that can never match), so diff stops before comparing",
	"rabbitmq-server/deps__rabbit__test__definition_import_SUITE_data__case10__case10a.json": "warren refuses it (E020: a queue defined twice)",
	"public/rabbitmq_sample-configs__vhosts__1000-vhosts.json":                               "RabbitMQ takes about 6 minutes to import it (the corpus notes 347 s)",
	"public/rabbitmq_sample-configs__queues__1k-streams.json":                                "1,000 streams need more open files than a test node has (emfile, see the corpus notes)",
}

// corpusDrift are files whose diff after import is not empty, and the
// change warren rightly reports.
var corpusDrift = map[string]string{
	"rabbitmq-server/history/7daa435887__deps__rabbitmq_management__selenium__test__authnz-msg-protocols__imports__system-logging.json": `+ binding "amq.rabbitmq.log" → queue "system-log" on vhost "/" (routing key "#")`,
}

// corpusResults names, per RabbitMQ series, the corpus's record of that
// version's verdict on every file, and how many files it accepts that this
// test must diff at least.
var corpusResults = map[string]struct {
	file      string
	minDiffed int
}{
	"3.10": {"IMPORT_RESULTS.tsv", 60},
	"4.0":  {"IMPORT_RESULTS_4.0.5.tsv", 55},
	"4.3":  {"IMPORT_RESULTS_4.3.6.tsv", 55},
}

// TestCorpusImportThenDiff imports every corpus file the node's RabbitMQ
// version accepts into a blank node with RabbitMQ's own import, then diffs
// the file against the node: warren must find nothing to do (diff keeps
// guest here, as the import does).
func TestCorpusImportThenDiff(t *testing.T) {
	corpusDir := testcorpus.Dir(t)
	results, ok := corpusResults[rabbitmqtest.Series()]
	if !ok {
		t.Fatalf("the corpus has no results for RabbitMQ %s", rabbitmqtest.Series())
	}
	diffed := 0
	for _, row := range testcorpus.Results(t, results.file) {
		path, status := row.Path, row.Status
		if status != "204" {
			continue
		}
		t.Run(path, func(t *testing.T) {
			if why, ok := corpusNotDiffed[path]; ok {
				t.Logf("not diffed: %s", why)
				return
			}
			data, err := os.ReadFile(filepath.Join(corpusDir, path))
			if err != nil {
				t.Fatal(err)
			}
			desired, diags := definitions.Load([]string{filepath.Join(corpusDir, path)}, definitions.LoadOptions{})
			if desired != nil {
				diags = append(diags, definitions.Check(desired, definitions.CheckOptions{})...)
			}
			if diags.HasErrors() {
				t.Fatalf("warren refuses a file RabbitMQ accepts:\n%s", diags.Error())
			}
			n := rabbitmqtest.Shared(t)
			// A vhost protected from deletion (4.0.6 and later keep the
			// protection) must be unprotected for the next reset.
			t.Cleanup(func() { unprotectVhosts(t, n, desired) })
			if err := n.PostDefinitions(context.Background(), data); err != nil {
				t.Fatalf("RabbitMQ's import: %v", err)
			}
			// diff and apply compare with what the broker's version keeps
			// (checkBrokerVersion in cmd/warren).
			definitions.KeepAsImported(desired, n.Version)
			c := client(t, n)
			plan, text := diff(t, c, desired)
			// Reading kind by kind (what diff and apply do) sees the same.
			whole, err1 := c.Read(context.Background())
			byKind, err2 := c.ReadKinds(context.Background(), definitions.Kinds)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if definitions.Digest(whole) != definitions.Digest(byKind) {
				t.Errorf("ReadKinds differs from Read:\n%s\n%s", whole.EncodeJSON(), byKind.EncodeJSON())
			}
			if want, ok := corpusDrift[path]; ok {
				// The file binds from amq.rabbitmq.log, which exists only when
				// the log exchange is enabled: RabbitMQ dropped the binding
				// silently (validate warns W105), and diff says it is missing.
				if len(plan.Changes) != 1 || !strings.Contains(text, want) {
					t.Errorf("want exactly %s, got:\n%s", want, text)
				}
				return
			}
			if !plan.Empty() {
				t.Errorf("after RabbitMQ imported the file, warren diff finds changes:\n%s", text)
			}
			diffed++
		})
	}
	if diffed < results.minDiffed {
		t.Errorf("diffed %d corpus files, want at least %d", diffed, results.minDiffed)
	}
}

// unprotectVhosts takes away the deletion protection of the vhosts a file
// protects, where the node keeps it.
func unprotectVhosts(t *testing.T, n *rabbitmqtest.Node, d *definitions.Document) {
	if !definitions.Rule(definitions.RuleVhostProtected).AppliesTo(n.Version) {
		for _, v := range d.Vhosts {
			if p, _ := v.Metadata["protected_from_deletion"].(bool); p {
				if err := n.Do(context.Background(), "DELETE", "/api/vhosts/"+url.PathEscape(v.Name)+"/deletion/protection", nil, nil); err != nil {
					t.Errorf("unprotecting vhost %s: %v", v.Name, err)
				}
			}
		}
	}
}
