package definitions

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/warren-tool/warren/schema"
)

// The facts tables agree with each other: each list that names what
// another table holds names only what it holds, and the one list of
// mirroring keys has every ha-* key the policy table knows.
func TestFactsAgree(t *testing.T) {
	for k := range policyKeys {
		if strings.HasPrefix(k, "ha-") != slices.Contains(haKeys, k) {
			t.Errorf("policy key %s: in haKeys %v", k, slices.Contains(haKeys, k))
		}
	}
	for _, k := range haKeys {
		if _, ok := policyKeys[k]; !ok {
			t.Errorf("haKeys names %s, which the policy table does not know", k)
		}
		if !MirroringKey(k) {
			t.Errorf("MirroringKey(%s) is false", k)
		}
	}
	for _, v := range applyToValues {
		if _, _, known := applyToTypes(v); !known {
			t.Errorf("apply-to %s is listed and applyToTypes does not know it", v)
		}
	}
	for name, a := range queueArgs {
		for _, qt := range a.types {
			if !slices.Contains(queueTypes, qt) {
				t.Errorf("queue argument %s names queue type %s", name, qt)
			}
		}
	}
	for name, k := range policyKeys {
		for _, qt := range k.queues {
			if !slices.Contains(queueTypes, qt) {
				t.Errorf("policy key %s names queue type %s", name, qt)
			}
		}
	}
	for _, alg := range HashAlgorithms {
		if _, ok := hashSizes[alg]; !ok {
			t.Errorf("no hash size for %s", alg)
		}
	}
}

func TestPolicyReachesQueue(t *testing.T) {
	tests := []struct {
		applyTo, queueType string
		want               bool
	}{
		{"", "classic", true}, {"all", "stream", true}, {"queues", "quorum", true},
		{"exchanges", "classic", false}, {"classic_queues", "classic", true}, {"classic_queues", "quorum", false},
		{"quorum_queues", "quorum", true}, {"streams", "stream", true}, {"streams", "classic", false},
		{"nonsense", "classic", false},
	}
	for _, tt := range tests {
		if got := PolicyReachesQueue(tt.applyTo, tt.queueType); got != tt.want {
			t.Errorf("PolicyReachesQueue(%q, %q) = %v", tt.applyTo, tt.queueType, got)
		}
	}
}

func TestDefaultHashAlgorithm(t *testing.T) {
	for v, want := range map[string]string{"": HashSHA256, "3.5.7": HashMD5, "3.6.0": HashSHA256, "3.10.8": HashSHA256, "2.8.7": HashMD5} {
		if got := DefaultHashAlgorithm(v); got != want {
			t.Errorf("DefaultHashAlgorithm(%q) = %s, want %s", v, got, want)
		}
	}
}

// The published schema repeats the apply-to values for editors; it names
// the same ones as the facts table.
func TestSchemaApplyToIsTheFacts(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schema.JSON, &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Defs["policy"].Properties["apply-to"].Enum; !slices.Equal(got, applyToValues) {
		t.Errorf("schema's policy apply-to enum is %v; the facts say %v", got, applyToValues)
	}
}

// E062's explanation lists the keys operator policies take; it names every
// one the policy table says they take.
func TestOperatorKeysExplained(t *testing.T) {
	info, _ := schema.Lookup(schema.EOperatorPolicyKey)
	for _, k := range operatorKeys() {
		if !strings.Contains(info.Detail, k+",") && !strings.Contains(info.Detail, k+")") && !strings.Contains(info.Detail, k+" ") {
			t.Errorf("%s's explanation does not name operator policy key %s", schema.EOperatorPolicyKey, k)
		}
	}
}
