package operation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
)

// ExportRequest asks for a target's definitions.
type ExportRequest struct {
	Target seeders.Target
	// Trims are applied (definitions.Trims); Only selects kinds.
	Trims []string
	Only  []definitions.Kind
	// PasswordRefs writes a password: {env: …} reference for every user
	// instead of a hash.
	PasswordRefs bool
	// Owner, when set, keeps only the objects that owner's record holds.
	Owner string
	// Vhosts, when set, keep only what lives in them.
	Vhosts []string
}

// Export reads the target's definitions, trims and selects them, and
// returns them sorted.
func Export(ctx context.Context, ui UI, req ExportRequest) (*definitions.Document, error) {
	var doc *definitions.Document
	var err error
	if e, ok := req.Target.(seeders.Exporter); ok {
		doc, err = e.Export(ctx)
	} else {
		doc, err = req.Target.Read(ctx, nil)
	}
	if err != nil {
		return nil, err
	}
	// A vhost the broker lacks would export empty lists, and an empty list
	// manages its kind: diff --prune of that file deletes every vhost.
	for _, v := range req.Vhosts {
		if !slices.ContainsFunc(doc.Vhosts, func(x *definitions.Vhost) bool { return x.Name == v }) {
			return nil, fmt.Errorf("--vhost %q: the broker has no such vhost (it has %s); nothing was written", v, vhostNames(doc.Vhosts))
		}
	}
	// warren's own bookkeeping (the apply lock, owners' records) belongs
	// to this broker: copied to another, a record would claim its objects.
	doc.GlobalParameters = slices.DeleteFunc(doc.GlobalParameters, func(g *definitions.GlobalParameter) bool {
		return g.Name == plan.LockParameter || plan.IsRecord(g)
	})
	if req.Owner != "" {
		r, ok := req.Target.(seeders.Recorder)
		if !ok {
			return nil, fmt.Errorf("--target %s keeps no owner's record: --owner works on RabbitMQ brokers", req.Target.Name())
		}
		records, err := r.Records(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the owners' records: %w", err)
		}
		rec, ok := records[req.Owner]
		if !ok {
			return nil, fmt.Errorf("--owner %s: the broker holds no record of that owner (an apply of files that name it writes one); nothing was written", req.Owner)
		}
		doc = doc.Kept(rec.Has)
		// The kinds the owner has nothing of are left out: an empty list
		// would manage its kind.
		var kinds []definitions.Kind
		for _, k := range definitions.Kinds {
			if len(rec.Objects[k]) > 0 {
				kinds = append(kinds, k)
			}
		}
		definitions.Select(doc, "", kinds)
	}
	if err := definitions.Trim(doc, req.Trims); err != nil {
		return nil, err
	}
	definitions.Select(doc, "", req.Only)
	if len(req.Vhosts) > 0 {
		doc = doc.Kept(func(o definitions.Object) bool { return definitions.InVhosts(o, req.Vhosts) })
		doc.Users, doc.GlobalParameters = nil, nil // not in a vhost: left out, not emptied
	}
	doc.Sort()
	exportPasswords(ui, doc, req.PasswordRefs)
	return doc, nil
}

// vhostNames lists vhosts' names for a message, the first ten of them.
func vhostNames(vhosts []*definitions.Vhost) string {
	if len(vhosts) == 0 {
		return "none"
	}
	var names []string
	for _, v := range vhosts {
		names = append(names, strconv.Quote(v.Name))
	}
	slices.Sort(names)
	if len(names) > 10 {
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" and %d more", len(names)-10)
	}
	return strings.Join(names, ", ")
}

// ExportMode is 0600 for an export that holds users (their hashes, or
// names an attacker wants) or URIs with credentials, 0644 otherwise.
func ExportMode(doc *definitions.Document) os.FileMode {
	if len(doc.Users) > 0 {
		return 0o600
	}
	for _, p := range doc.Parameters {
		if definitions.HasCredentials(p.Value) {
			return 0o600
		}
	}
	for _, p := range doc.GlobalParameters {
		if definitions.HasCredentials(p.Value) {
			return 0o600
		}
	}
	return 0o644
}

// exportPasswords writes password references with --password-refs, and
// otherwise says on standard error how many users have no hash: RabbitMQ's
// own import of the file creates them unable to log in.
func exportPasswords(ui UI, doc *definitions.Document, refs bool) {
	w := ui.Log()
	if refs {
		names := make([]string, len(doc.Users))
		for i, u := range doc.Users {
			names[i] = u.Name
		}
		vars := passwordVars(names)
		for _, u := range doc.Users {
			v := vars[u.Name]
			u.Password, u.PasswordHash, u.HashingAlgorithm = &definitions.Secret{Env: v}, nil, ""
			fmt.Fprintf(w, "warren: user %q: password: {env: %s}\n", u.Name, v)
		}
		if len(doc.Users) > 0 {
			fmt.Fprintf(w, "warren: %d users written with password references; set these variables before warren apply or warren boot\n", len(doc.Users))
		}
		return
	}
	var without []string
	for _, u := range doc.Users {
		if u.PasswordHash == nil && u.Password == nil {
			without = append(without, fmt.Sprintf("%q", u.Name))
		}
	}
	if len(without) == 0 {
		return
	}
	shown := without
	if len(shown) > 10 {
		shown = append(shown[:10:10], "…")
	}
	fmt.Fprintf(w, "warren: %d users written without password hashes (%s). RabbitMQ's own import of this file "+
		"(POST /api/definitions, import_definitions, a boot-time import) creates them unable to log in, the importing "+
		"administrator included; warren apply leaves existing passwords alone and warren boot refuses such users. "+
		"Use --password-refs for password: {env: …} references, or --no-trim hashes.\n", len(without), strings.Join(shown, ", "))
}

// passwordVars names the environment variable of each user's password:
// WARREN_PASSWORD_ and the name in upper case, every character but A-Z and
// 0-9 turned into _. Names that come out the same (a-b, a.b, A_B) each get
// _ and the first 8 hex digits of their name's SHA-256, so a variable
// depends on the user's own name, never on the order of the others: a user
// added later changes only the names of the users it clashes with.
func passwordVars(names []string) map[string]string {
	base := func(name string) string {
		var b strings.Builder
		b.WriteString("WARREN_PASSWORD_")
		for _, r := range strings.ToUpper(name) {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	count := map[string]int{}
	for _, n := range names {
		count[base(n)]++
	}
	out := map[string]string{}
	for _, n := range names {
		v := base(n)
		if count[v] > 1 {
			sum := sha256.Sum256([]byte(n))
			v += "_" + strings.ToUpper(hex.EncodeToString(sum[:4]))
		}
		out[n] = v
	}
	return out
}
