package boot

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/warren-tool/warren/definitions"
	"gopkg.in/yaml.v3"
)

// The keys of the Secret Kubernetes writes, where the official image
// reads conf.d fragments, and where the Bitnami chart mounts a
// loadDefinition.existingSecret (its statefulset template: the volume
// load-definition-volume at /app).
const (
	KubernetesDefinitionsKey = "definitions.json"
	KubernetesConfigKey      = "10-warren-definitions.conf"
	// ConfDir is where the official rabbitmq image's node reads conf.d
	// fragments (its RABBITMQ_CONFIG_FILES: the image creates the directory
	// and puts its own 10-defaults.conf there).
	ConfDir          = "/etc/rabbitmq/conf.d"
	BitnamiMountPath = "/app"
	// DefaultKubernetesMountPath is where the pods mount the Secret: a
	// directory of its own, beside /etc/rabbitmq/conf.d.
	DefaultKubernetesMountPath = "/etc/rabbitmq/warren"
	// DefaultImage is the official image the StatefulSet runs when
	// KubernetesOptions.Image is "".
	DefaultImage = "rabbitmq:4-management"
	// kubernetesVolume names the Secret's volume in the pod specs.
	kubernetesVolume = "warren-definitions"
)

// KubernetesOptions name the Secret, the cluster and where pods mount the
// Secret.
type KubernetesOptions struct {
	// Name of the Secret; "" means "warren-definitions".
	Name string
	// Namespace of every object; "" leaves it to kubectl's context.
	Namespace string
	// MountPath is the directory the pods mount the Secret at; "" means
	// DefaultKubernetesMountPath.
	MountPath string
	// Cluster names the RabbitmqCluster, and the StatefulSet and Service
	// of the official image; "" means "rabbitmq".
	Cluster string
	// Image is the RabbitMQ image: the StatefulSet's ("" means
	// DefaultImage) and the RabbitmqCluster's spec.image ("" leaves it to
	// the operator's default).
	Image string
}

// KubernetesOutput is what Kubernetes writes: YAML files, each starting
// with comments that say how to use it.
type KubernetesOutput struct {
	// Secret is a v1 Secret holding definitions.json and the conf.d
	// fragment (stringData), pointing at MountPath/definitions.json.
	Secret []byte
	// StatefulSet is, for the official rabbitmq image, a headless v1
	// Service and an apps/v1 StatefulSet of one node that mounts the
	// Secret's definitions at MountPath and its fragment in ConfDir.
	StatefulSet []byte
	// Cluster is a complete RabbitmqCluster (rabbitmq.com/v1beta1) for
	// RabbitMQ's cluster operator: spec.rabbitmq.additionalConfig with the
	// fragment's settings, and the spec.override that mounts the Secret
	// (the operator has no other way to add a volume).
	Cluster []byte
	// BitnamiValues are the Bitnami chart's values that load the Secret
	// (a legacy chart: its images moved to bitnamilegacy).
	BitnamiValues []byte
	// DefinitionsPath is where the node reads definitions.json, as the
	// configuration names it.
	DefinitionsPath string
	// Warnings are problems --force let through.
	Warnings []string
}

var (
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1035Label = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
)

func (k *KubernetesOptions) fill() error {
	if k.Name == "" {
		k.Name = "warren-definitions"
	}
	if k.MountPath == "" {
		k.MountPath = DefaultKubernetesMountPath
	}
	if k.Cluster == "" {
		k.Cluster = "rabbitmq"
	}
	if len(k.Name) > 253 || !dnsSubdomain.MatchString(k.Name) {
		return fmt.Errorf("%q is not a Secret name: lower-case letters, digits, '-' and '.', at most 253 characters", k.Name)
	}
	if k.Namespace != "" && (len(k.Namespace) > 63 || !dnsLabel.MatchString(k.Namespace)) {
		return fmt.Errorf("%q is not a namespace: lower-case letters, digits and '-', at most 63 characters", k.Namespace)
	}
	// The cluster's name is also a Service's (a DNS-1035 label), and its
	// StatefulSet's pods are named after it with a suffix ("-server-0").
	if len(k.Cluster) > 50 || !dns1035Label.MatchString(k.Cluster) {
		return fmt.Errorf("%q is not a cluster name: a lower-case letter, then lower-case letters, digits and '-', at most 50 characters", k.Cluster)
	}
	if strings.ContainsAny(k.Image, " \t\n\r") {
		return fmt.Errorf("%q is not an image reference", k.Image)
	}
	if !path.IsAbs(k.MountPath) || path.Clean(k.MountPath) != k.MountPath || strings.ContainsAny(k.MountPath, ":\n\r") {
		return fmt.Errorf("the mount path %q is not a clean absolute path", k.MountPath)
	}
	switch k.MountPath {
	case "/", "/etc", "/etc/rabbitmq", ConfDir, "/var/lib/rabbitmq", "/var/lib/rabbitmq/mnesia":
		return fmt.Errorf("mounting the Secret at %s would hide what the node needs there: use a directory of its own, such as %s", k.MountPath, DefaultKubernetesMountPath)
	}
	return nil
}

// Kubernetes is Files for Kubernetes: the same definitions and
// configuration, in a Secret, with what the official rabbitmq image,
// RabbitMQ's cluster operator and the Bitnami chart need to load it.
// opts' DefinitionsPath and HTTPS are set from k.
func Kubernetes(d *definitions.Document, opts Options, k KubernetesOptions) (*KubernetesOutput, error) {
	if err := k.fill(); err != nil {
		return nil, err
	}
	if opts.HTTPS != nil {
		return nil, fmt.Errorf("the Kubernetes output carries the definitions in a Secret; the https import backend fetches them from a server instead")
	}
	opts.DefinitionsPath = path.Join(k.MountPath, KubernetesDefinitionsKey)
	res, err := Files(d, opts)
	if err != nil {
		return nil, err
	}
	out := &KubernetesOutput{DefinitionsPath: opts.DefinitionsPath, Warnings: res.Warnings}
	labels := map[string]string{"app.kubernetes.io/managed-by": "warren"}

	secret := kubeSecret{APIVersion: "v1", Kind: "Secret", Type: "Opaque",
		Metadata:   kubeMeta{Name: k.Name, Namespace: k.Namespace, Labels: labels},
		StringData: map[string]string{KubernetesDefinitionsKey: string(res.Definitions), KubernetesConfigKey: res.Config}}
	if out.Secret, err = kubeYAML(fmt.Sprintf(
		"# Written by warren boot --format kubernetes. It holds password hashes: keep it out of git.\n"+
			"#   kubectl apply -f secret.yaml\n"+
			"# %s is the conf.d fragment: the node reads the definitions at\n"+
			"# %s, where statefulset.yaml and rabbitmqcluster.yaml mount them.\n"+
			"# The Bitnami chart (legacy) reads them at %s (bitnami-values.yaml).\n",
		KubernetesConfigKey, opts.DefinitionsPath, path.Join(BitnamiMountPath, KubernetesDefinitionsKey)), secret); err != nil {
		return nil, err
	}

	// The Secret's volume: the definitions where the fragment says, and
	// the fragment itself for the official image's conf.d.
	vol := volume{Name: kubernetesVolume, Secret: secretVolume{SecretName: k.Name,
		Items: []keyToPath{{Key: KubernetesDefinitionsKey, Path: KubernetesDefinitionsKey}}}}
	defsMount := volumeMount{Name: kubernetesVolume, MountPath: k.MountPath, ReadOnly: true}

	if out.StatefulSet, err = officialImage(k, labels, vol, defsMount); err != nil {
		return nil, err
	}

	cluster := rabbitmqCluster{APIVersion: "rabbitmq.com/v1beta1", Kind: "RabbitmqCluster",
		Metadata: kubeMeta{Name: k.Cluster, Namespace: k.Namespace, Labels: labels}}
	cluster.Spec.Replicas = 1
	cluster.Spec.Image = k.Image
	cluster.Spec.Rabbitmq.AdditionalConfig = configLines(res.Config)
	cluster.Spec.Override.StatefulSet.Spec.Template.Spec = podSpec{
		Containers: []container{{Name: "rabbitmq", VolumeMounts: []volumeMount{defsMount}}},
		Volumes:    []volume{vol},
	}
	if out.Cluster, err = kubeYAML(fmt.Sprintf(
		"# For RabbitMQ's cluster operator: a complete RabbitmqCluster, to apply as it is:\n"+
			"#   kubectl apply -f secret.yaml -f rabbitmqcluster.yaml\n"+
			"# additionalConfig makes the nodes import the definitions at boot; the override mounts the\n"+
			"# Secret's definitions.json at %s (the operator has no other way to add a volume).\n"+
			"# The nodes create no default user: log in as the files' administrator, not with the\n"+
			"# %s-default-user Secret.\n", k.MountPath, k.Cluster), cluster); err != nil {
		return nil, err
	}

	var values bitnamiValues
	values.LoadDefinition.Enabled = true
	values.LoadDefinition.ExistingSecret = k.Name
	values.LoadDefinition.File = path.Join(BitnamiMountPath, KubernetesDefinitionsKey)
	if out.BitnamiValues, err = kubeYAML(
		"# Legacy: for the Bitnami RabbitMQ chart, whose images moved to docker.io/bitnamilegacy (August 2025)\n"+
			"# and get no more updates; prefer statefulset.yaml (the official image) or rabbitmqcluster.yaml.\n"+
			"# The chart accepts the bitnamilegacy image only with allowInsecureImages:\n"+
			"#   helm install NAME oci://registry-1.docker.io/bitnamicharts/rabbitmq -f bitnami-values.yaml \\\n"+
			"#     --set image.repository=bitnamilegacy/rabbitmq --set global.security.allowInsecureImages=true\n"+
			"# The chart mounts the Secret at /app and adds load_definitions = loadDefinition.file to rabbitmq.conf.\n", values); err != nil {
		return nil, err
	}
	return out, nil
}

// officialImage is the official image's Service and StatefulSet: one node
// (more need peer discovery, which the cluster operator sets up), its data
// on a volume claim, the Secret's definitions at the mount path and its
// fragment in the image's conf.d, beside the image's own fragments.
func officialImage(k KubernetesOptions, labels map[string]string, vol volume, defsMount volumeMount) ([]byte, error) {
	image := k.Image
	if image == "" {
		image = DefaultImage
	}
	selector := map[string]string{"app.kubernetes.io/name": k.Cluster}
	podLabels := map[string]string{"app.kubernetes.io/name": k.Cluster, "app.kubernetes.io/managed-by": "warren"}
	ports := []servicePort{{Name: "amqp", Port: 5672}, {Name: "management", Port: 15672}}

	svc := kubeService{APIVersion: "v1", Kind: "Service",
		Metadata: kubeMeta{Name: k.Cluster, Namespace: k.Namespace, Labels: labels}}
	svc.Spec.ClusterIP = "None"
	svc.Spec.Selector = selector
	svc.Spec.Ports = ports

	vol.Secret.Items = append(vol.Secret.Items[:len(vol.Secret.Items):len(vol.Secret.Items)], keyToPath{Key: KubernetesConfigKey, Path: KubernetesConfigKey})
	sts := kubeStatefulSet{APIVersion: "apps/v1", Kind: "StatefulSet",
		Metadata: kubeMeta{Name: k.Cluster, Namespace: k.Namespace, Labels: labels}}
	sts.Spec.ServiceName = k.Cluster
	sts.Spec.Replicas = 1
	sts.Spec.Selector.MatchLabels = selector
	sts.Spec.Template.Metadata.Labels = podLabels
	c := podContainer{Name: "rabbitmq", Image: image,
		VolumeMounts: []volumeMount{
			{Name: "data", MountPath: "/var/lib/rabbitmq"},
			defsMount,
			{Name: kubernetesVolume, MountPath: path.Join(ConfDir, KubernetesConfigKey), SubPath: KubernetesConfigKey, ReadOnly: true},
		}}
	for _, p := range ports {
		c.Ports = append(c.Ports, containerPort{Name: p.Name, ContainerPort: p.Port})
	}
	c.ReadinessProbe.TCPSocket.Port = "amqp"
	sts.Spec.Template.Spec.Containers = []podContainer{c}
	sts.Spec.Template.Spec.Volumes = []volume{vol}
	claim := volumeClaim{Metadata: kubeMeta{Name: "data"}}
	claim.Spec.AccessModes = []string{"ReadWriteOnce"}
	claim.Spec.Resources.Requests.Storage = "10Gi"
	sts.Spec.VolumeClaimTemplates = []volumeClaim{claim}

	svcYAML, err := kubeYAML(fmt.Sprintf(
		"# For the official rabbitmq image: one node, its data on a volume claim, the Secret's definitions\n"+
			"# at %s and its conf.d fragment in %s (beside the image's own).\n"+
			"#   kubectl apply -f secret.yaml -f statefulset.yaml\n"+
			"# The node creates no guest user: log in as the files' administrator. For a cluster of\n"+
			"# several nodes, use RabbitMQ's cluster operator (rabbitmqcluster.yaml).\n",
		defsMount.MountPath, ConfDir), svc)
	if err != nil {
		return nil, err
	}
	stsYAML, err := kubeYAML("---\n", sts)
	if err != nil {
		return nil, err
	}
	return append(svcYAML, stsYAML...), nil
}

// configLines is the fragment without its comments, for additionalConfig.
func configLines(conf string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(conf, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func kubeYAML(header string, v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// The Kubernetes objects, as much of them as warren writes, under their
// API field names (k8s.io/api's core/v1 and apps/v1, the operator's
// RabbitmqCluster in rabbitmq/cluster-operator's api/v1beta1); the tests
// decode the output into the API's own types.
type kubeMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

type kubeSecret struct {
	APIVersion string            `yaml:"apiVersion"`
	Kind       string            `yaml:"kind"`
	Metadata   kubeMeta          `yaml:"metadata"`
	Type       string            `yaml:"type"`
	StringData map[string]string `yaml:"stringData"`
}

type kubeService struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   kubeMeta `yaml:"metadata"`
	Spec       struct {
		ClusterIP string            `yaml:"clusterIP"`
		Selector  map[string]string `yaml:"selector"`
		Ports     []servicePort     `yaml:"ports"`
	} `yaml:"spec"`
}

type servicePort struct {
	Name string `yaml:"name"`
	Port int    `yaml:"port"`
}

type kubeStatefulSet struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   kubeMeta `yaml:"metadata"`
	Spec       struct {
		ServiceName string `yaml:"serviceName"`
		Replicas    int    `yaml:"replicas"`
		Selector    struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []podContainer `yaml:"containers"`
				Volumes    []volume       `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []volumeClaim `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

type podContainer struct {
	Name           string          `yaml:"name"`
	Image          string          `yaml:"image"`
	Ports          []containerPort `yaml:"ports"`
	ReadinessProbe struct {
		TCPSocket struct {
			Port string `yaml:"port"`
		} `yaml:"tcpSocket"`
	} `yaml:"readinessProbe"`
	VolumeMounts []volumeMount `yaml:"volumeMounts"`
}

type containerPort struct {
	Name          string `yaml:"name"`
	ContainerPort int    `yaml:"containerPort"`
}

type volumeClaim struct {
	Metadata kubeMeta `yaml:"metadata"`
	Spec     struct {
		AccessModes []string `yaml:"accessModes"`
		Resources   struct {
			Requests struct {
				Storage string `yaml:"storage"`
			} `yaml:"requests"`
		} `yaml:"resources"`
	} `yaml:"spec"`
}

type rabbitmqCluster struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   kubeMeta `yaml:"metadata"`
	Spec       struct {
		Replicas int    `yaml:"replicas"`
		Image    string `yaml:"image,omitempty"`
		Rabbitmq struct {
			AdditionalConfig string `yaml:"additionalConfig"`
		} `yaml:"rabbitmq"`
		Override struct {
			StatefulSet struct {
				Spec struct {
					Template struct {
						Spec podSpec `yaml:"spec"`
					} `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"statefulSet"`
		} `yaml:"override"`
	} `yaml:"spec"`
}

type podSpec struct {
	Containers []container `yaml:"containers"`
	Volumes    []volume    `yaml:"volumes"`
}

type container struct {
	Name         string        `yaml:"name"`
	VolumeMounts []volumeMount `yaml:"volumeMounts"`
}

type volumeMount struct {
	Name      string `yaml:"name"`
	MountPath string `yaml:"mountPath"`
	SubPath   string `yaml:"subPath,omitempty"`
	ReadOnly  bool   `yaml:"readOnly,omitempty"`
}

type volume struct {
	Name   string       `yaml:"name"`
	Secret secretVolume `yaml:"secret"`
}

type secretVolume struct {
	SecretName string      `yaml:"secretName"`
	Items      []keyToPath `yaml:"items"`
}

type keyToPath struct {
	Key  string `yaml:"key"`
	Path string `yaml:"path"`
}

type bitnamiValues struct {
	LoadDefinition struct {
		Enabled        bool   `yaml:"enabled"`
		ExistingSecret string `yaml:"existingSecret"`
		File           string `yaml:"file"`
	} `yaml:"loadDefinition"`
}
