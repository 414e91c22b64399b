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

// The keys of the Secret Kubernetes writes, and where the Bitnami chart
// mounts a loadDefinition.existingSecret (its statefulset template: the
// volume load-definition-volume at /app).
const (
	KubernetesDefinitionsKey = "definitions.json"
	KubernetesConfigKey      = "10-warren-definitions.conf"
	BitnamiMountPath         = "/app"
	// DefaultKubernetesMountPath is where the RabbitmqCluster override
	// mounts the Secret: a directory of its own, beside the operator's
	// /etc/rabbitmq/conf.d.
	DefaultKubernetesMountPath = "/etc/rabbitmq/warren"
	// kubernetesVolume names the volume in the RabbitmqCluster override.
	kubernetesVolume = "warren-definitions"
)

// KubernetesOptions name the Secret and where pods mount it.
type KubernetesOptions struct {
	// Name of the Secret; "" means "warren-definitions".
	Name string
	// Namespace of the Secret; "" leaves it to kubectl's context.
	Namespace string
	// MountPath is the directory the RabbitmqCluster override mounts the
	// Secret at; "" means DefaultKubernetesMountPath.
	MountPath string
}

// KubernetesOutput is what Kubernetes writes: three YAML documents,
// each starting with comments that say how to use it.
type KubernetesOutput struct {
	// Secret is a v1 Secret holding definitions.json and the conf.d
	// fragment (stringData), pointing at MountPath/definitions.json.
	Secret []byte
	// ClusterPatch is a RabbitmqCluster (rabbitmq.com/v1beta1) fragment
	// for RabbitMQ's cluster operator: spec.rabbitmq.additionalConfig with
	// the fragment, and a spec.override that mounts the Secret.
	ClusterPatch []byte
	// BitnamiValues are the Bitnami chart's values that load the Secret.
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
)

func (k *KubernetesOptions) fill() error {
	if k.Name == "" {
		k.Name = "warren-definitions"
	}
	if k.MountPath == "" {
		k.MountPath = DefaultKubernetesMountPath
	}
	if len(k.Name) > 253 || !dnsSubdomain.MatchString(k.Name) {
		return fmt.Errorf("%q is not a Secret name: lower-case letters, digits, '-' and '.', at most 253 characters", k.Name)
	}
	if k.Namespace != "" && (len(k.Namespace) > 63 || !dnsLabel.MatchString(k.Namespace)) {
		return fmt.Errorf("%q is not a namespace: lower-case letters, digits and '-', at most 63 characters", k.Namespace)
	}
	if !path.IsAbs(k.MountPath) || path.Clean(k.MountPath) != k.MountPath || strings.ContainsAny(k.MountPath, ":\n\r") {
		return fmt.Errorf("the mount path %q is not a clean absolute path", k.MountPath)
	}
	switch k.MountPath {
	case "/", "/etc", "/etc/rabbitmq", "/etc/rabbitmq/conf.d", "/var/lib/rabbitmq", "/var/lib/rabbitmq/mnesia":
		return fmt.Errorf("mounting the Secret at %s would hide what the node needs there: use a directory of its own, such as %s", k.MountPath, DefaultKubernetesMountPath)
	}
	return nil
}

// Kubernetes is Files for Kubernetes: the same definitions and
// configuration, in a Secret that RabbitMQ's cluster operator and the
// Bitnami chart mount, with what each needs to load it. opts'
// DefinitionsPath and HTTPS are set from k.
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

	secret := kubeSecret{APIVersion: "v1", Kind: "Secret", Type: "Opaque",
		Metadata:   kubeMeta{Name: k.Name, Namespace: k.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "warren"}},
		StringData: map[string]string{KubernetesDefinitionsKey: string(res.Definitions), KubernetesConfigKey: res.Config}}
	if out.Secret, err = kubeYAML(fmt.Sprintf(
		"# Written by warren boot --format kubernetes. It holds password hashes: keep it out of git.\n"+
			"#   kubectl apply -f secret.yaml\n"+
			"# %s is the conf.d fragment: the node reads the definitions at\n"+
			"# %s, where rabbitmqcluster-patch.yaml mounts them.\n"+
			"# The Bitnami chart reads them at %s (bitnami-values.yaml).\n",
		KubernetesConfigKey, opts.DefinitionsPath, path.Join(BitnamiMountPath, KubernetesDefinitionsKey)), secret); err != nil {
		return nil, err
	}

	patch := clusterPatch{APIVersion: "rabbitmq.com/v1beta1", Kind: "RabbitmqCluster"}
	patch.Spec.Rabbitmq.AdditionalConfig = configLines(res.Config)
	patch.Spec.Override.StatefulSet.Spec.Template.Spec = podSpec{
		Containers: []container{{Name: "rabbitmq", VolumeMounts: []volumeMount{{Name: kubernetesVolume, MountPath: k.MountPath, ReadOnly: true}}}},
		Volumes: []volume{{Name: kubernetesVolume, Secret: secretVolume{SecretName: k.Name,
			Items: []keyToPath{{Key: KubernetesDefinitionsKey, Path: KubernetesDefinitionsKey}}}}},
	}
	if out.ClusterPatch, err = kubeYAML(
		"# For RabbitMQ's cluster operator: merge this into your RabbitmqCluster, or patch it:\n"+
			"#   kubectl patch rabbitmqcluster NAME --type merge --patch-file rabbitmqcluster-patch.yaml\n"+
			"# A merge patch replaces additionalConfig and the override's lists whole: when yours hold\n"+
			"# anything, merge them by hand.\n", patch); err != nil {
		return nil, err
	}

	var values bitnamiValues
	values.LoadDefinition.Enabled = true
	values.LoadDefinition.ExistingSecret = k.Name
	values.LoadDefinition.File = path.Join(BitnamiMountPath, KubernetesDefinitionsKey)
	if out.BitnamiValues, err = kubeYAML(
		"# For the Bitnami RabbitMQ chart: helm install NAME oci://registry-1.docker.io/bitnamicharts/rabbitmq -f bitnami-values.yaml\n"+
			"# The chart mounts the Secret at /app and adds load_definitions = loadDefinition.file to rabbitmq.conf.\n", values); err != nil {
		return nil, err
	}
	return out, nil
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
// API field names (k8s.io/api/core/v1, the operator's RabbitmqCluster);
// the tests decode the output into the API's own types.
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

type clusterPatch struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
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
	ReadOnly  bool   `yaml:"readOnly"`
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
