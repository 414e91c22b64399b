package definitions_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/internal/defgen"
	"github.com/warren-tool/warren/internal/testcorpus"
)

// TestNormalizeSharedFills checks that NormalizeShared, which leaves some
// defaults unfilled to share objects, gives what NormalizeAgainst gives
// once Filled, object by object, and the same digest: over the broker
// exports of the corpus, make bench's shape, and both as RabbitMQ 4.3
// exports them (users with limits {}, queues with a type and x-queue-type).
func TestNormalizeSharedFills(t *testing.T) {
	docs := map[string]*definitions.Document{}
	paths, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "exports_after_import_3.10.8", "*.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := definitions.Parse(p, data); d != nil {
			docs[filepath.Base(p)] = d
		}
	}
	if len(docs) == 0 {
		t.Fatal("no exports in the corpus")
	}
	shape := defgen.Shape{Vhosts: 3, Users: 20, Queues: 30, Exchanges: 5, Bindings: 20, Policies: 3}
	docs["defgen"], _ = definitions.Parse("defgen.json", shape.Broker())
	like43, _ := definitions.Parse("like43.json", shape.Broker())
	for _, u := range like43.Users {
		u.Limits = map[string]int64{}
	}
	for i, q := range like43.Queues {
		typ := []string{"classic", "quorum"}[i%2]
		q.Type, q.Arguments = typ, q.Arguments.With("x-queue-type", typ)
	}
	like43.Vhosts[1].DefaultQueueType = "quorum"
	docs["like43"] = like43
	fallback := map[string]string{"vhost-2": "quorum"}
	for name, d := range docs {
		full, shared := definitions.NormalizeAgainst(d, fallback), definitions.NormalizeShared(d, fallback)
		for _, k := range definitions.Kinds {
			f, s := full.ObjectsOf(k), shared.ObjectsOf(k)
			if len(f) != len(s) {
				t.Fatalf("%s: %d %s normalized, %d shared", name, len(f), k, len(s))
			}
			for i := range f {
				if got := shared.Filled(s[i]); !reflect.DeepEqual(got, f[i]) {
					t.Errorf("%s: %s filled:\n%#v\nwant\n%#v", name, k, got, f[i])
				}
			}
		}
		if a, b := definitions.DigestNormalized(full), definitions.DigestNormalized(shared); a != b {
			t.Errorf("%s: digest %s normalized, %s shared", name, a, b)
		}
	}
}
