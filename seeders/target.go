package seeders

import (
	"context"
	"errors"
	"io"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
)

// Target is a broker warren compares files with and changes. Every package
// under seeders that reaches a broker provides one, checked at compile time
// (var _ seeders.Target = (*Target)(nil)), and cmd has one diff path and
// one apply path for all of them:
//
//	Identity → Read(kinds) → plan.Diff(desired, live, DiffOptions…) → Plan
//	→ (Lock, read and diff again) → Apply(Plan) → Read and diff again: no changes
type Target interface {
	// Name is the target's --target value.
	Name() definitions.TargetName
	// Identity names the broker (its URLs and what identifies it beyond
	// them) and the user warren acts as ("" for a cloud API's
	// credentials). A saved plan records it; apply refuses another.
	Identity(ctx context.Context) (plan.BrokerID, error)
	// Read reads the live definitions of the kinds asked for (a target may
	// read more); nil means everything, as an export.
	Read(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error)
	// DiffOptions are the options the target's rules need (the acting
	// user, the platform's own objects, how a cloud API compares users…).
	DiffOptions(ctx context.Context, opts plan.Options) []plan.DiffOption
	// Apply carries out a plan, and nothing but the plan; a failure part-way
	// is a *plan.ApplyError.
	Apply(ctx context.Context, plan *plan.Plan, opts ApplyOptions) error
	// Unsupported names the options the target cannot honour, each with
	// why; they are refused, never ignored.
	Unsupported() map[Option]string
}

// Option is an option of diff, apply and the connection that a target may
// not honour. Its value is the option's name on warren's command line.
type Option string

// The options a target may refuse.
const (
	OptionPrune           Option = "prune"
	OptionKeepGuest       Option = "keep-guest"
	OptionReplace         Option = "replace"
	OptionDestroyMessages Option = "destroy-messages"
	OptionUpdatePasswords Option = "update-passwords"
	OptionBreakLock       Option = "break-lock"
	OptionWait            Option = "wait"
	OptionReboot          Option = "reboot"
	OptionAMQPURL         Option = "amqp-url"
	// OptionCloseConnections: apply --close-connections.
	OptionCloseConnections Option = "close-connections"
)

// PlanOptions are the plan's options that are set, as Options.
func PlanOptions(o plan.Options) map[Option]bool {
	return map[Option]bool{OptionPrune: o.Prune, OptionKeepGuest: o.KeepGuest, OptionReplace: o.Replace,
		OptionDestroyMessages: o.DestroyMessages, OptionUpdatePasswords: o.UpdatePasswords, OptionCloseConnections: o.CloseConnections}
}

// ApplyOptions tune Target.Apply.
type ApplyOptions struct {
	plan.Options
	// Admins are the files' administrators whose password warren can read
	// (name → password): RabbitMQ logs in as one before deleting an
	// administrator or the acting user.
	Admins map[string]string
	// Progress, when set, hears of every step as it ends.
	Progress func(Progress)
	// Stop, when closed, makes Apply stop after the step under way and
	// return an *plan.ApplyError.
	Stop <-chan struct{}
	// Reboot asks a target whose changes wait for a reboot to reboot now.
	Reboot bool
}

// ErrInterrupted is why an apply asked to stop (ApplyOptions.Stop)
// stopped.
var ErrInterrupted = errors.New("interrupted: stopped after the step under way")

// Progress reports one step of an apply.
type Progress struct {
	What        string // "import", "PUT vhost", "delete", "limits", "replace", "user", …
	Changes     []plan.Change
	Done, Total int // changes done so far, of all
	// Confirmed says that the broker answered for each of Changes alone,
	// after making it (a PUT of one object): the check after the apply
	// need not read it again. An import's objects are not confirmed: the
	// broker may skip one without saying.
	Confirmed bool
}

// Optional abilities: cmd uses them where a target has them.

// Locker takes a lock on the broker for an apply; release gives it back.
type Locker interface {
	Lock(ctx context.Context, breakLock bool, warn io.Writer) (release func() error, err error)
}

// Versioned says which version of RabbitMQ the broker runs, whose rules
// the files are checked against before anything is compared.
type Versioned interface {
	Version(ctx context.Context) (string, error)
}

// Noter has notes for a plan: changes waiting for a reboot, passwords that
// cannot be compared. Read comes first.
type Noter interface {
	Notes(plan *plan.Plan, opts plan.Options) []string
}

// Finisher has something to do after an apply, even of an empty plan (a
// reboot); it returns what to tell the user.
type Finisher interface {
	Finish(ctx context.Context, opts ApplyOptions) (string, error)
}

// ConnectionCloser lists and closes client connections (apply
// --close-connections). A target that cannot says so in Unsupported.
type ConnectionCloser interface {
	// Connections are the open connections each Disconnect names.
	Connections(ctx context.Context, who []plan.Disconnect) ([]Connection, error)
	// CloseConnections closes conns (one already gone is not an error)
	// and returns once the broker no longer lists them; an error says
	// which are still open.
	CloseConnections(ctx context.Context, conns []Connection) error
}

// ChangeTagger tells cheaply whether a broker's definitions changed since
// a tag was taken (RabbitMQ 4.3.5's ETag on GET /api/definitions).
type ChangeTagger interface {
	// DefinitionsTag is a tag of the definitions now, "" when the broker
	// gives none; taken before a read, it is never newer than the read.
	DefinitionsTag(ctx context.Context) (string, error)
	// DefinitionsUnchanged reports whether they are still those of tag,
	// with one conditional request.
	DefinitionsUnchanged(ctx context.Context, tag string) (bool, error)
}

// Connection is one client connection to the broker.
type Connection struct {
	Name, User, Vhost string
}

// Exporter reads what warren export writes, when that is not Read(nil)
// (a platform's own objects left out, say).
type Exporter interface {
	Export(ctx context.Context) (*definitions.Document, error)
}

// Recorder keeps owners' records on the broker (plan.Record): which
// objects each owner manages, for an apply whose files name an owner.
type Recorder interface {
	// Records reads every owner's record, by owner.
	Records(ctx context.Context) (map[string]*plan.Record, error)
	// WriteRecord writes an owner's record (removes it when empty).
	WriteRecord(ctx context.Context, r *plan.Record) error
}

// ScopedReader reads only what lives in some vhosts, for a plan limited
// to them (Read otherwise): the kinds that live in a vhost from that
// vhost's listings where the broker has them.
type ScopedReader interface {
	ReadIn(ctx context.Context, kinds []definitions.Kind, vhosts []string) (*definitions.Document, error)
}

// Prefetcher starts reading the broker before the files are loaded, where
// one read serves whatever kinds a plan will need (RabbitMQ 4.3's whole
// export): the next Read takes its result instead of reading again. A
// plan only ever reads once the files are valid; a read started early is
// a GET, and is cancelled with ctx when the files are not.
type Prefetcher interface {
	Prefetch(ctx context.Context)
}
