package schema

import (
	"fmt"
	"strings"
)

// Code identifies a kind of problem. Codes are stable: they are API, listed in
// docs/diagnostics.md, and never reused for another meaning. E codes are
// errors, W codes warnings.
type Code string

// The codes. Keep CodeInfo below in step; a test checks docs/diagnostics.md
// against it.
const (
	// Reading and decoding.
	ESyntax        Code = "E001"
	EDuplicateKey  Code = "E002"
	ETooLarge      Code = "E003"
	ETooDeep       Code = "E004"
	EAliasLimit    Code = "E005"
	ERead          Code = "E006"
	EUnsupportedIn Code = "E007"

	// Schema.
	EType     Code = "E010"
	ERequired Code = "E011"
	EValue    Code = "E012"
	ESchema   Code = "E019"

	// Meaning.
	EDuplicate              Code = "E020"
	ENoVhost                Code = "E021"
	EPattern                Code = "E030"
	EPasswordAndHash        Code = "E031"
	EHashEncoding           Code = "E032"
	EHashLength             Code = "E033"
	ESecretSource           Code = "E034"
	EQueueArgument          Code = "E040"
	EExchangeType           Code = "E041"
	EPolicy                 Code = "E042"
	ELimit                  Code = "E043"
	EVhostProperty          Code = "E044"
	ETargetKind             Code = "E050"
	ETargetUser             Code = "E051"
	ETargetTag              Code = "E052"
	ETargetPassword         Code = "E053"
	ETargetGroups           Code = "E054"
	ETargetConflict         Code = "E055"
	EPolicyKey              Code = "E060"
	EPolicyValue            Code = "E061"
	EOperatorPolicyKey      Code = "E062"
	EVersionRefused         Code = "E063"
	EEmptyPolicy            Code = "E064"
	EDotName                Code = "E085"
	EParamSecret            Code = "E086"
	EYAMLTag                Code = "E087"
	WUnknownField           Code = "W101"
	WLiteralPassword        Code = "W102"
	WUndefinedUser          Code = "W103"
	WUndefinedVhost         Code = "W104"
	WUndefinedSource        Code = "W105"
	WSkippedByBroker        Code = "W106"
	WBindingNoVhost         Code = "W107"
	WUnknownTag             Code = "W108"
	WHashAlgorithm          Code = "W109"
	WUndefinedTopicExchange Code = "W110"
	WUnknownArgument        Code = "W111"
	WUnresolvedSecret       Code = "W112"
	WNodeSpecific           Code = "W113"
	WVersionRefused         Code = "W120"
	WPolicyNotApplicable    Code = "W121"
	WPluginNeeded           Code = "W122"
	WQueueNotCreated        Code = "W123"
	WVersionIgnored         Code = "W124"
	WDeprecatedFeature      Code = "W125"
	WNoPassword             Code = "W145"
)

// Vhost limits and default queue types.
const (
	EVhostLimitsConflict    Code = "E080"
	EVhostQueueTypeConflict Code = "E081"
	WVhostLimitsIgnored     Code = "W140"
)

// Inventories and layered files.
const (
	EInventoryPassword  Code = "E090"
	EInventoryDuplicate Code = "E091"
	ELayerMode          Code = "E092"
	WLayerNothing       Code = "W150"
)

// warren migrate: what cannot be moved from a 3.x cluster to a 4.x one
// automatically (errors), and what moves with a change in behaviour.
const (
	EMigrateTransient     Code = "E100"
	EMigrateAutoDelete    Code = "E101"
	EMigrateNoEquivalent  Code = "E102"
	EMigratePattern       Code = "E103"
	EMigrateUpstream      Code = "E104"
	WMigrateBehaviour     Code = "W160"
	WMigratePolicyChanged Code = "W161"
	WMigrateNotDrained    Code = "W162"
	WMigratePolicyTie     Code = "W163"
	WMigrateDefaultGuest  Code = "W168"
	WMigrateAdministrator Code = "W169"
)

// What RabbitMQ cannot read or will refuse, found before anything changes:
// numbers, broker URIs, and references the files leave to a live broker.
const (
	ENumberRange     Code = "E110"
	EBrokerURI       Code = "E111"
	EMissingOnBroker Code = "E112"
	WDroppedByBroker Code = "W170"
)

// Ownership on a shared broker: the files' owner, what they ignore, and
// objects that another owner's record holds.
const (
	EOwnerConflict Code = "E113"
	EIgnorePattern Code = "E114"
	EOwnedByOther  Code = "E115"
)

// Amazon MQ for RabbitMQ: what its brokers lock, do not support, or limit,
// found before anything changes.
const (
	EOperatorPoliciesLocked Code = "E180"
	ETargetUnsupported      Code = "E181"
	ETargetLimit            Code = "E182"
)

// warren access --audit: least-privilege findings in users, permissions
// and topic permissions.
const (
	WAccessUnanchored   Code = "W200"
	WAccessFullAccess   Code = "W201"
	WAccessAdmins       Code = "W202"
	WAccessNoPermission Code = "W203"
	WAccessUnused       Code = "W204"
	WAccessTopicNoop    Code = "W205"
	WAccessGuest        Code = "W206"
	WAccessConfigureAMQ Code = "W207"
	WAccessTopicAutoDel Code = "W208"
)

// Messaging Topology Operator resources: what the strict validator refuses
// in a file of them, and what the operator cannot express on export.
const (
	ETopoKind         Code = "E130"
	ETopoName         Code = "E131"
	ETopoUnknownField Code = "E132"
	ETopoCluster      Code = "E133"
	ETopoRule         Code = "E134"
	ETopoCredential   Code = "E135"
	ETopoSecret       Code = "E136"
	WTopoNotExpressed Code = "W180"
)

// Info describes a Code for docs/diagnostics.md.
type Info struct {
	Code     Code
	Severity Severity
	Title    string
	Detail   string
}

// Codes lists every code, in order, with its explanation.
// What Huawei Cloud DMS's API cannot express (--target
// huaweicloud-rabbitmq; docs/cloud-apis.md §6).
const (
	ETargetQueue    Code = "E190"
	ETargetExchange Code = "E191"
	ETargetBinding  Code = "E192"
	ETargetName     Code = "E193"
)

var Codes = []Info{
	{ESyntax, Error, "syntax error", "The file is not valid JSON or YAML. The position is where the decoder gave up; the mistake is often just before it (a missing comma or quote)."},
	{EDuplicateKey, Error, "duplicate key", "The same key appears twice in one JSON object or YAML mapping. Standard decoders silently keep the last one, so one of the two values would be lost; warren refuses the file instead."},
	{ETooLarge, Error, "file too large", "The file is larger than --max-size (default 128MiB); the message gives its size and the --max-size that reads it. Raise the limit if the file is genuine."},
	{ETooDeep, Error, "nesting too deep", "Objects and arrays are nested more than 64 levels deep. No definitions file needs that; the limit protects against hostile input."},
	{EAliasLimit, Error, "too many YAML aliases", "Expanding the file's YAML aliases would produce far more values than the file holds (an alias bomb). Write the values out, or use fewer aliases."},
	{ERead, Error, "cannot read input", "The file or directory could not be read (missing, a permission problem, or not a regular file)."},
	{EUnsupportedIn, Error, "unsupported input", "The input is not a definitions document: its top level is not an object, or a YAML stream holds more than one document, or a value has a type JSON cannot represent (a YAML timestamp key, NaN, infinity)."},
	{EType, Error, "wrong type", "A value has the wrong JSON type, for example a number where a string is expected or a user limit that is not an integer."},
	{ERequired, Error, "missing field", "A required field is missing: a user or vhost without name, a policy without name, pattern or definition, a permission without one of configure/write/read."},
	{EValue, Error, "value not allowed", "A value is outside what the schema allows: not one of the listed values, out of range, or not matching the expected format."},
	{ESchema, Error, "schema violation", "Any other violation of the JSON Schema (warren schema prints it)."},
	{EDuplicate, Error, "defined twice", "The same object (a user, vhost, permission, queue, …, identified by its name and vhost) is defined in two places, in one file or across files. The message names both places. RabbitMQ would keep the last one silently."},
	{ENoVhost, Error, "queue or exchange without vhost", "In a cluster-wide file every queue and exchange must name its vhost; RabbitMQ rejects the whole import otherwise (no_such_vhost undefined). Per-vhost exports (rabbitmq_definition_format: single_virtual_host) are exempt."},
	{EPattern, Error, "invalid pattern", "A permission, topic permission or policy pattern does not compile as a PCRE regular expression, which is what RabbitMQ (Erlang re) uses. Lookarounds and backreferences are fine; an unbalanced parenthesis is not."},
	{EPasswordAndHash, Error, "password and password_hash", "A user gives both password and password_hash. RabbitMQ refuses that (both_password_and_password_hash_are_provided). Keep one."},
	{EHashEncoding, Error, "password_hash is not base64", "password_hash must be base64 of salt and digest, as RabbitMQ writes it. A plain password put in password_hash by mistake is the usual cause; use password instead."},
	{EHashLength, Error, "password_hash length does not match its algorithm", "A hash decodes to the wrong number of bytes for its hashing_algorithm (sha256: 36, sha512: 68, md5: 20). RabbitMQ accepts such a hash but the user can never log in with a password."},
	{ESecretSource, Error, "password source", "A password given as {env: NAME} or {file: PATH} could not be resolved when a command needed it: the variable is unset or the file cannot be read."},
	{EQueueArgument, Error, "invalid queue argument", "A queue argument has a value RabbitMQ refuses (x-queue-type not classic/quorum/stream, a negative x-max-length, x-max-priority above 255, …), or an argument the queue's type does not support (x-max-length on a stream)."},
	{EExchangeType, Error, "unknown exchange type", "An exchange type is neither built in (direct, fanout, topic, headers) nor a plugin type (x-…). RabbitMQ refuses the import."},
	{EPolicy, Error, "invalid policy", "A policy's apply-to or priority is not valid, or the policy has an empty name."},
	{ELimit, Error, "invalid limit", "A user or vhost limit has an unknown name or a value that is not an integer of at least -1."},
	{EVhostProperty, Error, "invalid vhost property", "A vhost's default_queue_type is not classic, quorum or stream."},
	{ETargetKind, Error, "kind not supported by target", "The chosen --target cannot hold this kind of object (Amazon MQ for ActiveMQ has only users; Huawei Cloud DMS users, their per-vhost permissions, vhosts, exchanges, queues and bindings on the AMQP-0-9-1 edition, and vhosts, exchanges, queues and bindings on the 3.x edition, whose users, permissions and policies go through the instance's management API)."},
	{ETargetUser, Error, "user name not allowed by target", "The user name breaks the target's rules: guest on Amazon MQ, the character set and length on Amazon MQ for ActiveMQ (2-100 of A-Z a-z 0-9 - . _ ~) and Huawei Cloud (7-64, a leading letter, then letters, digits, - and _)."},
	{ETargetTag, Error, "tag not allowed by target", "Amazon MQ for RabbitMQ supports only the administrator, management and monitoring tags."},
	{ETargetPassword, Error, "password breaks target rules", "Amazon MQ for ActiveMQ: at least 12 characters, 4 different ones, no comma, colon or equals sign. Huawei Cloud: 8-32 characters from at least 3 of upper case, lower case, digits and specials, not the user name or its reverse, not starting with -. Checked only for passwords warren can resolve."},
	{ETargetGroups, Error, "ActiveMQ groups", "Amazon MQ for ActiveMQ allows at most 20 groups per user, each 2-100 characters of A-Z a-z 0-9 - . _ ~."},
	{ETargetConflict, Error, "conflicting ActiveMQ settings", "console_access and replication_user are mutually exclusive on Amazon MQ for ActiveMQ."},
	{EPolicyKey, Error, "unknown policy key", "A policy or operator policy definition has a key RabbitMQ's policy validators do not know (the message names the nearest known key). RabbitMQ refuses the whole policy (\"… are not recognised policy settings\"). Keys that plugins add (federation-upstream, shards-per-node, …) are known and get W122."},
	{EPolicyValue, Error, "invalid policy value", "A policy key has a value of the wrong type or out of range, as RabbitMQ's validators check it: message-ttl a whole number of at least 0, expires at least 1, overflow one of drop-head, reject-publish, reject-publish-dlx, dead-letter-exchange a string, ha-params to suit ha-mode, …. RabbitMQ refuses the policy."},
	{EOperatorPolicyKey, Error, "key not allowed in operator policies", "Operator policies take a narrower set of keys (expires, message-ttl, max-length, max-length-bytes, max-in-memory-length, max-in-memory-bytes, delivery-limit, overflow, queue-version, target-group-size, queue-master-locator, delayed-retry-type, delayed-retry-min, delayed-retry-max (4.3.1 and later) and, on some 3.x versions, ha-mode, ha-params, ha-sync-mode). RabbitMQ refuses any other key there."},
	{EVersionRefused, Error, "refused by this RabbitMQ version", "The RabbitMQ version checked (--rabbitmq-version, or the broker's own for diff and apply) refuses this, for example any ha-* policy key from 4.0 (classic queue mirroring was removed). The message names the rule of docs/rabbitmq-versions.md it comes from, and the fix."},
	{EEmptyPolicy, Error, "empty policy definition", "A policy or operator policy whose definition is empty. RabbitMQ refuses it (400 \"no policy provided\", 3.10.8 and 4.0.5). Give it a key or leave it out; an export's empty policies (after strip_cmq_keys_from_policies) go with the drop_empty_policies trim."},
	{EDotName, Error, "name is a dot segment", "A name that goes into a URL path (a user, vhost, exchange, queue, policy, parameter, component) is . or .. (also after percent-decoding, such as %2E%2E). RabbitMQ's web server resolves such a segment: DELETE /api/topic-permissions/../users/ADMIN is served as DELETE /api/users/ADMIN. warren refuses these names in files and in every request it sends."},
	{EParamSecret, Error, "credential reference in a parameter", "A parameter's uri, src-uri or dest-uri is given as {env: NAME} or {file: PATH} but is not a one-key object with a non-empty string, or could not be resolved when a command needed it."},
	{EYAMLTag, Error, "YAML tag", "A YAML value carries a tag (!!binary, !!set, a custom !foo). Definitions are JSON data: warren would drop the tag silently, so it refuses the file. Write the plain value."},
	{EVhostLimitsConflict, Error, "vhost limits given twice, differently", "A vhost's limits are written inside the vhost object and as its vhost-limits parameter, with different values. RabbitMQ applies only the parameter; warren cannot tell which one is meant. Keep the parameter."},
	{EVhostQueueTypeConflict, Error, "default queue type given twice, differently", "A vhost's default_queue_type and its metadata.default_queue_type disagree. RabbitMQ's import reads only metadata, the HTTP API and warren read the top-level field first; keep one, or make them equal."},
	{EInventoryPassword, Error, "password written in the inventory", "An inventory entry's password is written in the inventory itself (as password: VALUE, or as credentials in one of its URLs, user:password@ or user@). The inventory names where the password is, never the password: password: {env: NAME} (an environment variable) or password: {file: PATH} (a file, relative to the inventory; one trailing newline dropped)."},
	{EInventoryDuplicate, Error, "broker defined twice", "Two inventory entries have the same name; --broker NAME and the report would not know which one is meant. The message names both places."},
	{ELayerMode, Error, "invalid $layer", "An overlay object's $layer is not patch (the default: the overlay's fields replace the base object's, maps merge key by key, null removes a key), replace (the overlay's object replaces the base's) or delete (the base's object is removed)."},
	{EMigrateTransient, Error, "mirrored queue is not durable", "warren migrate: a non-durable classic queue that a mirroring policy (ha-mode) matches would become a quorum queue, and quorum queues must be durable. Declare it durable on the old cluster, or keep it out of the policy's pattern; migrate plan changes nothing until then."},
	{EMigrateAutoDelete, Error, "mirrored queue is auto-delete", "warren migrate: an auto-delete classic queue that a mirroring policy matches would become a quorum queue, and quorum queues cannot be auto-delete. Declare it without auto-delete (x-expires removes an unused queue), or keep it out of the policy's pattern."},
	{EMigrateNoEquivalent, Error, "refused by the new version, no equivalent", "warren migrate: a policy key or queue argument the new RabbitMQ version refuses, for which warren knows no replacement that keeps the queue's behaviour. The message names the version rule (docs/rabbitmq-versions.md) and its fix; change it on the old cluster (or in the export) and plan again."},
	{EMigratePattern, Error, "policy pattern cannot be matched", "warren migrate: a policy's pattern does not compile, so which queues it mirrors cannot be told."},
	{EMigrateUpstream, Error, "one upstream URI for several vhosts", "warren migrate: queues in several vhosts are to be drained, and a federation upstream's URI names the old vhost in its path, so each vhost needs its own: put {vhost} in --upstream-uri env:NAME or file:PATH (or give a URI without a password, to which warren adds each vhost)."},
	{EOwnerConflict, Error, "two owners in one set of files", "Two files of one diff or apply name different owners in their warren: owner. The objects of one apply have one owner; split the files, or give them one owner. The message names both places."},
	{EIgnorePattern, Error, "ignore pattern does not compile", "A warren: ignore rule's name is a regular expression (RE2, matched against the whole name), and this one does not compile."},
	{EOwnedByOther, Error, "owned by another owner", "The files name an object that another owner's record on the broker holds (apply records each owner's objects in the global parameter warren-owner.OWNER). Two owners managing one object would undo each other's changes. Take the object over on purpose with --take-over (the plan shows it), or leave it out of these files. Nothing was changed."},
	{WUnknownField, Warning, "unknown field", "warren does not know this field. It is kept and written back unchanged (so newer exports round-trip), but a typo is the usual cause; RabbitMQ ignores unknown fields silently."},
	{WLiteralPassword, Warning, "password in the file", "A password is written in the file in clear. Use password: {env: NAME} or password: {file: PATH}, or a password_hash."},
	{WUndefinedUser, Warning, "user not defined in the files", "A permission names a user that no file defines. It must exist on the broker, or RabbitMQ refuses the permission (no_such_user)."},
	{WUndefinedVhost, Warning, "vhost not defined in the files", "An object names a vhost that no file defines. It must exist on the broker, or RabbitMQ refuses it (no_such_vhost)."},
	{WUndefinedSource, Warning, "binding end not defined", "A binding's source or destination is not defined in the files and is not built in. It must exist on the broker, or the binding fails."},
	{WSkippedByBroker, Warning, "skipped by the broker", "RabbitMQ answers 204 but leaves this object out: queues and exchanges named amq.* (reserved; server-named amq.gen-… queues, amq.* exchanges) are skipped on import."},
	{WBindingNoVhost, Warning, "binding without vhost", "In a cluster-wide file a binding without vhost is silently dropped by RabbitMQ 3.x (and refused by 4.x). Add the vhost."},
	{WUnknownTag, Warning, "unknown user tag", "A tag other than administrator, monitoring, management, policymaker or impersonator. RabbitMQ keeps it, but it grants nothing in the management UI; a typo is the usual cause."},
	{WHashAlgorithm, Warning, "unknown hashing algorithm", "hashing_algorithm is not one of rabbit_password_hashing_sha256, _sha512 or _md5. A broker without a matching plugin cannot check this user's password."},
	{WUndefinedTopicExchange, Warning, "topic permission's exchange not defined", "A topic permission names an exchange that no file defines and that is not built in (amq.*). RabbitMQ 4.3.2 and later refuse the permission unless the broker has the exchange (no_such_exchange); older versions keep it. diff and apply check the broker first (E112)."},
	{WUnknownArgument, Warning, "unknown queue argument", "An x- argument RabbitMQ does not know. RabbitMQ keeps unknown arguments, so a typo goes unnoticed until the queue misbehaves."},
	{WUnresolvedSecret, Warning, "password not checked", "The target has password rules but warren could not resolve this password ({env} unset or {file} unreadable), so the rules were not checked."},
	{WVersionRefused, Warning, "refused by some RabbitMQ versions", "Some of the RabbitMQ versions checked refuse this and others accept it; the message names them. Without --rabbitmq-version every supported version is checked, so --strict fails on what any of them refuses. Give the version you run to turn this into an error or nothing."},
	{WPolicyNotApplicable, Warning, "policy key does not apply", "The policy's apply-to (all, queues, exchanges, classic_queues, quorum_queues, streams) reaches no object that takes this key, for example max-age (streams only) in a policy for classic_queues or alternate-exchange in one for queues. RabbitMQ accepts it and it has no effect."},
	{WPluginNeeded, Warning, "needs a plugin", "An exchange type (x-consistent-hash, x-delayed-message, …), a parameter component (federation-upstream, shovel) or a policy key (federation-upstream-set, …) comes from a plugin. The message names it; without it on the node RabbitMQ refuses the import."},
	{WQueueNotCreated, Warning, "queue accepted but not created", "A quorum queue or a stream must be durable and cannot be auto-delete, and RabbitMQ 4.3 denies x-queue-master-locator by default (deprecated feature queue_master_locator). RabbitMQ's import answers 204 for such a queue and does not create it."},
	{WVersionIgnored, Warning, "ignored by the RabbitMQ version", "The RabbitMQ version checked accepts this and does nothing with it, for example protected_from_deletion in a vhost's metadata before 4.0.6, or the protected user tag before 4.2."},
	{WNodeSpecific, Warning, "node-specific value", "A global parameter that belongs to one node or cluster (internal_cluster_id, imported_definition_hash_value) would be copied to another cluster. warren export trims it by default."},
	{WNoPassword, Warning, "user without password", "A user has neither password nor password_hash. RabbitMQ's own import (POST /api/definitions, or a boot-time import) creates such a user without a password: it cannot log in. warren apply leaves an existing user's password alone, and warren boot refuses such a user. A default warren export writes users this way; use export --password-refs, or add password: {env: NAME}."},
	{WLayerNothing, Warning, "overlay deletes nothing", "An overlay object with $layer: delete names an object that no layer below it defines. A typo in its name or vhost is the usual cause; the base may also have dropped it."},
	{WMigrateBehaviour, Warning, "moved with a change in behaviour", "warren migrate: a queue argument quorum queues refuse was dropped or translated in a way that changes what the queue does: x-max-priority (4.0's quorum queues have two priorities, 0-4 and 5 and above), x-overflow reject-publish-dlx (quorum queues reject without dead-lettering), an argument the queue's new type does not take."},
	{WMigratePolicyChanged, Warning, "another policy applies", "warren migrate: with the keys the new version refuses gone (a policy that held only ha-* keys is dropped) or with the queue's new type, a different policy (or none) applies to the queue on the new cluster. Check that its keys suit the queue."},
	{WMigrateNotDrained, Warning, "messages not moved", "warren migrate: queue federation does not move a stream's messages; consumers read the old stream until it is no longer needed."},
	{WMigratePolicyTie, Warning, "mirroring decided by a priority tie", "warren migrate: two policies match a classic queue at the same priority and only one of them mirrors it (ha-mode). Which one RabbitMQ applies is undefined; warren takes the first by name to decide whether the queue becomes a quorum queue. Give the policies different priorities on the old cluster and plan again."},
	{WMigrateDefaultGuest, Warning, "default guest not moved", "warren migrate: the old cluster's user guest still has RabbitMQ's default password, guest. It is not moved, nor are its permissions: a well-known password on an administrator of the new cluster is what a migration must not bring back. Applications that log in as guest need a user of their own."},
	{WMigrateAdministrator, Warning, "administrator moved", "warren migrate: a user tagged administrator on the old cluster is moved with its tag and its password hash: whoever knows its password can change everything on the new cluster. Check that it should be an administrator there."},
	{WVhostLimitsIgnored, Warning, "limits inside a vhost", "RabbitMQ's import ignores limits written inside a vhost object (vhosts: [{name: x, limits: {max-queues: 10}}]): a vhost's limits are its vhost-limits runtime parameter. warren apply and warren boot set that parameter from them; RabbitMQ's own import of the file would not. Write them as parameters: [{component: vhost-limits, vhost: x, name: limits, value: {max-queues: 10}}]."},
	{ENumberRange, Error, "number RabbitMQ cannot read", "A number no 64-bit float holds (1e400). RabbitMQ refuses the whole file (failed_to_parse_json) wherever the number is. Write a smaller number, or quote it to make it a string."},
	{EBrokerURI, Error, "malformed broker URI", "A federation upstream's uri or a shovel's src-uri or dest-uri is not an amqp:// or amqps:// URI RabbitMQ can use: another scheme, no host, a port that is not a number from 1 to 65535, a vhost or query that is not percent-encoded properly. A URI given as {env: NAME} or {file: PATH} is checked once read, before anything changes, and its value is never shown."},
	{EMissingOnBroker, Error, "missing on the broker", "diff and apply: an object names a vhost, user, exchange or queue that neither the files nor the live broker have, and the broker's version refuses it (no_such_vhost, no_such_user, resources_missing for a binding on RabbitMQ 3.13.6 and later). Nothing was changed. Define it in the files, create it first, or drop the reference."},
	{WDroppedByBroker, Warning, "binding the broker will drop", "diff and apply: a binding names a source exchange or destination that neither the files nor the live broker have; this broker's version (before 3.13.6) accepts the import and drops the binding silently, so a diff after the apply still shows it. Define the exchange or queue, or drop the binding."},
	{WDeprecatedFeature, Warning, "permitted by default, refused where a node denies the deprecated feature", "The RabbitMQ version checked accepts this by default, and a node configured with deprecated_features.permit.NAME = false (NAME in the message) refuses it, for example a non-durable classic queue (transient_nonexcl_queues). diff and apply read what the broker's node permits (GET /api/deprecated-features, RabbitMQ 4.2 and later) and report an error there instead when it denies the feature."},
	{EOperatorPoliciesLocked, Error, "operator policies locked by the broker", "diff and apply with --target amazonmq-rabbitmq: the files define an operator policy, and the broker locks operator policies (management.restrictions.operator_policy_changes.disabled, true by default on Amazon MQ: every method on /api/operator-policies/{vhost}/{name} answers 405). Nothing was changed. Leave operator policies out of the files, or set the key to false in the broker's Amazon MQ configuration and reboot it."},
	{ETargetUnsupported, Error, "not supported by the target", "--target amazonmq-rabbitmq: a stream (x-queue-type stream; Amazon MQ says creating one results in data loss) or an x-local-random exchange (not supported on Amazon MQ's RabbitMQ 4 brokers). Use a quorum or classic queue, or another exchange type."},
	{ETargetLimit, Error, "past the instance's resource limit", "diff and apply with --target amazonmq-rabbitmq and --instance-type: after the plan the broker would hold more queues, exchanges, vhosts or shovels than the instance type's default limit allows (Amazon MQ's sizing table for RabbitMQ 4; --deployment-mode picks the single-instance or cluster column). The broker would refuse the objects past the limit, leaving a part-applied import; nothing was changed. Remove objects or pick a larger instance type; a broker whose configuration raised its limits is checked without --instance-type."},
	{WAccessUnanchored, Warning, "unanchored permission pattern", "warren access --audit: a permission or topic permission pattern that does not start with ^ matches the names that contain it anywhere, not only those that start with it: RabbitMQ matches patterns unanchored, so orders grants xorders-archive too. Anchor it (^orders$ for one name, ^orders\\. for a prefix). .* and '' (nothing) are not reported."},
	{WAccessFullAccess, Warning, "full access in several vhosts", "warren access --audit: a user has .* for configure, write and read in more than one vhost: it can declare, delete, publish to and read everything in each. Give applications patterns for their own queues and exchanges, one vhost each; the message names the vhosts."},
	{WAccessAdmins, Warning, "more administrators than allowed", "warren access --audit --max-admins N: more users are tagged administrator than N. Each can change every user, permission and definition on the broker. Reported at each administrator."},
	{WAccessNoPermission, Warning, "user with no permission", "warren access --audit: a user has no permission in any vhost, so it cannot open an AMQP connection at all (RabbitMQ refuses the vhost). Its tags may still let it use the management API; otherwise it is unused or its permissions are missing."},
	{WAccessUnused, Warning, "grant that matches nothing defined", "warren access --audit: a permission pattern (configure, write or read; not .* and not '') matches no queue or exchange the files define in its vhost, nor a built-in exchange, nor a server-named queue (amq.gen-…). It grants nothing that exists: a typo, or a resource that was renamed. Vhosts whose files define no queue or exchange are not checked (applications may declare their own)."},
	{WAccessTopicNoop, Warning, "topic permission on a non-topic exchange", "warren access --audit: a topic permission names an exchange the files define with a type other than topic. RabbitMQ checks topic permissions only on topic exchanges, so it restricts nothing."},
	{WAccessGuest, Warning, "guest present", "warren access --audit: the files define the user guest, whose default password is guest and which RabbitMQ creates on a blank node. Give applications users of their own, and leave guest out (warren diff --prune deletes it unless --keep-guest)."},
	{WAccessConfigureAMQ, Warning, "configure on amq.*", "warren access --audit: a configure pattern that names amq matches RabbitMQ's built-in exchanges (amq.direct, amq.topic, …). Configure is the right to declare and delete; the broker refuses to delete built-in exchanges, and a grant on them is usually a pattern meant for something else."},
	{WAccessTopicAutoDel, Warning, "topic permission on an auto-delete exchange", "warren access --audit: a topic permission names a topic exchange the files define with auto_delete. RabbitMQ 4.3 deletes the topic permissions on an exchange with the exchange (3.10 and 4.0 keep them), and an auto-delete exchange is deleted when its last binding goes: when an application declares it again, the user's routing keys are no longer restricted. Make the exchange durable and not auto-delete, or apply the topic permission again after each re-declaration."},
	{ETargetQueue, Error, "queue DMS cannot express", "Huawei Cloud DMS creates classic queues with dead-lettering (x-dead-letter-exchange, x-dead-letter-routing-key), a message TTL (x-message-ttl) and, on the 3.x edition, lazy mode (x-queue-mode: lazy) only: no quorum or stream queues, no max-length, priority, expiry or single active consumer. On the AMQP-0-9-1 edition every queue is durable and lazy mode does not apply."},
	{ETargetExchange, Error, "exchange DMS cannot express", "Huawei Cloud DMS creates direct, fanout, topic and headers exchanges. On the AMQP-0-9-1 edition every exchange is durable and none is internal. The default exchange and the amq.* exchanges are the broker's own."},
	{ETargetBinding, Error, "binding DMS cannot express", "Huawei Cloud DMS bindings have no arguments, a routing key of at most 128 characters without + ~ or Chinese characters, and a source other than the default exchange. On the AMQP-0-9-1 edition a binding's destination is a queue."},
	{ETargetName, Error, "name not allowed by DMS", "Huawei Cloud DMS exchange names are 3-128 characters, queue names 2-128 (3.x edition) or 2-64 where . % | and / count as 3 (AMQP-0-9-1 edition), both of letters, digits and . % | - _ /."},
	{ETopoKind, Error, "not a Topology Operator kind", "A document of a Topology Operator file has a kind the operator does not have, or its kind at the wrong apiVersion. The kinds are Vhost, User, Permission, TopicPermission, Policy, OperatorPolicy, Queue, Exchange, Binding, Federation, Shovel and SchemaReplication (rabbitmq.com/v1beta1), SuperStream (rabbitmq.com/v1alpha1), and the v1 Secrets they reference."},
	{ETopoName, Error, "invalid Kubernetes name", "metadata.name must be a DNS-1123 subdomain (1-253 characters of a-z, 0-9, - and ., each dot-separated part starting and ending with a letter or digit) and a namespace a DNS-1123 label (1-63, no dots); a label value at most 63 characters of A-Z, a-z, 0-9, -, _ and ., starting and ending with a letter or digit; a SuperStream's name is at most 63 characters and its routing keys valid label values (both are copied into labels). The API server refuses the resource otherwise. The RabbitMQ name goes in spec.name, which takes any string."},
	{ETopoUnknownField, Error, "unknown field in a resource", "The operator's CRD has no such field. The API server drops unknown fields silently, so what it meant would never reach RabbitMQ; warren refuses the file. Free-form objects (arguments, definition, a shovel's *Args and *Properties) take any key."},
	{ETopoCluster, Error, "rabbitmqClusterReference", "Every resource needs spec.rabbitmqClusterReference with exactly one of name (a RabbitmqCluster) and connectionSecret (a Secret with uri, username, password). A SuperStream must use name."},
	{ETopoRule, Error, "refused by the operator's webhook", "A rule the operator checks when a resource is created: exactly one of user and userReference (Permission, TopicPermission), a quorum Queue is durable, a Shovel with srcProtocol or destProtocol amqp10 names srcAddress or destAddress, a SchemaReplication has upstreamSecret or secretBackend.vault (with secretPath and endpoints), a SuperStream's routingKeys has one key per partition."},
	{ETopoCredential, Error, "credential written in a resource", "A password, password hash, username or URI with credentials is written in a resource. The operator reads credentials only from Secrets: a User's importCredentialsSecret (username, passwordHash or password), a Federation's or Shovel's uriSecret (uri; srcUri and destUri), a SchemaReplication's upstreamSecret, a connectionSecret."},
	{ETopoSecret, Error, "Secret reference", "A resource names a Secret that is not in the files, that lacks the label rabbitmq.com/topology-operator: \"true\", or that lacks a key the operator reads (a User's username, and passwordHash or password; uri; srcUri and destUri; username and password). The operator refuses such a resource when it is created."},
	{WTopoNotExpressed, Warning, "not expressible as operator resources", "warren export --format topology-operator (and fmt --to topology-operator) met something the Topology Operator has no field or kind for: a user tag outside management, policymaker, monitoring and administrator, a password hash that is not SHA-512, an exchange's internal flag, a vhost's description or protection, a parameter component other than federation-upstream, shovel and operator_policy, a federation or shovel key the CRD lacks. The message names the object and what is lost; the rest is written."},
}

// Lookup returns the Info of a code.
func Lookup(c Code) (Info, bool) {
	for _, in := range Codes {
		if in.Code == c {
			return in, true
		}
	}
	return Info{}, false
}

// Markdown renders docs/diagnostics.md from Codes.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# warren diagnostics\n\n")
	b.WriteString("Every problem `warren validate` (and every command that loads files) reports has a stable code.\n")
	b.WriteString("Each is printed as `file:line:col: /json/pointer: message [CODE]`. E codes are errors (exit 1);\n")
	b.WriteString("W codes are warnings (exit 0), and `--strict` turns them into errors. This file is generated from\n")
	b.WriteString("`schema/codes.go`; `WARREN_UPDATE=1 go test ./schema` rewrites it.\n\n")
	b.WriteString("| code | severity | title |\n|---|---|---|\n")
	for _, in := range Codes {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", in.Code, strings.ToLower(string(in.Code)), in.Severity, in.Title)
	}
	for _, in := range Codes {
		fmt.Fprintf(&b, "\n## %s\n\n**%s** (%s). %s\n", in.Code, in.Title, in.Severity, in.Detail)
	}
	return b.String()
}
