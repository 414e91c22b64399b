package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// SavedPlanFormat is the format_version of a saved plan that this warren
// writes and reads.
const SavedPlanFormat = 2

// SavedPlan is what warren diff -o writes and warren apply PLAN.json
// carries out: the contract between review and apply (Terraform's
// planfile). It holds no secret. Apply makes the plan again, from the same
// files and options against the same broker as the same user, and carries
// it out only when the result equals the saved one (see Differences).
type SavedPlan struct {
	Warren        string      `json:"warren"` // "plan"
	FormatVersion int         `json:"format_version"`
	Files         []SavedFile `json:"files"`
	Broker        BrokerID    `json:"broker"`
	Options       Options     `json:"options"`
	LiveDigest    string      `json:"live_digest"`
	Plan          JSON        `json:"plan"`
}

// SavedFile is a file a saved plan was made from, with its SHA-256.
type SavedFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// BrokerID says which broker a plan was made against, and as whom.
type BrokerID struct {
	// URLs are the management URLs (or the cloud API's endpoint) used.
	URLs []string `json:"urls"`
	// Cluster identifies the broker beyond its URL: RabbitMQ's
	// internal_cluster_id and cluster_name, an Amazon MQ broker id, a DMS
	// instance id. Empty when the target has none.
	Cluster map[string]string `json:"cluster"`
	// ActingUser is the user warren was logged in as ("" for targets
	// reached with API credentials rather than a broker user).
	ActingUser string `json:"acting_user"`
}

// Options are what decides a plan, and what apply is allowed to do,
// besides the files and the broker. A saved plan records them; applying it
// with other options is refused.
type Options struct {
	Target          string `json:"target"`
	Prune           bool   `json:"prune"`
	KeepGuest       bool   `json:"keep_guest"`
	Replace         bool   `json:"replace"`
	DestroyMessages bool   `json:"destroy_messages"`
	UpdatePasswords bool   `json:"update_passwords"`
	// Owner is the files' owner; TakeOver lets the plan take objects over
	// from other owners; Vhosts limit the plan to those vhosts.
	Owner    string   `json:"owner,omitempty"`
	TakeOver bool     `json:"take_over,omitempty"`
	Vhosts   []string `json:"vhosts,omitempty"`
	// CloseConnections: after the apply, close the connections of users
	// whose password changed, who were deleted, or whose permissions may
	// allow less (Disconnects).
	CloseConnections bool `json:"close_connections,omitempty"`
	// Edition is a Huawei Cloud DMS instance's edition (--edition; "" is
	// the default, amqp-0-9-1), whose rules the files are checked by and
	// whose objects are read. InstanceType and DeploymentMode size an
	// Amazon MQ for RabbitMQ broker (--instance-type, --deployment-mode;
	// "" is SINGLE_INSTANCE), whose limits diff and apply check.
	Edition        string `json:"edition,omitempty"`
	InstanceType   string `json:"instance_type,omitempty"`
	DeploymentMode string `json:"deployment_mode,omitempty"`
}

// ReadSavedPlan reads data as a saved plan. It returns nil, nil when data
// does not say it is one (a JSON object whose "warren" is "plan"): it is
// then a definitions file. A file that says it is a plan and does not read
// as one (a type error, an unknown field, another format) is an error,
// never loaded as definitions.
func ReadSavedPlan(data []byte) (*SavedPlan, error) {
	// Bytes that cannot hold a "warren" key are no plan, found without
	// decoding them: warren apply asks this of every definitions file
	// named *.json, which the loader reads next (encoding/json took 40 ms
	// to list the keys of make bench's 5 MB file). A key is written with
	// its letters or with \u escapes.
	if !bytes.Contains(data, []byte("warren")) && !bytes.Contains(data, []byte(`\u`)) {
		return nil, nil
	}
	var head map[string]json.RawMessage
	if json.Unmarshal(data, &head) != nil {
		return nil, nil
	}
	raw, ok := head["warren"]
	if !ok {
		return nil, nil
	}
	var tag string
	if err := json.Unmarshal(raw, &tag); err != nil || tag != "plan" {
		return nil, fmt.Errorf("\"warren\" is %s: a saved plan says \"plan\" there, and definitions files have no such field", raw)
	}
	var version int
	if err := json.Unmarshal(head["format_version"], &version); err != nil || version != SavedPlanFormat {
		return nil, fmt.Errorf("a plan of format %s; this warren reads format %d: run warren diff -o again", bytes.TrimSpace(head["format_version"]), SavedPlanFormat)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var sp SavedPlan
	if err := dec.Decode(&sp); err != nil {
		return nil, fmt.Errorf("not a valid saved plan: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("not a valid saved plan: more data after the plan")
	}
	return &sp, nil
}

// Differences lists how now (the plan made again at apply time) differs
// from sp (the plan reviewed), one line each; none means apply may carry
// now out. Changes are compared in full (fields, objects, order), and so
// are what the plan leaves alone, the options, the acting user and the
// broker's identity. The URLs count only when the broker has no identity.
func (sp *SavedPlan) Differences(now *SavedPlan) []string {
	var out []string
	diff := func(what string, saved, current any) {
		a, b := canonical(saved), canonical(current)
		if a != b {
			out = append(out, fmt.Sprintf("%s: %s in the saved plan, %s now", what, a, b))
		}
	}
	diff("target", sp.Options.Target, now.Options.Target)
	diff("options", sp.Options, now.Options)
	diff("acting user", sp.Broker.ActingUser, now.Broker.ActingUser)
	diff("broker", sp.Broker.Cluster, now.Broker.Cluster)
	if len(sp.Broker.Cluster) == 0 && len(now.Broker.Cluster) == 0 {
		diff("broker URLs", sp.Broker.URLs, now.Broker.URLs)
	}
	if sp.LiveDigest != now.LiveDigest {
		out = append(out, "the broker changed since the plan was made (its definitions differ from those the plan was made against)")
	}
	saved, current := sp.Plan, now.Plan
	diff("summary", saved.Summary, current.Summary)
	diff("pruning", saved.Pruning, current.Pruning)
	diff("left alone", saved.Skipped, current.Skipped)
	diff("not in the files", saved.Unmanaged, current.Unmanaged)
	savedChanges, currentChanges := saved.Changes, current.Changes
	a, b := changeLines(savedChanges), changeLines(currentChanges)
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "- in the saved plan only: "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "+ in the plan made now only: "+l)
		}
	}
	if len(out) == 0 && !slices.Equal(a, b) {
		out = append(out, "the same changes in another order")
	}
	return out
}

func changeLines(chs []ChangeJSON) []string {
	out := make([]string, len(chs))
	for i, ch := range chs {
		out[i] = canonical(ch)
	}
	return out
}

// canonical is v as compact JSON, with numbers exact and object keys
// sorted, whether v was built in memory or read from a file.
func canonical(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var x any
	if dec.Decode(&x) != nil {
		return string(data)
	}
	data, _ = json.Marshal(x)
	return string(data)
}

// SavedMigration is what warren migrate plan --out saves: where the old
// cluster was read, how the new one reaches it, and the new cluster's
// saved plan. It holds no secret: the upstream URI is a reference or has
// no password.
type SavedMigration struct {
	Warren        string          `json:"warren"` // "migrate-plan"
	FormatVersion int             `json:"format_version"`
	From          MigrationSource `json:"from"`
	Upstream      string          `json:"upstream"`
	Plan          *SavedPlan      `json:"plan"`
}

// SavedMigrationFormat is the format_version of a saved migration that
// this warren writes and reads.
const SavedMigrationFormat = 1

// MigrationSource is where the old cluster's definitions were read: its
// URL, or an export file, and the digest of what was read. A saved
// migration is refused when either changed.
type MigrationSource struct {
	URL    string `json:"url,omitempty"`
	File   string `json:"file,omitempty"`
	Digest string `json:"digest"`
}

// ReadSavedMigration reads data as a saved migration; name is the file's,
// for errors.
func ReadSavedMigration(name string, data []byte) (*SavedMigration, error) {
	var mp SavedMigration
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&mp); err != nil || mp.Warren != "migrate-plan" || mp.Plan == nil {
		return nil, fmt.Errorf("%s is not a plan saved by warren migrate plan --out", name)
	}
	if mp.FormatVersion != SavedMigrationFormat {
		return nil, fmt.Errorf("%s: a migration plan of format %d; this warren reads format %d: run warren migrate plan --out again", name, mp.FormatVersion, SavedMigrationFormat)
	}
	return &mp, nil
}
