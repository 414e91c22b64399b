package boot

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/warren-tool/warren/definitions"
)

// Options tune Files and Kubernetes.
type Options struct {
	// HashingAlgorithm for passwords: definitions.HashSHA256 (default) or
	// definitions.HashSHA512.
	HashingAlgorithm string
	// Resolve reads passwords given as {env} or {file}; nil means
	// definitions.ResolveSecret.
	Resolve func(*definitions.Secret) (string, error)
	// Force writes the output even when the files define no administrator
	// or no vhost; the problems come back as warnings.
	Force bool
	// DefinitionsPath is where the node will find the definitions file, for
	// the configuration fragment.
	DefinitionsPath string
	// HTTPS, when set, makes the node fetch the definitions from a server
	// instead (the https import backend); DefinitionsPath is then unused.
	HTTPS *HTTPSSource
}

// Output is what a node needs to import definitions at its first boot.
type Output struct {
	// Definitions is the document, every password turned into a salted
	// hash, every field RabbitMQ's import needs filled in.
	Definitions []byte
	// Config is a rabbitmq.conf fragment (a conf.d file) that points the
	// node at the definitions, re-importing only when they change.
	Config string
	// Warnings are problems --force let through.
	Warnings []string
}

// Files turns definitions into what a blank node imports at boot. RabbitMQ
// creates no guest user and no / vhost on a node configured to import
// definitions, so a document without an administrator or a vhost gives a
// node nobody can manage: Files refuses it unless forced.
func Files(d *definitions.Document, opts Options) (*Output, error) {
	if opts.Resolve == nil {
		opts.Resolve = definitions.ResolveSecret
	}
	alg := opts.HashingAlgorithm
	if alg == "" {
		alg = definitions.HashSHA256
	}
	if alg != definitions.HashSHA256 && alg != definitions.HashSHA512 {
		return nil, fmt.Errorf("boot hashes with %s or %s, not %q", definitions.HashSHA256, definitions.HashSHA512, alg)
	}
	var problems []string
	if !slices.ContainsFunc(d.Users, func(u *definitions.User) bool { return slices.Contains(u.Tags, "administrator") }) {
		problems = append(problems, "the files define no user with the administrator tag: nobody could manage the node (it gets no guest user)")
	}
	if len(d.Vhosts) == 0 {
		problems = append(problems, "the files define no vhost: the node would have none (it gets no / vhost)")
	}
	for _, u := range d.Users {
		if u.Password == nil && u.PasswordHash == nil {
			problems = append(problems, fmt.Sprintf("user %q has neither password nor password_hash: the node would create it unable to log in (give it password: {env: NAME})", u.Name))
		}
	}
	if len(problems) > 0 && !opts.Force {
		return nil, errors.New(strings.Join(problems, "; ") + " (--force writes it anyway)")
	}
	n := definitions.Normalize(d)
	out := &definitions.Document{
		Permissions: n.Permissions, TopicPermissions: n.TopicPermissions,
		Policies: n.Policies, Queues: n.Queues, Exchanges: n.Exchanges, Bindings: n.Bindings,
	}
	// URIs given as {env} or {file} are resolved into the file (0600).
	// Every secret that cannot be read is said at once.
	var unread []error
	for _, p := range n.Parameters {
		p := *p
		v, err := definitions.ResolveValue(p.Value, opts.Resolve)
		if err != nil {
			unread = append(unread, &definitions.SecretError{Object: &p, Field: "value", Err: err})
		}
		p.Value = v
		out.Parameters = append(out.Parameters, &p)
	}
	for _, p := range n.GlobalParameters {
		p := *p
		v, err := definitions.ResolveValue(p.Value, opts.Resolve)
		if err != nil {
			unread = append(unread, &definitions.SecretError{Object: &p, Field: "value", Err: err})
		}
		p.Value = v
		out.GlobalParameters = append(out.GlobalParameters, &p)
	}
	// The import reads a vhost's default queue type only from its metadata,
	// and ignores limits inside a vhost: they become the vhost-limits
	// parameter. Queues carry their type (their vhost's default when the
	// files give none), which 3.10's import would not pick.
	for _, v := range n.Vhosts {
		out.Vhosts = append(out.Vhosts, ImportVhost(v))
	}
	out.Parameters = append(out.Parameters, definitions.VhostLimitParameters(d)...)
	for _, u := range n.Users {
		u := *u
		if u.Password != nil {
			pw, err := opts.Resolve(u.Password)
			if err != nil {
				unread = append(unread, &definitions.SecretError{Object: &u, Field: "password", Err: err})
				continue
			}
			hash, err := definitions.HashPassword(pw, alg, nil)
			if err != nil {
				return nil, err
			}
			u.Password, u.PasswordHash, u.HashingAlgorithm = nil, &hash, alg
		}
		u.ActiveMQ = nil
		out.Users = append(out.Users, &u)
	}
	if len(unread) > 0 {
		return nil, errors.Join(unread...)
	}
	out.Sort()
	config, err := bootConfig(opts.DefinitionsPath, opts.HTTPS)
	if err != nil {
		return nil, err
	}
	return &Output{Definitions: out.EncodeJSON(), Config: config, Warnings: problems}, nil
}

// ImportVhost returns a vhost as RabbitMQ's import must get it: the default
// queue type in metadata, where the import reads it, and without limits,
// which the import ignores (they travel as a vhost-limits parameter).
func ImportVhost(v *definitions.Vhost) *definitions.Vhost {
	out := *v
	if v.DefaultQueueType != "" {
		out.Metadata = maps.Clone(v.Metadata)
		if out.Metadata == nil {
			out.Metadata = map[string]any{}
		}
		out.Metadata["default_queue_type"] = v.DefaultQueueType
	}
	if _, ok := v.Extra["limits"]; ok {
		out.Extra = maps.Clone(v.Extra)
		delete(out.Extra, "limits")
	}
	return &out
}
