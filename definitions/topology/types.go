package topology

// Group is the API group of every kind here.
const Group = "rabbitmq.com"

// The API versions the kinds are served at.
const (
	V1beta1  = Group + "/v1beta1"
	V1alpha1 = Group + "/v1alpha1"
)

// TypeMeta is a resource's apiVersion and kind.
type TypeMeta struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
}

// ObjectMeta is the part of Kubernetes' metadata that users write. The
// fields the API server owns are accepted on reading and ignored.
type ObjectMeta struct {
	Name        string            `yaml:"name" topo:"required,name"`
	Namespace   string            `yaml:"namespace,omitempty" topo:"namespace"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// serverOwnedMeta lists metadata keys the API server writes; a resource
// read back from a cluster has them, and they are ignored.
var serverOwnedMeta = []string{"finalizers", "ownerReferences", "uid", "resourceVersion", "generation",
	"creationTimestamp", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName", "selfLink"}

// ClusterReference names the RabbitmqCluster (name) or a Secret with the
// management URI and credentials (connectionSecret). Exactly one is set.
type ClusterReference struct {
	Name             string     `yaml:"name,omitempty"`
	Namespace        string     `yaml:"namespace,omitempty" topo:"namespace"`
	ConnectionSecret *SecretRef `yaml:"connectionSecret,omitempty"`
}

// SecretRef names a Secret (or, as userReference, a User) in the
// resource's namespace.
type SecretRef struct {
	Name string `yaml:"name" topo:"required"`
}

// DeletionPolicy values; the default is delete.
const (
	DeletionDelete = "delete"
	DeletionRetain = "retain"
)

// Vhost is a virtual host. PUT /api/vhosts/{name}
type Vhost struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     VhostSpec  `yaml:"spec"`
}

type VhostSpec struct {
	Name                     string           `yaml:"name" topo:"required"`
	Tracing                  bool             `yaml:"tracing,omitempty"`
	Tags                     []string         `yaml:"tags,omitempty"`
	DefaultQueueType         string           `yaml:"defaultQueueType,omitempty" topo:"enum=quorum|classic|stream"`
	Limits                   *VhostLimits     `yaml:"limits,omitempty"`
	DeletionPolicy           string           `yaml:"deletionPolicy,omitempty" topo:"enum=delete|retain"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// VhostLimits are the vhost-limits max-connections and max-queues.
type VhostLimits struct {
	Connections *int32 `yaml:"connections,omitempty"`
	Queues      *int32 `yaml:"queues,omitempty"`
}

// User is a RabbitMQ user. Its name and password come from the Secret
// importCredentialsSecret names (keys username, and passwordHash or
// password). PUT /api/users/{username}
type User struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     UserSpec   `yaml:"spec"`
}

type UserSpec struct {
	Tags                     []string         `yaml:"tags,omitempty" topo:"items=management|policymaker|monitoring|administrator"`
	ImportCredentialsSecret  *SecretRef       `yaml:"importCredentialsSecret,omitempty"`
	Limits                   *UserLimits      `yaml:"limits,omitempty"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// UserLimits are the user limits max-connections and max-channels.
type UserLimits struct {
	Connections *int32 `yaml:"connections,omitempty"`
	Channels    *int32 `yaml:"channels,omitempty"`
}

// UserTags are the tags the User CRD accepts.
var UserTags = []string{"management", "policymaker", "monitoring", "administrator"}

// Permission is a user's configure/write/read patterns in a vhost.
// PUT /api/permissions/{vhost}/{user}
type Permission struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta     `yaml:"metadata"`
	Spec     PermissionSpec `yaml:"spec"`
}

type PermissionSpec struct {
	User                     string           `yaml:"user,omitempty"`
	UserReference            *SecretRef       `yaml:"userReference,omitempty"`
	Vhost                    string           `yaml:"vhost" topo:"required"`
	Permissions              VhostPermissions `yaml:"permissions" topo:"required"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// VhostPermissions are the three patterns; an omitted one matches nothing.
type VhostPermissions struct {
	Configure string `yaml:"configure"`
	Write     string `yaml:"write"`
	Read      string `yaml:"read"`
}

// TopicPermission is a user's write/read patterns on one topic exchange.
// PUT /api/topic-permissions/{vhost}/{user}
type TopicPermission struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta          `yaml:"metadata"`
	Spec     TopicPermissionSpec `yaml:"spec"`
}

type TopicPermissionSpec struct {
	User                     string                `yaml:"user,omitempty"`
	UserReference            *SecretRef            `yaml:"userReference,omitempty"`
	Vhost                    string                `yaml:"vhost" topo:"required"`
	Permissions              TopicPermissionConfig `yaml:"permissions" topo:"required"`
	RabbitmqClusterReference ClusterReference      `yaml:"rabbitmqClusterReference" topo:"required"`
}

// TopicPermissionConfig is the exchange (required, may be "") and its
// write and read patterns.
type TopicPermissionConfig struct {
	Exchange string `yaml:"exchange" topo:"required"`
	Write    string `yaml:"write"`
	Read     string `yaml:"read"`
}

// Policy is a policy. PUT /api/policies/{vhost}/{name}
type Policy struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     PolicySpec `yaml:"spec"`
}

type PolicySpec struct {
	Name                     string           `yaml:"name" topo:"required"`
	Vhost                    string           `yaml:"vhost,omitempty"`
	Pattern                  string           `yaml:"pattern" topo:"required"`
	ApplyTo                  string           `yaml:"applyTo,omitempty" topo:"enum=queues|classic_queues|quorum_queues|streams|exchanges|all"`
	Priority                 *int64           `yaml:"priority,omitempty"`
	Definition               map[string]any   `yaml:"definition" topo:"required,free"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// OperatorPolicy is an operator policy (the parameter operator_policy).
// PUT /api/operator-policies/{vhost}/{name}
type OperatorPolicy struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta         `yaml:"metadata"`
	Spec     OperatorPolicySpec `yaml:"spec"`
}

type OperatorPolicySpec struct {
	Name                     string           `yaml:"name" topo:"required"`
	Vhost                    string           `yaml:"vhost,omitempty"`
	Pattern                  string           `yaml:"pattern" topo:"required"`
	ApplyTo                  string           `yaml:"applyTo,omitempty" topo:"enum=queues|classic_queues|quorum_queues|streams"`
	Priority                 *int64           `yaml:"priority,omitempty"`
	Definition               map[string]any   `yaml:"definition" topo:"required,free"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// Queue is a queue. PUT /api/queues/{vhost}/{name}
type Queue struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     QueueSpec  `yaml:"spec"`
}

type QueueSpec struct {
	Name       string `yaml:"name" topo:"required"`
	Vhost      string `yaml:"vhost,omitempty"`
	Type       string `yaml:"type,omitempty"`
	Durable    *bool  `yaml:"durable,omitempty"`
	AutoDelete bool   `yaml:"autoDelete,omitempty"`
	// Arguments is nil when absent; the operator tells absent from {}.
	Arguments                map[string]any   `yaml:"arguments,omitempty" topo:"free"`
	DeleteIfEmpty            bool             `yaml:"deleteIfEmpty,omitempty"`
	DeleteIfUnused           bool             `yaml:"deleteIfUnused,omitempty"`
	DeletionPolicy           string           `yaml:"deletionPolicy,omitempty" topo:"enum=delete|retain"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// Exchange is an exchange. Its durable defaults to false (a queue's to
// true): Encode always writes it. PUT /api/exchanges/{vhost}/{name}
type Exchange struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta   `yaml:"metadata"`
	Spec     ExchangeSpec `yaml:"spec"`
}

type ExchangeSpec struct {
	Name                     string           `yaml:"name" topo:"required"`
	Vhost                    string           `yaml:"vhost,omitempty"`
	Type                     string           `yaml:"type,omitempty"`
	Durable                  bool             `yaml:"durable"`
	AutoDelete               bool             `yaml:"autoDelete,omitempty"`
	Arguments                map[string]any   `yaml:"arguments,omitempty" topo:"free"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// Binding routes from an exchange to a queue or an exchange.
// POST /api/bindings/{vhost}/e/{source}/q|e/{destination}
type Binding struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta  `yaml:"metadata"`
	Spec     BindingSpec `yaml:"spec"`
}

type BindingSpec struct {
	Vhost                    string           `yaml:"vhost,omitempty"`
	Source                   string           `yaml:"source,omitempty"`
	Destination              string           `yaml:"destination,omitempty"`
	DestinationType          string           `yaml:"destinationType,omitempty" topo:"enum=exchange|queue"`
	RoutingKey               string           `yaml:"routingKey,omitempty"`
	Arguments                map[string]any   `yaml:"arguments,omitempty" topo:"free"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// Federation is a federation upstream (parameter federation-upstream). Its
// URIs are the key uri of the Secret uriSecret names.
// PUT /api/parameters/federation-upstream/{vhost}/{name}
type Federation struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta     `yaml:"metadata"`
	Spec     FederationSpec `yaml:"spec"`
}

type FederationSpec struct {
	Name           string     `yaml:"name" topo:"required"`
	Vhost          string     `yaml:"vhost,omitempty"`
	URISecret      *SecretRef `yaml:"uriSecret" topo:"required"`
	PrefetchCount  int64      `yaml:"prefetch-count,omitempty"`
	Expires        int64      `yaml:"expires,omitempty"`
	MessageTTL     int64      `yaml:"messageTTL,omitempty"`
	MaxHops        int64      `yaml:"maxHops,omitempty"`
	ReconnectDelay int64      `yaml:"reconnectDelay,omitempty"`
	AckMode        string     `yaml:"ackMode,omitempty" topo:"enum=on-confirm|on-publish|no-ack"`
	TrustUserID    bool       `yaml:"trustUserId,omitempty"`
	Exchange       string     `yaml:"exchange,omitempty"`
	Queue          string     `yaml:"queue,omitempty"`
	QueueType      string     `yaml:"queueType,omitempty" topo:"enum=classic|quorum"`
	// ResourceCleanupMode is default or never.
	ResourceCleanupMode      string           `yaml:"resourceCleanupMode,omitempty" topo:"enum=default|never"`
	DeletionPolicy           string           `yaml:"deletionPolicy,omitempty" topo:"enum=delete|retain"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// Shovel is a dynamic shovel (parameter shovel). Its URIs are the keys
// srcUri and destUri of the Secret uriSecret names.
// PUT /api/parameters/shovel/{vhost}/{name}
type Shovel struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta `yaml:"metadata"`
	Spec     ShovelSpec `yaml:"spec"`
}

type ShovelSpec struct {
	Name                      string           `yaml:"name" topo:"required"`
	Vhost                     string           `yaml:"vhost,omitempty"`
	URISecret                 *SecretRef       `yaml:"uriSecret" topo:"required"`
	AckMode                   string           `yaml:"ackMode,omitempty" topo:"enum=on-confirm|on-publish|no-ack"`
	AddForwardHeaders         bool             `yaml:"addForwardHeaders,omitempty"`
	DeleteAfter               string           `yaml:"deleteAfter,omitempty"`
	SrcDeleteAfter            string           `yaml:"srcDeleteAfter,omitempty"`
	PrefetchCount             int64            `yaml:"prefetchCount,omitempty"`
	SrcPrefetchCount          int64            `yaml:"srcPrefetchCount,omitempty"`
	ReconnectDelay            int64            `yaml:"reconnectDelay,omitempty"`
	SrcProtocol               string           `yaml:"srcProtocol,omitempty" topo:"enum=amqp091|amqp10"`
	DestProtocol              string           `yaml:"destProtocol,omitempty" topo:"enum=amqp091|amqp10"`
	SrcQueue                  string           `yaml:"srcQueue,omitempty"`
	SrcExchange               string           `yaml:"srcExchange,omitempty"`
	SrcExchangeKey            string           `yaml:"srcExchangeKey,omitempty"`
	SrcAddress                string           `yaml:"srcAddress,omitempty"`
	DestQueue                 string           `yaml:"destQueue,omitempty"`
	DestExchange              string           `yaml:"destExchange,omitempty"`
	DestExchangeKey           string           `yaml:"destExchangeKey,omitempty"`
	DestAddress               string           `yaml:"destAddress,omitempty"`
	DestAddForwardHeaders     bool             `yaml:"destAddForwardHeaders,omitempty"`
	DestAddTimestampHeader    bool             `yaml:"destAddTimestampHeader,omitempty"`
	SrcQueueArgs              map[string]any   `yaml:"srcQueueArgs,omitempty" topo:"free"`
	SrcConsumerArgs           map[string]any   `yaml:"srcConsumerArgs,omitempty" topo:"free"`
	DestQueueArgs             map[string]any   `yaml:"destQueueArgs,omitempty" topo:"free"`
	DestPublishProperties     map[string]any   `yaml:"destPublishProperties,omitempty" topo:"free"`
	DestApplicationProperties map[string]any   `yaml:"destApplicationProperties,omitempty" topo:"free"`
	DestProperties            map[string]any   `yaml:"destProperties,omitempty" topo:"free"`
	DestMessageAnnotations    map[string]any   `yaml:"destMessageAnnotations,omitempty" topo:"free"`
	DeletionPolicy            string           `yaml:"deletionPolicy,omitempty" topo:"enum=delete|retain"`
	RabbitmqClusterReference  ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// SchemaReplication is the global parameter schema_definition_sync_upstream.
// PUT /api/global-parameters/schema_definition_sync_upstream
type SchemaReplication struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta            `yaml:"metadata"`
	Spec     SchemaReplicationSpec `yaml:"spec"`
}

type SchemaReplicationSpec struct {
	UpstreamSecret           *SecretRef       `yaml:"upstreamSecret,omitempty"`
	Endpoints                string           `yaml:"endpoints,omitempty"`
	SecretBackend            *SecretBackend   `yaml:"secretBackend,omitempty"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// SecretBackend holds credentials in Vault instead of a Secret.
type SecretBackend struct {
	Vault *VaultSpec `yaml:"vault,omitempty"`
}

type VaultSpec struct {
	SecretPath string `yaml:"secretPath,omitempty"`
}

// SuperStream is an exchange with partitions streams bound to it; its
// RabbitMQ names come from metadata.name, not spec.name.
type SuperStream struct {
	TypeMeta `yaml:",inline"`
	Metadata ObjectMeta      `yaml:"metadata"`
	Spec     SuperStreamSpec `yaml:"spec"`
}

type SuperStreamSpec struct {
	Name                     string           `yaml:"name" topo:"required"`
	Vhost                    string           `yaml:"vhost,omitempty"`
	Partitions               *int64           `yaml:"partitions,omitempty"`
	RoutingKeys              []string         `yaml:"routingKeys,omitempty"`
	RabbitmqClusterReference ClusterReference `yaml:"rabbitmqClusterReference" topo:"required"`
}

// Secret is a v1 Secret. Values are read from data (base64) and stringData
// (plain; it wins for a key in both, as the API server merges them).
type Secret struct {
	TypeMeta   `yaml:",inline"`
	Metadata   ObjectMeta        `yaml:"metadata"`
	Type       string            `yaml:"type,omitempty"`
	Immutable  *bool             `yaml:"immutable,omitempty"`
	Data       map[string]string `yaml:"data,omitempty" topo:"base64"`
	StringData map[string]string `yaml:"stringData,omitempty"`
}

// SecretLabel is the label every Secret the operator reads must carry,
// with the value "true".
const SecretLabel = "rabbitmq.com/topology-operator"
