package boot_test

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/seeders/rabbitmq/boot"
	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

const kubeDefs = `users:
  - {name: ops, password: opspass-1, tags: [administrator]}
  - {name: app, password: apppass-1, tags: []}
vhosts:
  - {name: orders, default_queue_type: quorum}
permissions:
  - {user: app, vhost: orders, configure: ".*", write: ".*", read: ".*"}
  - {user: ops, vhost: orders, configure: ".*", write: ".*", read: ".*"}
queues:
  - {name: q, vhost: orders}
`

// rabbitmqCluster is the part of the operator's RabbitmqCluster
// (rabbitmq.com/v1beta1, rabbitmq/cluster-operator's api/v1beta1) that
// warren writes, under the operator's JSON names: its override's
// statefulSet spec is the apps/v1 one, decoded by the Kubernetes API's
// own types.
type rabbitmqCluster struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Replicas *int32 `json:"replicas"`
		Image    string `json:"image"`
		Rabbitmq struct {
			AdditionalConfig string `json:"additionalConfig"`
		} `json:"rabbitmq"`
		Override struct {
			StatefulSet struct {
				Spec appsv1.StatefulSetSpec `json:"spec"`
			} `json:"statefulSet"`
		} `json:"override"`
	} `json:"spec"`
}

// bitnamiValues are the Bitnami chart's values warren writes (its
// values.yaml: loadDefinition.enabled, .existingSecret, .file).
type bitnamiValues struct {
	LoadDefinition struct {
		Enabled        bool   `json:"enabled"`
		ExistingSecret string `json:"existingSecret"`
		File           string `json:"file"`
	} `json:"loadDefinition"`
}

// confValue returns the value of key in a rabbitmq.conf text.
func confValue(conf, key string) string {
	for _, l := range strings.Split(conf, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// secretKeyAt says which key of the Secret named secret the container
// rabbitmq of pod sees at file p, through a volume mount of the whole
// volume or of one subPath; "" when none.
func secretKeyAt(pod corev1.PodSpec, secret, p string) string {
	for _, c := range pod.Containers {
		if c.Name != "rabbitmq" {
			continue
		}
		for _, m := range c.VolumeMounts {
			var rel string
			switch {
			case m.SubPath != "" && p == m.MountPath:
				rel = m.SubPath
			case m.SubPath == "" && strings.HasPrefix(p, m.MountPath+"/"):
				rel = strings.TrimPrefix(p, m.MountPath+"/")
			default:
				continue
			}
			for _, v := range pod.Volumes {
				if v.Name != m.Name || v.Secret == nil || v.Secret.SecretName != secret {
					continue
				}
				for _, it := range v.Secret.Items {
					if it.Path == rel {
						return it.Key
					}
				}
			}
		}
	}
	return ""
}

// splitYAML splits a file of several YAML documents.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range strings.Split(string(data), "\n---\n") {
		docs = append(docs, []byte(d))
	}
	return docs
}

// TestBootKubernetes decodes the output into the Kubernetes API's types
// (strictly: an unknown or misspelt field fails) and checks that the paths
// line up: what each configuration reads is the Secret's key mounted there.
func TestBootKubernetes(t *testing.T) {
	doc := parse(t, "defs.yaml", []byte(kubeDefs))
	out, err := boot.Kubernetes(doc, boot.Options{},
		boot.KubernetesOptions{Name: "orders-definitions", Namespace: "mq", MountPath: "/etc/rabbitmq/defs", Cluster: "orders-mq"})
	if err != nil {
		t.Fatal(err)
	}

	var secret corev1.Secret
	if err := yaml.UnmarshalStrict(out.Secret, &secret); err != nil {
		t.Fatalf("the Secret does not decode as a v1 Secret: %v\n%s", err, out.Secret)
	}
	if secret.APIVersion != "v1" || secret.Kind != "Secret" || secret.Name != "orders-definitions" || secret.Namespace != "mq" || secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("Secret header: %s %s %s/%s %s", secret.APIVersion, secret.Kind, secret.Namespace, secret.Name, secret.Type)
	}
	if len(secret.StringData) != 2 {
		t.Errorf("Secret keys: %v", secret.StringData)
	}
	defs := secret.StringData[boot.KubernetesDefinitionsKey]
	var parsed map[string]any
	if err := json.Unmarshal([]byte(defs), &parsed); err != nil {
		t.Fatalf("definitions.json in the Secret: %v", err)
	}
	if strings.Contains(defs, "opspass-1") || !strings.Contains(defs, "password_hash") {
		t.Error("the Secret's definitions carry a password instead of its hash")
	}
	conf := secret.StringData[boot.KubernetesConfigKey]
	if got := confValue(conf, "definitions.local.path"); got != "/etc/rabbitmq/defs/definitions.json" || got != out.DefinitionsPath {
		t.Errorf("the fragment reads %q", got)
	}

	// The official image: a headless Service and a StatefulSet whose pod
	// has the fragment in conf.d and the definitions where it says.
	docs := splitYAML(out.StatefulSet)
	if len(docs) != 2 {
		t.Fatalf("statefulset.yaml has %d documents, want a Service and a StatefulSet", len(docs))
	}
	var svc corev1.Service
	var sts appsv1.StatefulSet
	if err := yaml.UnmarshalStrict(docs[0], &svc); err != nil {
		t.Fatalf("the Service does not decode: %v\n%s", err, docs[0])
	}
	if err := yaml.UnmarshalStrict(docs[1], &sts); err != nil {
		t.Fatalf("the StatefulSet does not decode: %v\n%s", err, docs[1])
	}
	if svc.APIVersion != "v1" || svc.Kind != "Service" || svc.Name != "orders-mq" || svc.Namespace != "mq" || svc.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("Service: %s %s %s/%s clusterIP %q", svc.APIVersion, svc.Kind, svc.Namespace, svc.Name, svc.Spec.ClusterIP)
	}
	if sts.APIVersion != "apps/v1" || sts.Kind != "StatefulSet" || sts.Name != "orders-mq" || sts.Namespace != "mq" || sts.Spec.ServiceName != svc.Name ||
		sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 {
		t.Errorf("StatefulSet: %s %s %s/%s service %q replicas %v", sts.APIVersion, sts.Kind, sts.Namespace, sts.Name, sts.Spec.ServiceName, sts.Spec.Replicas)
	}
	podLabels := sts.Spec.Template.Labels
	for k, v := range sts.Spec.Selector.MatchLabels {
		if podLabels[k] != v || svc.Spec.Selector[k] != v {
			t.Errorf("the selectors %v and %v do not select the pod's labels %v", sts.Spec.Selector.MatchLabels, svc.Spec.Selector, podLabels)
		}
	}
	if len(sts.Spec.Selector.MatchLabels) == 0 || len(svc.Spec.Selector) != len(sts.Spec.Selector.MatchLabels) {
		t.Errorf("selectors: StatefulSet %v, Service %v", sts.Spec.Selector.MatchLabels, svc.Spec.Selector)
	}
	pod := sts.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.Containers[0].Image != boot.DefaultImage {
		t.Fatalf("containers: %+v", pod.Containers)
	}
	var data bool
	for _, m := range pod.Containers[0].VolumeMounts {
		data = data || m.Name == "data" && m.MountPath == "/var/lib/rabbitmq"
		if m.Name != "data" && !m.ReadOnly {
			t.Errorf("the Secret is mounted writable: %+v", m)
		}
	}
	if !data || len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Name != "data" {
		t.Errorf("the node's data is not on the volume claim: %+v", sts.Spec.VolumeClaimTemplates)
	}
	confd := path.Join(boot.ConfDir, boot.KubernetesConfigKey)
	if key := secretKeyAt(pod, secret.Name, confd); key != boot.KubernetesConfigKey {
		t.Errorf("the official image's pod sees %q at %s, want the fragment", key, confd)
	}
	if key := secretKeyAt(pod, secret.Name, out.DefinitionsPath); key != boot.KubernetesDefinitionsKey {
		t.Errorf("the official image's pod sees %q at %s, want the definitions", key, out.DefinitionsPath)
	}

	// The cluster operator: a complete RabbitmqCluster.
	var cluster rabbitmqCluster
	if err := yaml.UnmarshalStrict(out.Cluster, &cluster); err != nil {
		t.Fatalf("the RabbitmqCluster does not decode: %v\n%s", err, out.Cluster)
	}
	if cluster.APIVersion != "rabbitmq.com/v1beta1" || cluster.Kind != "RabbitmqCluster" || cluster.Metadata.Name != "orders-mq" || cluster.Metadata.Namespace != "mq" ||
		cluster.Spec.Replicas == nil || *cluster.Spec.Replicas != 1 || cluster.Spec.Image != "" {
		t.Errorf("RabbitmqCluster: %s %s %s/%s replicas %v image %q", cluster.APIVersion, cluster.Kind, cluster.Metadata.Namespace, cluster.Metadata.Name, cluster.Spec.Replicas, cluster.Spec.Image)
	}
	readsAt := confValue(cluster.Spec.Rabbitmq.AdditionalConfig, "definitions.local.path")
	if key := secretKeyAt(cluster.Spec.Override.StatefulSet.Spec.Template.Spec, secret.Name, readsAt); readsAt != out.DefinitionsPath || key != boot.KubernetesDefinitionsKey {
		t.Errorf("additionalConfig reads %q, where the override mounts %q", readsAt, key)
	}
	if confValue(cluster.Spec.Rabbitmq.AdditionalConfig, "definitions.import_backend") != "local_filesystem" || confValue(cluster.Spec.Rabbitmq.AdditionalConfig, "definitions.skip_if_unchanged") != "true" {
		t.Errorf("additionalConfig:\n%s", cluster.Spec.Rabbitmq.AdditionalConfig)
	}
	for _, c := range cluster.Spec.Override.StatefulSet.Spec.Template.Spec.Containers {
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(m.MountPath, boot.ConfDir) {
				t.Errorf("the override mounts into the operator's conf.d: %+v", m)
			}
		}
	}

	var values bitnamiValues
	if err := yaml.UnmarshalStrict(out.BitnamiValues, &values); err != nil {
		t.Fatalf("the Bitnami values do not decode: %v\n%s", err, out.BitnamiValues)
	}
	// The chart mounts the whole Secret at /app: the file is /app/<key>.
	if !values.LoadDefinition.Enabled || values.LoadDefinition.ExistingSecret != secret.Name ||
		values.LoadDefinition.File != path.Join(boot.BitnamiMountPath, boot.KubernetesDefinitionsKey) {
		t.Errorf("Bitnami values: %+v", values)
	}
	if !strings.Contains(string(out.BitnamiValues), "bitnamilegacy/rabbitmq") {
		t.Error("the Bitnami values do not say where the chart's image went")
	}

	// --image goes into both; names Kubernetes would refuse, mount paths
	// that would hide the node's own configuration or data are refused.
	img, err := boot.Kubernetes(doc, boot.Options{}, boot.KubernetesOptions{Image: "rabbitmq:4.1.4-management"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(img.StatefulSet), "\n          image: rabbitmq:4.1.4-management\n") || !strings.Contains(string(img.Cluster), "\n  image: rabbitmq:4.1.4-management\n") {
		t.Errorf("--image:\n%s\n%s", img.StatefulSet, img.Cluster)
	}
	for _, k := range []boot.KubernetesOptions{{Name: "Upper_Case"}, {Namespace: "a.b"}, {Cluster: "1abc"}, {Cluster: "a.b"}, {Image: "rabbitmq:4\nkind: x"},
		{MountPath: "/etc/rabbitmq"}, {MountPath: "relative/dir"}, {MountPath: "/etc/rabbitmq/conf.d"}} {
		if _, err := boot.Kubernetes(doc, boot.Options{}, k); err == nil {
			t.Errorf("%+v accepted", k)
		}
	}
}

// TestBootKubernetesNode boots real nodes the way each pod would see the
// Secret: the official image reads the fragment from its conf.d, the
// operator's pod reads additionalConfig from its conf.d; both read the
// definitions where the Secret is mounted. Each comes up with the files'
// users, the administrator can log in, and there is no guest.
func TestBootKubernetesNode(t *testing.T) {
	doc := parse(t, "defs.yaml", []byte(kubeDefs))
	out, err := boot.Kubernetes(doc, boot.Options{}, boot.KubernetesOptions{MountPath: "/etc/rabbitmq/defs"})
	if err != nil {
		t.Fatal(err)
	}
	var secret corev1.Secret
	var sts appsv1.StatefulSet
	var cluster rabbitmqCluster
	if err := yaml.UnmarshalStrict(out.Secret, &secret); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(splitYAML(out.StatefulSet)[1], &sts); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(out.Cluster, &cluster); err != nil {
		t.Fatal(err)
	}
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	for _, tc := range []struct {
		name, confd, conf string // the conf.d file and its text
		pod               corev1.PodSpec
	}{
		{"official image", boot.KubernetesConfigKey,
			secret.StringData[secretKeyAt(sts.Spec.Template.Spec, secret.Name, path.Join(boot.ConfDir, boot.KubernetesConfigKey))], sts.Spec.Template.Spec},
		// The operator writes additionalConfig to this conf.d file.
		{"cluster operator", "90-userDefinedConfiguration.conf", cluster.Spec.Rabbitmq.AdditionalConfig, cluster.Spec.Override.StatefulSet.Spec.Template.Spec},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readsAt := confValue(tc.conf, "definitions.local.path")
			key := secretKeyAt(tc.pod, secret.Name, readsAt)
			if readsAt == "" || key == "" {
				t.Fatalf("the pod sees no key of the Secret at %q, the path its conf.d file reads:\n%s", readsAt, tc.conf)
			}
			file := filepath.Join(t.TempDir(), "definitions.json")
			if err := os.WriteFile(file, []byte(secret.StringData[key]), 0o600); err != nil {
				t.Fatal(err)
			}
			// The node's directory stands for the pod's root: the mount
			// path becomes {{dir}}/etc/rabbitmq/defs.
			n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{NoAdmin: true,
				ConfD: map[string]string{tc.confd: strings.ReplaceAll(tc.conf, "= /", "= {{dir}}/")},
				Files: map[string]string{strings.TrimPrefix(readsAt, "/"): file}})
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop()
			ctx := context.Background()
			var perms []map[string]any
			for range 300 {
				perms = nil
				if n.Call(ctx, "ops", "opspass-1", "GET", "/api/permissions", nil, &perms) == nil && len(perms) == 2 {
					break
				}
				sleepShort()
			}
			if len(perms) != 2 {
				t.Fatalf("on RabbitMQ %s, the node booted from the Secret has permissions %v", n.Version, perms)
			}
			var me struct{ Name, Tags any }
			if err := n.Call(ctx, "ops", "opspass-1", "GET", "/api/whoami", nil, &me); err != nil || me.Name != "ops" {
				t.Errorf("on RabbitMQ %s, the files' administrator: %v %v", n.Version, me, err)
			}
			var users []struct{ Name string }
			n.Call(ctx, "ops", "opspass-1", "GET", "/api/users", nil, &users)
			if len(users) != 2 {
				t.Errorf("on RabbitMQ %s, users %v, want the files' two", n.Version, users)
			}
			if err := n.Call(ctx, "guest", "guest", "GET", "/api/whoami", nil, nil); err == nil {
				t.Errorf("on RabbitMQ %s, a node booted from the Secret has a guest user", n.Version)
			}
		})
	}
}

func parse(t *testing.T, name string, data []byte) *definitions.Document {
	t.Helper()
	doc, diags := definitions.Parse(name, data)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return doc
}

func sleepShort() { time.Sleep(100 * time.Millisecond) }
