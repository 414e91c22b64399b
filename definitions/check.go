package definitions

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"hash/maphash"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/dlclark/regexp2"
	"github.com/warren-tool/warren/schema"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// Target adds that broker's rules; "" means plain RabbitMQ.
	Target TargetName
	// RabbitMQVersion applies that version's rules (rabbitmq_versions.go): a series
	// ("4.0") or a release ("4.0.5"). "" means every supported version:
	// what all of them refuse is an error, what some refuse a warning.
	RabbitMQVersion string
	// DeprecatedFeatures are the broker's deprecated features by name,
	// each "permitted" or "denied" (a removed feature counts as denied), as
	// GET /api/deprecated-features reports them for the node's
	// configuration; nil when unknown (offline, or a broker before 4.2,
	// which does not say what its node permits).
	// For a rule tied to a feature the node lists, the node's state
	// decides instead of the version.
	DeprecatedFeatures map[string]string
	// Edition is the Huawei Cloud DMS edition (--target
	// huaweicloud-rabbitmq): HuaweiAMQP ("" too) or Huawei3x.
	Edition string
	// Resolve finds a password's value; nil means ResolveSecret (the
	// process environment and the file system).
	Resolve func(*Secret) (string, error)
}

// checker collects diagnostics about objects.
type checker struct {
	doc      *Document
	opts     CheckOptions
	versions versionRange // the releases whose rules apply
	// vhostTypes are the default queue types of the vhosts the files define.
	vhostTypes map[string]string
	diags      schema.Diagnostics
	re         map[string]error // compiled patterns, by pattern
	// hashText and hashRaw are hash's buffers.
	hashText, hashRaw []byte
}

// report adds a diagnostic about o; field is a JSON pointer relative to the
// object, its tokens already escaped ("password", "arguments/x-max-length").
func (c *checker) report(o Object, field string, sev schema.Severity, code schema.Code, format string, args ...any) {
	loc := Location(o)
	if field != "" {
		loc.Pointer += "/" + field
	}
	c.diags = append(c.diags, schema.Diagnostic{File: loc.File, Pointer: loc.Pointer, Severity: sev, Code: code,
		Message: fmt.Sprintf(format, args...)})
}

func (c *checker) errorf(o Object, field string, code schema.Code, format string, args ...any) {
	c.report(o, field, schema.Error, code, format, args...)
}

func (c *checker) warnf(o Object, field string, code schema.Code, format string, args ...any) {
	c.report(o, field, schema.Warning, code, format, args...)
}

// Check reports what a schema cannot express: references between objects,
// patterns that do not compile, impossible password hashes, invalid
// arguments, objects the broker would skip, and the target's own rules.
// Positions are filled in for objects read from files.
func Check(d *Document, opts CheckOptions) schema.Diagnostics {
	if opts.Resolve == nil {
		opts.Resolve = ResolveSecret
	}
	c := &checker{doc: d, opts: opts, re: map[string]error{}, vhostTypes: VhostQueueTypes(d)}
	var err error
	if c.versions, err = parseVersionRange(opts.RabbitMQVersion); err != nil {
		c.versions, _ = parseVersionRange("") // the command line checks the version first
		c.opts.RabbitMQVersion = ""
	}
	users, vhosts := names(d.Users), names(d.Vhosts)
	exchanges := keySet(d.Exchanges, func(e *Exchange) inVhost { return inVhost{e.Vhost, e.Name} })
	queues := keySet(d.Queues, func(q *Queue) inVhost { return inVhost{q.Vhost, q.Name} })

	for _, u := range d.Users {
		c.user(u)
	}
	limitParams := vhostLimitParams(d)
	for _, v := range d.Vhosts {
		c.vhost(v)
		c.vhostLimits(v, limitParams)
		c.vhostQueueTypes(v)
	}
	for _, p := range d.Permissions {
		c.reference(p, users, vhosts, p.User, p.Vhost)
		c.pattern(p, "configure", p.Configure)
		c.pattern(p, "write", p.Write)
		c.pattern(p, "read", p.Read)
	}
	for _, p := range d.TopicPermissions {
		c.reference(p, users, vhosts, p.User, p.Vhost)
		c.pattern(p, "write", p.Write)
		c.pattern(p, "read", p.Read)
		if !unlisted(p.Exchange) && !has(exchanges, inVhost{p.Vhost, p.Exchange}) {
			c.topicExchange(p)
		}
	}
	for _, p := range d.Parameters {
		c.vhostRef(p, vhosts, p.Vhost, true)
		if p.Component == ComponentVhostLimits {
			c.limitParameter(p)
		}
		if plugin, ok := pluginComponents[p.Component]; ok {
			c.warnf(p, "component", schema.WPluginNeeded, "component %s comes from the %s plugin; without it on the node RabbitMQ refuses the import (component %s not found)", p.Component, plugin, p.Component)
		}
		c.uriRefs(p, p.Value)
		if p.Component == ComponentOperatorPolicy {
			if v, ok := p.Value.(map[string]any); ok {
				if pat, ok := v["pattern"].(string); ok {
					c.pattern(p, "value/pattern", pat)
				}
				at, _ := v["apply-to"].(string)
				c.applyTo(p, "value/apply-to", at)
				if def, ok := v["definition"].(map[string]any); ok {
					if len(def) == 0 {
						c.errorf(p, "value/definition", schema.EEmptyPolicy, "operator policy %q has an empty definition; RabbitMQ refuses it (no policy provided)", p.Name)
					}
					c.policyDefinition(p, "value/definition", def, at, true)
				}
			}
		}
	}
	for _, p := range d.GlobalParameters {
		c.uriRefs(p, p.Value)
		switch p.Name {
		case "internal_cluster_id":
			c.warnf(p, "", schema.WNodeSpecific, "internal_cluster_id identifies one cluster; copying it to another makes two clusters look alike (warren export trims it)")
		case "imported_definition_hash_value":
			c.warnf(p, "", schema.WNodeSpecific, "imported_definition_hash_value is the hash a node keeps of its boot-time definitions; it belongs to that node (warren export trims it)")
		}
	}
	for _, p := range d.Policies {
		c.vhostRef(p, vhosts, p.Vhost, true)
		c.pattern(p, "pattern", p.Pattern)
		if len(p.Definition) == 0 && p.Definition != nil {
			c.errorf(p, "definition", schema.EEmptyPolicy, "policy %q has an empty definition; RabbitMQ refuses it (no policy provided): give it a key, or leave the policy out", p.Name)
		}
		c.applyTo(p, "apply-to", p.ApplyTo)
		c.policyDefinition(p, "definition", p.Definition, p.ApplyTo, false)
	}
	for _, q := range d.Queues {
		c.vhostRef(q, vhosts, q.Vhost, true)
		c.queue(q)
	}
	for _, e := range d.Exchanges {
		c.vhostRef(e, vhosts, e.Vhost, true)
		c.exchange(e)
	}
	for _, b := range d.Bindings {
		if b.Vhost == "" && !d.PerVhost() {
			c.warnf(b, "", schema.WBindingNoVhost, "binding has no vhost; RabbitMQ 3.x drops it silently and 4.x refuses the file")
		} else {
			c.vhostRef(b, vhosts, b.Vhost, false)
		}
		if !builtinExchange(b.Source) && !has(exchanges, inVhost{b.Vhost, b.Source}) && b.Vhost != "" {
			c.warnf(b, "source", schema.WUndefinedSource, "source exchange %q is not defined in the files; it must exist on the broker%s", b.Source, c.missingEnd())
		}
		switch b.DestinationType {
		case "queue":
			if !has(queues, inVhost{b.Vhost, b.Destination}) && b.Vhost != "" {
				c.warnf(b, "destination", schema.WUndefinedSource, "destination queue %q is not defined in the files; it must exist on the broker%s", b.Destination, c.missingEnd())
			}
		case "exchange":
			if !builtinExchange(b.Destination) && !has(exchanges, inVhost{b.Vhost, b.Destination}) && b.Vhost != "" {
				c.warnf(b, "destination", schema.WUndefinedSource, "destination exchange %q is not defined in the files; it must exist on the broker%s", b.Destination, c.missingEnd())
			}
		}
	}
	c.dotNames()
	c.target()
	d.resolve(c.diags)
	return c.diags
}

// names is the set of a kind's keys (users' and vhosts' names).
func names[T Object](objs []T) keyIndex[T, string] {
	return keySet(objs, func(o T) string { return o.Key() })
}

// inVhost names an object of a vhost (a queue, an exchange): a key made
// without joining its parts into a new string.
type inVhost [2]string

// keyIndex is the set of some objects' keys: a hash of each key with the
// object's place, sorted by hash; a hash found is checked against the
// object's key. A map of the keys took 40 to 80 bytes a key, and the sets
// of users, vhosts, queues and exchanges were most of what validate's
// checks added to the model of 150,000 objects (4 MB, at validate's peak
// of memory); an entry here takes 16.
type keyIndex[T any, K comparable] struct {
	entries []hashedKey
	objs    []T
	key     func(T) K
	seed    maphash.Seed
}

type hashedKey struct {
	hash uint64
	at   int
}

// keySet indexes objs by key, which should be cheap (a field, not a
// string made): it is called once for each object, and again for each
// object whose hash a lookup finds.
func keySet[T any, K comparable](objs []T, key func(T) K) keyIndex[T, K] {
	set := keyIndex[T, K]{entries: make([]hashedKey, len(objs)), objs: objs, key: key, seed: maphash.MakeSeed()}
	for i, o := range objs {
		set.entries[i] = hashedKey{maphash.Comparable(set.seed, key(o)), i}
	}
	slices.SortFunc(set.entries, func(a, b hashedKey) int { return cmp.Compare(a.hash, b.hash) })
	return set
}

func has[T any, K comparable](set keyIndex[T, K], k K) bool {
	h := maphash.Comparable(set.seed, k)
	i, _ := slices.BinarySearchFunc(set.entries, h, func(e hashedKey, h uint64) int { return cmp.Compare(e.hash, h) })
	for ; i < len(set.entries) && set.entries[i].hash == h; i++ {
		if set.key(set.objs[set.entries[i].at]) == k {
			return true
		}
	}
	return false
}

// reference checks that a permission's user and vhost are defined.
func (c *checker) reference(o Object, users keyIndex[*User, string], vhosts keyIndex[*Vhost, string], user, vhost string) {
	if !has(users, user) {
		c.warnf(o, "user", schema.WUndefinedUser, "user %q is not defined in any file; it must exist on the broker", user)
	}
	c.vhostRef(o, vhosts, vhost, false)
}

// vhostRef checks that the vhost an object names is defined. An object
// without vhost is an error in a cluster-wide document where required.
func (c *checker) vhostRef(o Object, vhosts keyIndex[*Vhost, string], vhost string, required bool) {
	switch {
	case vhost == "" && required && !c.doc.PerVhost():
		c.errorf(o, "", schema.ENoVhost, "%s has no vhost; in a cluster-wide file RabbitMQ refuses it (no_such_vhost undefined). Add \"vhost\", or mark a per-vhost export with rabbitmq_definition_format: %s", info(o.Kind()).Noun, FormatSingleVhost)
	case vhost != "" && !has(vhosts, vhost):
		c.warnf(o, "vhost", schema.WUndefinedVhost, "vhost %q is not defined in any file; it must exist on the broker", vhost)
	}
}

// pattern checks that a pattern compiles as PCRE would compile it. The
// {username} and {vhost} variables that permission patterns may hold are
// literal text to the compiler.
//
// Go's RE2 syntax is, for practical purposes, a subset of PCRE's, and its
// parser is several times faster than a backtracking engine's compiler, so
// a pattern RE2 parses is taken as valid; only the others (lookarounds,
// backreferences, and real mistakes) go to regexp2, which reads PCRE.
func (c *checker) pattern(o Object, field, pat string) {
	if plainPattern(pat) {
		return
	}
	err, done := c.re[pat]
	if !done {
		if _, rerr := syntax.Parse(pat, syntax.Perl); rerr != nil {
			if err = pcreRefuses(pat); err == nil {
				var ep string
				if ep, err = anyButNewline(pat); err == nil {
					_, err = regexp2.Compile(ep, regexp2.None)
				}
			}
		}
		c.re[pat] = err
	}
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		c.errorf(o, field, schema.EPattern, "pattern %q does not compile: %s", pat, msg)
	}
}

// pcreRefuses finds the escapes regexp2 reads (as .NET does) and PCRE, and
// so the broker, refuses: \u0041 compiles to regexp2 and is invalid_regexp
// to RabbitMQ. The error is PCRE's own.
func pcreRefuses(pat string) error {
	for i := 0; i+1 < len(pat); i++ {
		if pat[i] != '\\' {
			continue
		}
		switch next := pat[i+1]; {
		case next == 'Q': // quoted up to \E
			end := strings.Index(pat[i+2:], `\E`)
			if end < 0 {
				return nil
			}
			i += 2 + end
			continue
		case next == 'N' && shortRepeat(pat[i+2:]):
			return fmt.Errorf("RabbitMQ 4.0 and before refuse \\N%s, which 4.3 reads as a repetition; write {0,n} (at offset %d)", pat[i+2:i+3+strings.IndexByte(pat[i+2:], '}')], i+2)
		case next == 'u' || next == 'U' || next == 'l' || next == 'L' || next == 'N' && namedChar(pat[i+2:]):
			return fmt.Errorf("PCRE does not support \\L, \\l, \\N{name}, \\U, or \\u (at offset %d)", i+2)
		}
		i++ // the escaped character
	}
	return nil
}

// namedChar says whether what follows \N is a brace PCRE refuses: a
// character's name or code (\N{U+41}, refused without Unicode), not a
// repetition of \N. 3.10.8, 4.0.5 and 4.3.6 took \N{2}, \N{2,} and
// \N{2,3}; 3.10.8 and 4.0.5 refused \N{,3} and \N{ 2}, which 4.3.6 reads
// as repetitions (PCRE2 10.43): they are refused, {0,3} is the same.
func namedChar(rest string) bool {
	if !strings.HasPrefix(rest, "{") {
		return false
	}
	end := strings.IndexByte(rest, '}')
	if end < 0 {
		return true
	}
	n, m, _ := strings.Cut(rest[1:end], ",")
	digits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	return n == "" || !digits(n) || !digits(m)
}

// shortRepeat says whether what follows \N is a brace only PCRE2 10.43
// (RabbitMQ 4.3) reads as a repetition: {,n}, or one with spaces.
func shortRepeat(rest string) bool {
	end := strings.IndexByte(rest, '}')
	if !strings.HasPrefix(rest, "{") || end < 0 {
		return false
	}
	in := strings.ReplaceAll(strings.ReplaceAll(rest[1:end], " ", ""), "\t", "")
	n, m, comma := strings.Cut(in, ",")
	digits := func(s string) bool { return strings.Trim(s, "0123456789") == "" }
	return digits(n) && digits(m) && (n != "" || m != "") && (n == "" && comma || in != rest[1:end])
}

// anyButNewline writes PCRE's \N (any character but a newline) outside a
// class as [^\n], which regexp2 reads; it has no \N. In a class PCRE
// refuses \N, with the error here.
func anyButNewline(pat string) (string, error) {
	if !strings.Contains(pat, `\N`) {
		return pat, nil
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case strings.HasPrefix(pat[i:], `\Q`):
			i += QuoteLiteral(&b, pat[i:]) - 1
		case c == '\\' && i+1 < len(pat):
			switch {
			case pat[i+1] == 'N' && inClass:
				return "", fmt.Errorf("\\N is not supported in a class (at offset %d)", i+2)
			case pat[i+1] == 'N':
				b.WriteString(`[^\n]`)
			default:
				b.WriteString(pat[i : i+2])
			}
			i++
		case !inClass && c == '[':
			inClass = true
			b.WriteByte(c)
			if strings.HasPrefix(pat[i+1:], "^") {
				b.WriteByte('^')
				i++
			}
			if strings.HasPrefix(pat[i+1:], "]") { // a ] first is literal
				b.WriteByte(']')
				i++
			}
		case inClass && strings.HasPrefix(pat[i:], "[:"):
			end := strings.Index(pat[i:], ":]")
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString(pat[i : i+end+2])
			i += end + 1
		case inClass && c == ']':
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// QuoteLiteral writes the text of the PCRE \Q…\E that pat starts with (up
// to \E, or the end) for regexp2, which reads .NET syntax and no \Q:
// letters and digits as they are, every other byte as \xHH. n is how many
// bytes of pat that was, \Q and \E included.
func QuoteLiteral(b *strings.Builder, pat string) (n int) {
	text, _, found := strings.Cut(pat[2:], `\E`)
	for _, q := range []byte(text) {
		if q >= 'a' && q <= 'z' || q >= 'A' && q <= 'Z' || q >= '0' && q <= '9' {
			b.WriteByte(q)
		} else {
			fmt.Fprintf(b, `\x%02X`, q)
		}
	}
	if !found {
		return len(pat)
	}
	return 2 + len(text) + 2
}

// plainPattern reports, without parsing, that pat is one of the patterns
// most files are made of (^user-12\..*$, .*, ^amq\.): literal letters,
// digits and - _ / : @ { } (the {username} and {vhost} variables), . and
// escaped punctuation, each at most once followed by *, + or ?, with an
// optional ^ first and $ last. Every such pattern compiles (in RE2 and in
// PCRE); anything else goes to the parser. Parsing tens of thousands of
// distinct permission patterns was 12% of validate's time.
func plainPattern(pat string) bool {
	pat = strings.TrimPrefix(pat, "^")
	if strings.HasSuffix(pat, "$") && !strings.HasSuffix(pat, `\$`) {
		pat = pat[:len(pat)-1]
	}
	atom := false // the previous item can be repeated
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '/', c == ':', c == '@', c == '.':
			atom = true
		case c == '{' || c == '}':
			// Literal braces only inside a variable ({username}, {vhost}):
			// elsewhere a brace can be a repetition count.
			if c == '{' && (strings.HasPrefix(pat[i:], "{username}") || strings.HasPrefix(pat[i:], "{vhost}")) {
				i += strings.IndexByte(pat[i:], '}')
				atom = true
				continue
			}
			return false
		case c == '\\':
			if i+1 >= len(pat) {
				return false
			}
			e := pat[i+1]
			if !strings.ContainsRune(`.\-_/:@^$*+?()[]{}|`, rune(e)) {
				return false
			}
			i++
			atom = true
		case c == '*' || c == '+' || c == '?':
			if !atom {
				return false
			}
			atom = false
		default:
			return false
		}
	}
	return true
}

func (c *checker) user(u *User) {
	if u.Password != nil && u.PasswordHash != nil {
		c.errorf(u, "password", schema.EPasswordAndHash, "user %q has both password and password_hash; RabbitMQ refuses that, keep one", u.Name)
	}
	if u.Password != nil && u.Password.Literal != nil && !fromTopology(u) {
		c.warnf(u, "password", schema.WLiteralPassword, `user %q has a password written in the file; use {"env": "NAME"} or {"file": "PATH"}`, u.Name)
	}
	if u.PasswordHash != nil && *u.PasswordHash != "" {
		c.hash(u)
	}
	if u.Password == nil && u.PasswordHash == nil && (c.opts.Target == "" || c.opts.Target == TargetRabbitMQ || c.opts.Target == TargetAmazonMQRabbitMQ) {
		c.warnf(u, "", schema.WNoPassword, "user %q has neither password nor password_hash: RabbitMQ's import (and a boot-time import) creates it unable to log in; warren apply leaves an existing user's password alone, warren boot refuses it", u.Name)
	}
	for _, t := range u.Tags {
		if t == "protected" {
			c.byVersion(u, "tags", RuleProtectedTag, "tag protected on user %q", u.Name)
			continue
		}
		if !slices.Contains(KnownTags, t) {
			c.warnf(u, "tags", schema.WUnknownTag, "tag %q is not one RabbitMQ knows (%s)", t, strings.Join(KnownTags, ", "))
		}
	}
}

// hash checks a password hash: base64, and as long as its algorithm makes
// it. A file without hashing_algorithm gets md5 when its rabbit_version is
// older than 3.6 (as RabbitMQ decides on import) and sha256 otherwise.
func (c *checker) hash(u *User) {
	// Decoded into buffers reused from user to user (45,000 users decoded
	// 2 MB of garbage); only the length is checked.
	c.hashText = append(c.hashText[:0], *u.PasswordHash...)
	c.hashRaw = slices.Grow(c.hashRaw[:0], base64.StdEncoding.DecodedLen(len(c.hashText)))
	n, err := base64.StdEncoding.Decode(c.hashRaw[:cap(c.hashRaw)], c.hashText)
	raw := c.hashRaw[:n]
	if err != nil {
		c.errorf(u, "password_hash", schema.EHashEncoding, "password_hash of user %q is not base64 (is it a plain password? use \"password\" for that)", u.Name)
		return
	}
	alg := u.HashingAlgorithm
	if alg == "" {
		alg = DefaultHashAlgorithm(c.versionOf(u))
	}
	want, known := hashSizes[alg]
	if !known {
		c.warnf(u, "hashing_algorithm", schema.WHashAlgorithm, "hashing algorithm %q is not one RabbitMQ ships; the broker needs a plugin for it", alg)
		return
	}
	if len(raw) != want {
		c.errorf(u, "password_hash", schema.EHashLength, "password_hash of user %q is %d bytes but %s hashes are %d; the user could never log in", u.Name, len(raw), strings.TrimPrefix(alg, "rabbit_password_hashing_"), want)
	}
}

// versionOf returns the rabbit_version of the file an object came from.
func (c *checker) versionOf(o Object) string {
	if og := o.meta().Origin; og.File != nil {
		return og.File.rabbitVersion
	}
	return c.doc.RabbitVersion
}

func (c *checker) vhost(v *Vhost) {
	if desc, tags := vhostMetadataConflict(v); desc != nil {
		c.byVersion(v, "description", RuleVhostMetadataWins, "description %q of vhost %q (its metadata says %q)", *v.Description, v.Name, *desc)
	} else if tags != nil {
		c.byVersion(v, "tags", RuleVhostMetadataWins, "tags %q of vhost %q (its metadata says %q)", v.Tags, v.Name, tags)
	}
	if p, ok := v.Metadata["protected_from_deletion"].(bool); ok && p {
		c.byVersion(v, "metadata/protected_from_deletion", RuleVhostProtected, "protected_from_deletion on vhost %q", v.Name)
	}
	if v.DefaultQueueType != "" && !slices.Contains(queueTypes, v.DefaultQueueType) && v.DefaultQueueType != "undefined" {
		c.errorf(v, "default_queue_type", schema.EVhostProperty, "default_queue_type %q is not one of %s", v.DefaultQueueType, strings.Join(queueTypes, ", "))
	}
}

// applyTo checks a policy's or an operator policy's apply-to. The schema
// already refuses an unknown value in a policy, so only operator policies
// get that error here.
func (c *checker) applyTo(o Object, field, at string) {
	switch {
	case at == "":
	case !slices.Contains(applyToValues, at):
		if o.Kind() == KindParameter {
			c.errorf(o, field, schema.EPolicy, "apply-to %q is not one of %s", at, strings.Join(applyToValues, ", "))
		}
	case at == "classic_queues" || at == "quorum_queues" || at == "streams":
		c.byVersion(o, field, RuleApplyToQueueType, "apply-to %s", at)
	}
}

// byVersion reports what a row of the version table means for the
// versions checked: an error when every one of them refuses what the
// message describes, a warning naming them when only some do, a warning
// when they accept it and do nothing with it, or accept it and do not
// create the object. For a rule tied to a deprecated feature that the
// node lists (CheckOptions.DeprecatedFeatures), the node's state decides:
// permitted, nothing; denied, the rule's effect (refused for a rule that
// is permitted by default).
func (c *checker) byVersion(o Object, field, id string, format string, args ...any) {
	r := Rule(id)
	what := fmt.Sprintf(format, args...)
	cov := r.covers(c.versions)
	versions := r.Versions()
	if cov == coversAll {
		versions = c.versionName()
	}
	if state, ok := c.opts.DeprecatedFeatures[r.Feature]; ok && r.Feature != "" {
		if state == "permitted" {
			return
		}
		setting := fmt.Sprintf("deprecated_features.permit.%s", r.Feature)
		switch r.Effect {
		case Dropped:
			c.warnf(o, field, schema.WQueueNotCreated, "%s: this node denies the deprecated feature %s, so RabbitMQ accepts the import and does not create it; %s [%s]", what, r.Feature, r.Fix, r.ID)
		default:
			c.errorf(o, field, schema.EVersionRefused, "%s is refused by this node: it denies the deprecated feature %s (%s = false, or its version's default); %s [%s]", what, r.Feature, setting, r.Fix, r.ID)
		}
		return
	}
	switch {
	case cov == coversNone:
	case r.Effect == Refused && cov == coversAll:
		c.errorf(o, field, schema.EVersionRefused, "%s is refused by RabbitMQ %s; %s [%s]", what, versions, r.Fix, r.ID)
	case r.Effect == Refused:
		c.warnf(o, field, schema.WVersionRefused, "%s is refused by RabbitMQ %s; %s [%s]", what, versions, r.Fix, r.ID)
	case r.Effect == Dropped:
		c.warnf(o, field, schema.WQueueNotCreated, "%s: RabbitMQ %s accepts the import and does not create it; %s [%s]", what, versions, r.Fix, r.ID)
	case r.Effect == Deprecated:
		c.warnf(o, field, schema.WDeprecatedFeature, "%s is permitted by RabbitMQ %s by default, and refused by a node with deprecated_features.permit.%s = false; %s [%s]", what, versions, r.Feature, r.Fix, r.ID)
	default:
		c.warnf(o, field, schema.WVersionIgnored, "%s is ignored by RabbitMQ %s; %s [%s]", what, versions, r.Fix, r.ID)
	}
}

// versionName names the versions checked.
func (c *checker) versionName() string {
	if c.opts.RabbitMQVersion == "" {
		return SupportedSeries[0] + " and later"
	}
	return c.opts.RabbitMQVersion
}

// missingEnd says what the checked versions do with a binding whose end is
// missing on the broker.
// topicExchange warns of a topic permission on an exchange no file
// defines, where the versions checked (all, when none is given) include
// one that refuses it unless the broker has the exchange.
func (c *checker) topicExchange(p *TopicPermission) {
	r := Rule(RuleTopicMissingExchange)
	switch r.covers(c.versions) {
	case coversAll:
		c.warnf(p, "exchange", schema.WUndefinedTopicExchange, "exchange %q is not defined in the files; it must exist on the broker, or RabbitMQ %s refuses the topic permission (no_such_exchange)", p.Exchange, c.versionName())
	case coversSome:
		c.warnf(p, "exchange", schema.WUndefinedTopicExchange, "exchange %q is not defined in the files; it must exist on the broker, or RabbitMQ %s refuse the topic permission (no_such_exchange; older versions keep it)", p.Exchange, r.Versions())
	}
}

func (c *checker) missingEnd() string {
	r := Rule(RuleMissingBindingEnd)
	switch r.covers(c.versions) {
	case coversAll:
		return fmt.Sprintf(", or the import is refused by RabbitMQ %s", c.versionName())
	case coversSome:
		return fmt.Sprintf(", or the import is refused by RabbitMQ %s (older versions drop the binding silently)", r.Versions())
	}
	return ", or RabbitMQ drops the binding silently"
}

func (c *checker) exchange(e *Exchange) {
	switch {
	case e.Type == "" || slices.Contains(exchangeTypes, e.Type):
	case e.Type == "x-local-random":
		c.byVersion(e, "type", RuleLocalRandom, "exchange type x-local-random")
	case pluginExchangeTypes[e.Type] != "":
		c.warnf(e, "type", schema.WPluginNeeded, "exchange type %s comes from the %s plugin; without it on the node RabbitMQ refuses the import (unknown exchange type)", e.Type, pluginExchangeTypes[e.Type])
	case strings.HasPrefix(e.Type, "x-"):
		c.warnf(e, "type", schema.WPluginNeeded, "exchange type %s is not built in; the node needs the plugin that provides it, or RabbitMQ refuses the import (unknown exchange type)", e.Type)
	default:
		c.errorf(e, "type", schema.EExchangeType, "exchange type %q is neither built in (%s) nor a plugin's (x-…)", e.Type, strings.Join(exchangeTypes, ", "))
	}
	if strings.HasPrefix(e.Name, "amq.") {
		c.warnf(e, "name", schema.WSkippedByBroker, "exchange names starting with amq. are reserved; RabbitMQ skips %q on import", e.Name)
	}
}

func (c *checker) queue(q *Queue) {
	if strings.HasPrefix(q.Name, "amq.") {
		c.warnf(q, "name", schema.WSkippedByBroker, "queue names starting with amq. are reserved for server-named queues; RabbitMQ skips %q on import", q.Name)
	}
	if q.Type != "" && !slices.Contains(queueTypes, q.Type) {
		c.errorf(q, "type", schema.EQueueArgument, "queue type %q is not one of %s", q.Type, strings.Join(queueTypes, ", "))
	}
	// An untyped queue gets its vhost's default queue type from 3.11, which
	// RabbitMQ puts in its arguments before checking them
	// (RuleImportVhostQueueType); 3.10 makes it classic. When only some of
	// the versions checked do, the queue is checked as classic, and what the
	// default type refuses is a warning naming them.
	qt, vhostType := QueueTypeIn(q, c.vhostTypes[q.Vhost]), ""
	if untyped := QueueTypeIn(q, ""); qt != untyped {
		switch Rule(RuleImportVhostQueueType).covers(c.versions) {
		case coversNone:
			qt = untyped
		case coversSome:
			qt, vhostType = untyped, qt
		}
	}
	if at, ok := q.Arguments.Get("x-queue-type").(string); ok && q.Type != "" && at != q.Type {
		c.errorf(q, "type", schema.EQueueArgument, "type %q and x-queue-type %q disagree", q.Type, at)
	}
	for name, v := range q.Arguments.All() {
		field := "arguments/" + schema.EscapePointerToken(name)
		rule, known := queueArgs[name]
		if !known {
			if strings.HasPrefix(name, "x-") {
				c.warnf(q, field, schema.WUnknownArgument, "queue argument %q is not one RabbitMQ knows", name)
			}
			continue
		}
		if msg := rule.check(v); msg != "" {
			c.errorf(q, field, schema.EQueueArgument, "%s %s", name, msg)
			continue
		}
		if vhostType != "" && rule.types != nil && !slices.Contains(rule.types, vhostType) && slices.Contains(rule.types, qt) {
			r := Rule(RuleImportVhostQueueType)
			c.warnf(q, field, schema.WVersionRefused, "%s is not supported by %s queues, and RabbitMQ %s makes this untyped queue a %s queue (its vhost's default type) and refuses it; give the queue a type [%s]", name, vhostType, r.Versions(), vhostType, r.ID)
		}
		if rule.types != nil && slices.Contains(queueTypes, qt) && !slices.Contains(rule.types, qt) {
			if q.Type == "" && q.Arguments.Get("x-queue-type") == nil && qt != "classic" {
				c.errorf(q, field, schema.EQueueArgument, "%s is not supported by %s queues (the queue names no type, so it is of its vhost's default type, %s)", name, qt, qt)
			} else {
				c.errorf(q, field, schema.EQueueArgument, "%s is not supported by %s queues", name, qt)
			}
			continue
		}
		if rule.rule != "" {
			c.byVersion(q, field, rule.rule, "queue argument %s", name)
		}
		if name == "x-queue-leader-locator" && qt == "classic" {
			c.byVersion(q, field, RuleClassicLeaderLoc, "x-queue-leader-locator on classic queue %q", q.Name)
		}
		if n, ok := integer(v); ok && name == "x-queue-version" && n == 1 {
			c.byVersion(q, field, RuleQueueVersion1, "x-queue-version 1")
		}
	}
	c.queueProperties(q, qt)
}

// queueProperties checks durable and auto_delete against the queue's type.
// Quorum queues and streams must be durable and not auto-delete
// (rabbit_queue_type_util.erl check_non_durable, check_auto_delete); their
// declare returns the error, which the definitions import does not look
// at (rabbit_definitions.erl add_queue_int), so the import answers 204 and
// the queue is not created.
func (c *checker) queueProperties(q *Queue, qt string) {
	durable := q.Durable == nil || *q.Durable // the import's default is durable
	autoDelete := q.AutoDelete != nil && *q.AutoDelete
	switch qt {
	case "quorum", "stream":
		noun := "quorum queue"
		if qt == "stream" {
			noun = "stream"
		}
		if !durable {
			c.warnf(q, "durable", schema.WQueueNotCreated, "a %s must be durable; RabbitMQ accepts the import and does not create %q (set durable: true)", noun, q.Name)
		}
		if autoDelete {
			c.warnf(q, "auto_delete", schema.WQueueNotCreated, "a %s cannot be auto-delete; RabbitMQ accepts the import and does not create %q (set auto_delete: false, or use x-expires)", noun, q.Name)
		}
	case "classic":
		if !durable {
			c.byVersion(q, "durable", RuleTransientNonExcl, "non-durable queue %q", q.Name)
		}
	}
}
