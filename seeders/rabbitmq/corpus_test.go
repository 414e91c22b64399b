package rabbitmq_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warren-tool/warren/definitions"
	warrenplan "github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/internal/testcorpus"
	"github.com/warren-tool/warren/seeders/rabbitmq"
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

// corpusNotDiffedOn are files a series' results call accepted that this
// test does not diff on that series, with the reason.
var corpusNotDiffedOn = map[string]map[string]string{
	"4.3": {
		"rabbitmq-server/history/7daa435887__deps__rabbitmq_management__selenium__test__authnz-msg-protocols__imports__system-logging.json": "IMPORT_RESULTS_4.3.6.tsv records 204, but a test node of 4.3.6 refuses it (400 resources_missing: amq.rabbitmq.log exists only when the log exchange is on), as 4.0.5 does; warren warns W105 either way",
	},
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
	results := corpusResults[rabbitmqtest.Series()]
	diffed := 0
	forAccepted(t, "diffed", func(t *testing.T, path, corpusDir string, data []byte) {
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
		desired = definitions.KeepAsImported(desired, n.Version)
		c := client(t, n)
		// With the broker's version, as diff and apply give it: what
		// the version ignores (a vhost's protection before 4.0.6) is
		// not compared.
		plan, text := diff(t, c, desired, warrenplan.WithRabbitMQVersion(n.Version))
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
				err := n.Do(context.Background(), "DELETE", "/api/vhosts/"+url.PathEscape(v.Name)+"/deletion/protection", nil, nil)
				if err != nil && !strings.Contains(err.Error(), ": 404 ") {
					t.Errorf("unprotecting vhost %s: %v", v.Name, err)
				}
			}
		}
	}
}

// maxRoundTrip bounds the corpus files TestCorpusExportRoundTrip takes
// through the broker twice: the larger ones (10,000 queues, 1,000 vhosts)
// take minutes each.
const maxRoundTrip = 60 << 10

// TestCorpusExportRoundTrip imports every corpus file of at most 60 KB
// that the node's version accepts into a blank node, exports the node with
// warren (hashes, the cluster's id and name kept: only the version fields
// trimmed), imports that export into a blank node again, and diffs the
// export against the node: warren must find nothing to do. A node keeps
// its own internal_cluster_id (4.3.6 does), which is never drift.
func TestCorpusExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	done := 0
	forAccepted(t, "taken", func(t *testing.T, path, corpusDir string, data []byte) {
		if len(data) > maxRoundTrip {
			return
		}
		desired, _ := definitions.Load([]string{filepath.Join(corpusDir, path)}, definitions.LoadOptions{})
		n := rabbitmqtest.Shared(t)
		if desired != nil {
			t.Cleanup(func() { unprotectVhosts(t, n, desired) })
		}
		if err := n.PostDefinitions(ctx, data); err != nil {
			t.Fatalf("RabbitMQ's import of the file: %v", err)
		}
		c := client(t, n)
		doc, err := c.Export(ctx, rabbitmq.ExportOptions{Trims: []string{"versions"}})
		if err != nil {
			t.Fatal(err)
		}
		exported := doc.EncodeJSON()
		unprotectVhosts(t, n, doc)
		n = rabbitmqtest.Shared(t) // reset: a blank node
		if err := n.PostDefinitions(ctx, exported); err != nil {
			t.Fatalf("RabbitMQ's import of warren's export: %v\n%s", err, exported)
		}
		again := parse(t, "export.json", exported)
		t.Cleanup(func() { unprotectVhosts(t, n, again) })
		again = definitions.KeepAsImported(again, n.Version)
		if p, text := diff(t, c, again); !p.Empty() {
			t.Errorf("after importing warren's export of it into a blank node, warren diff finds changes%s:\n%s", mismatch(n), text)
		}
		done++
	})
	if done < 40 {
		t.Errorf("took %d corpus files through export and import, want at least 40", done)
	}
}

// forAccepted runs f, each in a subtest named by its path, on every corpus
// file the node's RabbitMQ version accepts (204), but those corpusNotDiffed
// and corpusNotDiffedOn leave out (what, in their log line, is what f does
// with a file). Without a node every file would be left out: the test
// fails in CI, and skips elsewhere.
func forAccepted(t *testing.T, what string, f func(t *testing.T, path, corpusDir string, data []byte)) {
	t.Helper()
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	corpusDir := testcorpus.Dir(t)
	results, ok := corpusResults[rabbitmqtest.Series()]
	if !ok {
		t.Fatalf("the corpus has no results for RabbitMQ %s", rabbitmqtest.Series())
	}
	for _, row := range testcorpus.Results(t, results.file) {
		path := row.Path
		if row.Status != "204" {
			continue
		}
		t.Run(path, func(t *testing.T) {
			if why, ok := corpusNotDiffed[path]; ok {
				t.Logf("not %s: %s", what, why)
				return
			}
			if why, ok := corpusNotDiffedOn[rabbitmqtest.Series()][path]; ok {
				t.Logf("not %s on RabbitMQ %s: %s", what, rabbitmqtest.Series(), why)
				return
			}
			data, err := os.ReadFile(filepath.Join(corpusDir, path))
			if err != nil {
				t.Fatal(err)
			}
			f(t, path, corpusDir, data)
		})
	}
}
