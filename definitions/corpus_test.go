package definitions_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/testcorpus"
	"github.com/warren-tool/warren/schema"
)

const (
	suite   = "rabbitmq-server/deps__rabbit__test__definition_import_SUITE_data__"
	history = "rabbitmq-server/history/"
)

// corpusMistakes are files RabbitMQ accepts although they hold a real
// mistake, which warren reports as an error.
var corpusMistakes = map[string]struct {
	code   schema.Code
	reason string
}{
	"public/hondyman_uisce__rabbitmq-definitions.json": {schema.EHashLength,
		"a 20-byte (md5-sized) hash with hashing_algorithm misspelled as password_hash_type: RabbitMQ stores it as sha256 and guest can never log in"},
	suite + "case10__case10a.json": {schema.EDuplicate,
		"the same queue is listed twice; RabbitMQ silently keeps the last"},
}

// corpusRejected are files RabbitMQ refuses for their content; warren
// refuses them too, with the code given.
var corpusRejected = map[string]schema.Code{
	"public/NakaSato_gridtokenx-platform-infa__docker__rabbitmq__definitions.json":                                           schema.EHashEncoding, // a plain password in password_hash
	"public/templates/alphagov_govuk-aws__terraform__projects__app-publishing-amazonmq__publishing-rabbitmq-schema.json.tpl": schema.ESyntax,
	suite + "case13a.json":        schema.EQueueArgument, // x-max-length on a stream
	suite + "failing_case12.json": schema.EExchangeType,
	suite + "failing_case17.json": schema.ERequired, // a policy without name
	suite + "failing_case19.json": schema.EType,     // a user limit that is a string
	suite + "failing_case20.json": schema.ESyntax,
	suite + "failing_case21.json": schema.ENoVhost,
	history + "952d70daf3__selenium__test__authnz-msg-protocols__imports__system-logging.json":                   schema.ENoVhost,
	history + "a966395f02__deps__rabbitmq_management__test__definitions_import_SUITE_data__case10__case10a.json": schema.EDuplicate,
	// An overlay for vhost sda (W104) whose upstream and shovel URIs are an
	// unsubstituted placeholder, "CEGA_CONNECTION": with the plugins on and
	// sda present, RabbitMQ refuses the URI (corpus README).
	"public/BiobankLab_sensitive-data-archive__rabbitmq__federation.json": schema.EBrokerURI,
}

// corpusElsewhere are files RabbitMQ refused for reasons outside the file:
// a plugin the node did not have, an object the file expects on the broker,
// or the endpoint it was posted to. warren accepts them, warning where a
// reference leaves the files.
var corpusElsewhere = map[string]string{
	"public/2327_dc_rabbitmq_federation__definitions_.json":                                                    "permission on vhost test, expected on the broker (W104)",
	"public/BiobankLab_sensitive-data-archive__rabbitmq__definitions.json":                                     "needs the shovel plugin",
	"public/Grandys_rabbitmq-api-gateway__rabbitmq__definitions.json":                                          "needs the federation plugin",
	"public/alphagov_govuk-aws__publishing-rabbitmq-schema.RENDERED.json":                                      "permission for user root, expected on the broker (W103)",
	"public/metdatasystem_us__rabbitmq-definitions.json":                                                       "permission for user mds, expected on the broker (W103)",
	"public/rabbitmq_rabbitmqadmin-ng__tests__fixtures__definitions__vhost.definitions.1.json":                 "a per-vhost export posted to the cluster-wide endpoint; its policy's apply-to is RabbitMQ 4's",
	"public/rabbitmq_sample-configs__shovels__100-shovels-amqp-0.9.1.json":                                     "needs the shovel plugin",
	"public/rabbitmq_sample-configs__shovels__100-shovels-amqp-1.0.json":                                       "needs the shovel plugin, and a newer RabbitMQ for AMQP 1.0 shovel keys",
	"public/rabbitmq_sample-configs__shovels__100-shovels-clustered-amqp-0.9.1.json":                           "needs the shovel plugin",
	"public/rabbitmq_sample-configs__vhosts__1000-vhosts.json":                                                 "the HTTP import timed out; rabbitmqctl import_definitions took it",
	suite + "case10__case10b.json":                                                                             "needs the federation plugin",
	"rabbitmq-server/deps__rabbitmq_cli__test__fixtures__files__definitions.json":                              "needs the federation plugin",
	"rabbitmq-server/deps__rabbitmq_exchange_federation__test__definition_import_SUITE_data__case1.json":       "needs the federation plugin",
	"rabbitmq-server/deps__rabbitmq_federation_common__test__definition_import_SUITE_data__case1.json":         "needs the federation plugin",
	"rabbitmq-server/deps__rabbitmq_queue_federation__test__definition_import_SUITE_data__case1.json":          "needs the federation plugin",
	history + "7b7c0038f3__deps__rabbitmq_management__test__definitions_import_SUITE_data__case9__case9a.json": "needs the federation plugin",
}

// corpusSkipped are rows that hold no verdict on the file.
var corpusSkipped = map[string]string{
	"public/rabbitmq_sample-configs__queues__1k-streams.json": "not run on 4.0.5: 1,000 streams exhaust the node's file descriptors",
}

// corpusResults is one RabbitMQ version's verdict on the corpus and the
// exceptions to warren agreeing with it, each with its reason.
type corpusResults struct {
	version  string // what warren validate --rabbitmq-version gets
	tsv      string
	mistakes map[string]struct {
		code   schema.Code
		reason string
	}
	rejected  map[string]schema.Code
	elsewhere map[string]string
}

// corpusVersions are the versions the corpus was imported into. 3.10.8's
// exceptions are the lists above; 4.0.5 differs where the corpus README
// says it does.
func corpusVersions() []corpusResults {
	v310 := corpusResults{version: "3.10", tsv: "IMPORT_RESULTS.tsv",
		mistakes: corpusMistakes, rejected: clone(corpusRejected), elsewhere: clone(corpusElsewhere)}
	// apply-to classic_queues is RabbitMQ 3.12's: 3.10 refuses it (and the
	// file is a per-vhost export posted to the cluster-wide endpoint).
	const adminVhost = "public/rabbitmq_rabbitmqadmin-ng__tests__fixtures__definitions__vhost.definitions.1.json"
	delete(v310.elsewhere, adminVhost)
	v310.rejected[adminVhost] = schema.EVersionRefused

	v40 := corpusResults{version: "4.0", tsv: "IMPORT_RESULTS_4.0.5.tsv",
		mistakes: map[string]struct {
			code   schema.Code
			reason string
		}{
			suite + "case10__case10a.json": corpusMistakes[suite+"case10__case10a.json"],
		},
		rejected: clone(corpusRejected), elsewhere: clone(corpusElsewhere)}
	// 4.0.5 answers 500 to the 20-byte hash labelled sha256 that 3.10.8 kept.
	v40.rejected["public/hondyman_uisce__rabbitmq-definitions.json"] = schema.EHashLength
	// Classic queue mirroring is gone: every ha-* policy key is refused.
	for _, f := range []string{
		suite + "case1.json",
		suite + "case3.json",
		"rabbitmq-server/deps__rabbitmq_prometheus__docker__rabbitmq-dist-metrics-definitions.json",
		"rabbitmq-server/deps__rabbitmq_prometheus__docker__rabbitmq-dist-tls-definitions.json",
		history + "5f8e6dc9e3__apps__rabbitmq_prometheus__docker__rabbitmq-overview-definitions.json",
		history + "6daccf9b88__deps__rabbitmq_prometheus__docker__rabbitmq-dist-tls-definitions.json",
		history + "6daccf9b88__deps__rabbitmq_prometheus__docker__rabbitmq-overview-definitions.json",
		history + "6eeeb6b0b4__deps__rabbitmq_prometheus__docker__rabbitmq-overview-definitions.json",
		history + "cd0e804180__deps__rabbitmq_prometheus__docker__rabbitmq-dist-tls-definitions.json",
	} {
		v40.rejected[f] = schema.EVersionRefused
	}
	// 4.0.5 stopped at the missing user root first (as 3.10.8 did); its
	// ha-mode policies are refused by 4.0 as well, which warren reports.
	const govuk = "public/alphagov_govuk-aws__publishing-rabbitmq-schema.RENDERED.json"
	delete(v40.elsewhere, govuk)
	v40.rejected[govuk] = schema.EVersionRefused
	v40.elsewhere[history+"7daa435887__deps__rabbitmq_management__selenium__test__authnz-msg-protocols__imports__system-logging.json"] =
		"binds from amq.rabbitmq.log, which exists only when the log exchange is on; 4.0.5 refuses the import without it (W105 says so), 3.10.8 dropped the binding"
	v40.elsewhere["public/rabbitmq_sample-configs__vhosts__1000-vhosts.json"] = "vhost v329 failed to start on a 2-core machine: no verdict on the file"

	// 4.3.6 answers as 4.0.5 does but for two files (the corpus README).
	v43 := corpusResults{version: "4.3", tsv: "IMPORT_RESULTS_4.3.6.tsv",
		mistakes: v40.mistakes, rejected: clone(v40.rejected), elsewhere: clone(v40.elsewhere)}
	// A policy with queue-master-locator: 4.3 denies the deprecated
	// feature queue_master_locator by default.
	v43.rejected[suite+"case4.json"] = schema.EVersionRefused
	// The binding from amq.rabbitmq.log that 4.0.5 refused is accepted.
	delete(v43.elsewhere, history+"7daa435887__deps__rabbitmq_management__selenium__test__authnz-msg-protocols__imports__system-logging.json")
	return []corpusResults{v310, v40, v43}
}

func clone[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type corpusEntry struct {
	path   string // relative to corpusDir
	status string // RabbitMQ's HTTP status on import
}

func readCorpus(t *testing.T) []corpusEntry { return readResults(t, "IMPORT_RESULTS.tsv") }

func readResults(t *testing.T, name string) []corpusEntry {
	t.Helper()
	// Split by hand: the messages hold quotes that are not CSV quoting.
	data, err := os.ReadFile(filepath.Join(testcorpus.Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusEntry
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n")[1:] {
		row := strings.Split(line, "\t")
		if len(row) < 2 {
			t.Fatalf("%s: short row %q", name, line)
		}
		out = append(out, corpusEntry{path: row[0], status: row[1]})
	}
	if len(out) != 97 {
		t.Fatalf("%s lists %d files, want 97", name, len(out))
	}
	return out
}

func validate(t *testing.T, path string) (*definitions.Document, schema.Diagnostics) {
	return validateFor(t, path, "")
}

func validateFor(t *testing.T, path, version string) (*definitions.Document, schema.Diagnostics) {
	t.Helper()
	doc, diags := definitions.Load([]string{path}, definitions.LoadOptions{})
	if doc != nil {
		diags = append(diags, definitions.Check(doc, definitions.CheckOptions{RabbitMQVersion: version})...)
	}
	return doc, diags
}

func errorCodes(diags schema.Diagnostics) []schema.Code {
	var out []schema.Code
	for _, d := range diags {
		if d.Severity == schema.Error {
			out = append(out, d.Code)
		}
	}
	return out
}

// TestCorpusVerdicts runs warren over every corpus file with each
// version's rules (--rabbitmq-version 3.10, 4.0, 4.3) and compares its verdict
// with that RabbitMQ version's.
func TestCorpusVerdicts(t *testing.T) {
	for _, v := range corpusVersions() {
		t.Run(v.version, func(t *testing.T) {
			for _, e := range readResults(t, v.tsv) {
				t.Run(e.path, func(t *testing.T) { corpusVerdict(t, v, e) })
			}
		})
	}
}

func corpusVerdict(t *testing.T, v corpusResults, e corpusEntry) {
	if e.status == "skipped" {
		if _, ok := corpusSkipped[e.path]; !ok {
			t.Fatalf("RabbitMQ %s did not import this file: list it in corpusSkipped", v.version)
		}
		return
	}
	_, diags := validateFor(t, filepath.Join(testcorpus.Dir(t), e.path), v.version)
	codes := errorCodes(diags)
	if m, ok := v.mistakes[e.path]; ok {
		if e.status != "204" {
			t.Fatalf("listed as a mistake RabbitMQ %s lets through, but it answered %s", v.version, e.status)
		}
		if !slices.Contains(codes, m.code) {
			t.Errorf("want error %s (%s), got %v\n%s", m.code, m.reason, codes, diags.Error())
		}
		return
	}
	if code, ok := v.rejected[e.path]; ok {
		if e.status == "204" {
			t.Fatalf("listed as rejected, but RabbitMQ %s accepted it", v.version)
		}
		if !slices.Contains(codes, code) {
			t.Errorf("RabbitMQ %s rejects this file (%s); want warren error %s, got %v\n%s", v.version, e.status, code, codes, diags.Error())
		}
		return
	}
	_, elsewhere := v.elsewhere[e.path]
	if e.status != "204" && !elsewhere {
		t.Fatalf("RabbitMQ %s answered %s: list the file in its rejected or elsewhere list", v.version, e.status)
	}
	if len(codes) > 0 {
		t.Errorf("RabbitMQ %s accepts this file but warren reports errors:\n%s", v.version, diags.Error())
	}
}

// TestCorpusExports loads what RabbitMQ 3.10.8 exported after importing each
// corpus file: a JSON export RabbitMQ wrote loads unchanged.
func TestCorpusExports(t *testing.T) {
	exports, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "exports_after_import_3.10.8", "*.json"))
	more, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "exports_after_import_3.10.8", "*", "*.json"))
	exports = append(exports, more...)
	if len(exports) < 70 {
		t.Fatalf("found %d exports, want at least 70", len(exports))
	}
	for _, path := range exports {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, diags := validate(t, path)
			codes := errorCodes(diags)
			if strings.Contains(path, "hondyman_uisce") {
				// The import kept the mistaken hash; warren still sees it.
				if !slices.Equal(codes, []schema.Code{schema.EHashLength}) {
					t.Errorf("want exactly E033, got %v", codes)
				}
				return
			}
			if len(codes) > 0 {
				t.Errorf("a RabbitMQ export does not validate:\n%s", diags.Error())
			}
			for _, d := range diags {
				if d.Code == schema.WUnknownField {
					t.Errorf("an export RabbitMQ wrote has a field the schema does not know: %s", d)
				}
			}
		})
	}
}

// TestCorpusRoundTrip formats every corpus file that decodes to canonical
// JSON and to YAML, loads the YAML back, and checks that nothing changed in
// meaning: the same objects with the same fields, only sorted, with tags as
// lists.
func TestCorpusRoundTrip(t *testing.T) {
	for _, e := range readCorpus(t) {
		t.Run(e.path, func(t *testing.T) {
			path := filepath.Join(testcorpus.Dir(t), e.path)
			doc, diags := definitions.Load([]string{path}, definitions.LoadOptions{})
			if doc == nil || diags.HasErrors() {
				return // decode or schema errors: fmt refuses such files
			}
			doc.Sort()
			canonical := doc.EncodeJSON()
			yamlDoc, yd := definitions.Parse("roundtrip.yaml", doc.EncodeYAML(""))
			if yd.HasErrors() {
				t.Fatalf("the YAML form does not load:\n%s", yd.Error())
			}
			yamlDoc.Sort()
			if diff := cmp.Diff(string(canonical), string(yamlDoc.EncodeJSON())); diff != "" {
				t.Fatalf("JSON → YAML → JSON changed the document (-json +yaml):\n%s", diff)
			}
			original, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(meaning(t, original), meaning(t, canonical)); diff != "" {
				t.Errorf("formatting changed the meaning (-original +formatted):\n%s", diff)
			}
		})
	}
}

// meaning decodes a definitions file into a form where only meaning
// counts: lists of objects sorted, comma-separated tags split, numbers
// compared by value.
func meaning(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range definitions.Kinds {
		list, ok := doc[string(k)].([]any)
		if !ok {
			continue
		}
		for _, item := range list {
			if m, ok := item.(map[string]any); ok {
				if s, ok := m["tags"].(string); ok && (k == definitions.KindUser || k == definitions.KindVhost) {
					tags := []any{}
					for _, t := range definitions.SplitTags(s) {
						tags = append(tags, t)
					}
					m["tags"] = tags
				}
			}
		}
		slices.SortFunc(list, func(a, b any) int {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			return bytes.Compare(x, y)
		})
	}
	return doc
}
