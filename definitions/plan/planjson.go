package plan

// JSON is the shape of warren diff --format json, version 1. Fields
// are only ever added within a version.
type JSON struct {
	FormatVersion int            `json:"format_version"`
	InSync        bool           `json:"in_sync"`
	Summary       map[string]int `json:"summary"`
	Changes       []ChangeJSON   `json:"changes"`
	Skipped       []SkipJSON     `json:"skipped"`
	Unmanaged     map[string]int `json:"unmanaged"`
	Pruning       bool           `json:"pruning"`
	LiveDigest    string         `json:"live_digest"`
	// OutOfScope counts the files' objects a scope (--vhost) left out,
	// by kind.
	OutOfScope map[string]int `json:"out_of_scope,omitempty"`
	// Ownership is there when the files name an owner.
	Ownership *OwnershipJSON `json:"ownership,omitempty"`
	// Access lists what the plan changes of who can do what.
	Access []AccessChangeJSON `json:"access,omitempty"`
	// CloseConnections lists whose connections the apply closes when it
	// is done (apply --close-connections).
	CloseConnections []DisconnectJSON `json:"close_connections,omitempty"`
}

// DisconnectJSON names connections an apply closes: the user's, to the
// vhost, or to every vhost when Vhost is absent.
type DisconnectJSON struct {
	User  string `json:"user"`
	Vhost string `json:"vhost,omitempty"`
	Why   string `json:"why"`
}

// AccessChangeJSON is one change of who can do what.
type AccessChangeJSON struct {
	Change string `json:"change"`
	Gained bool   `json:"gained"`
}

// OwnershipJSON is what an owner's plan says of ownership.
type OwnershipJSON struct {
	Owner string `json:"owner"`
	// Recorded is how many objects the owner's record holds after the
	// apply; RecordChanges says whether the apply rewrites it.
	Recorded       int            `json:"recorded"`
	RecordChanges  bool           `json:"record_changes"`
	OwnedElsewhere map[string]int `json:"owned_elsewhere"`
	NotOwned       map[string]int `json:"not_owned"`
	Forgotten      []string       `json:"forgotten"`
	TakeOvers      []TakeOverJSON `json:"take_overs"`
}

// TakeOverJSON is an object taken over from another owner.
type TakeOverJSON struct {
	Address string `json:"address"`
	From    string `json:"from"`
}

// ChangeJSON is one change of PlanJSON.
type ChangeJSON struct {
	Action  string            `json:"action"`
	Marker  string            `json:"marker"`
	Kind    string            `json:"kind"`
	Step    string            `json:"step"`
	Address string            `json:"address"`
	Reason  string            `json:"reason,omitempty"`
	Fields  []FieldChangeJSON `json:"fields,omitempty"`
	// Object is the created object, or the deleted one, without secrets.
	Object map[string]any `json:"object,omitempty"`
	// Takes is what the deletion of a vhost deletes with it.
	Takes *VhostContentsJSON `json:"takes,omitempty"`
}

// VhostContentsJSON is what lives in a vhost a plan deletes.
type VhostContentsJSON struct {
	Queues   []QueueMessagesJSON `json:"queues"`
	Messages int64               `json:"messages"`
	// MessagesUnknown names the queues whose count could not be known;
	// Messages is then a lower bound.
	MessagesUnknown  []string `json:"messages_unknown,omitempty"`
	Exchanges        []string `json:"exchanges"`
	Bindings         int      `json:"bindings"`
	Policies         []string `json:"policies"`
	Parameters       []string `json:"parameters"`
	Permissions      []string `json:"permissions"`
	TopicPermissions []string `json:"topic_permissions"`
}

// QueueMessagesJSON is a queue with its message count.
type QueueMessagesJSON struct {
	Name     string `json:"name"`
	Messages int64  `json:"messages"`
	// Unknown: the queue holds at least Messages, how many more is not
	// known.
	Unknown bool `json:"unknown,omitempty"`
}

// FieldChangeJSON is one field of a ChangeJSON.
type FieldChangeJSON struct {
	Field     string `json:"field"`
	Before    any    `json:"before,omitempty"`
	After     any    `json:"after,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// SkipJSON is one skipped object of PlanJSON.
type SkipJSON struct {
	Address string `json:"address"`
	Reason  string `json:"reason"`
	// Differs: the broker's object differs from the files and is left so.
	Differs bool `json:"differs,omitempty"`
}
