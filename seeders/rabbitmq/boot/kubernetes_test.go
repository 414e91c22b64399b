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
// (rabbitmq.com/v1beta1) that warren writes: its override's statefulSet
// spec is the apps/v1 one, decoded by the Kubernetes API's own types.
type rabbitmqCluster struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
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

// TestBootKubernetes decodes the output into the Kubernetes API's types
// (strictly: an unknown or misspelt field fails), checks that the paths
// line up (what the configuration reads is where the Secret is mounted,
// under the key that holds the definitions), and boots a real node the way
// the operator's pod would see the Secret.
func TestBootKubernetes(t *testing.T) {
	doc := parse(t, "defs.yaml", []byte(kubeDefs))
	out, err := boot.Kubernetes(doc, boot.Options{},
		boot.KubernetesOptions{Name: "orders-definitions", Namespace: "mq", MountPath: "/etc/rabbitmq/defs"})
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

	var cluster rabbitmqCluster
	if err := yaml.UnmarshalStrict(out.ClusterPatch, &cluster); err != nil {
		t.Fatalf("the RabbitmqCluster patch does not decode: %v\n%s", err, out.ClusterPatch)
	}
	if cluster.APIVersion != "rabbitmq.com/v1beta1" || cluster.Kind != "RabbitmqCluster" {
		t.Errorf("patch header: %s %s", cluster.APIVersion, cluster.Kind)
	}
	pod := cluster.Spec.Override.StatefulSet.Spec.Template.Spec
	if len(pod.Containers) != 1 || pod.Containers[0].Name != "rabbitmq" || len(pod.Containers[0].VolumeMounts) != 1 || len(pod.Volumes) != 1 {
		t.Fatalf("override: %+v", pod)
	}
	mount, vol := pod.Containers[0].VolumeMounts[0], pod.Volumes[0]
	if mount.Name != vol.Name || vol.Secret == nil || vol.Secret.SecretName != secret.Name || !mount.ReadOnly || mount.SubPath != "" {
		t.Errorf("the override does not mount the Secret: mount %+v, volume %+v", mount, vol)
	}
	if len(vol.Secret.Items) != 1 || vol.Secret.Items[0].Key != boot.KubernetesDefinitionsKey {
		t.Fatalf("the volume's items: %+v", vol.Secret.Items)
	}
	// The file the node reads: the mount path and the item's path.
	readsAt := confValue(cluster.Spec.Rabbitmq.AdditionalConfig, "definitions.local.path")
	if mounted := path.Join(mount.MountPath, vol.Secret.Items[0].Path); readsAt != mounted {
		t.Errorf("additionalConfig reads %q, the Secret's definitions are mounted at %q", readsAt, mounted)
	}
	if confValue(cluster.Spec.Rabbitmq.AdditionalConfig, "definitions.import_backend") != "local_filesystem" || confValue(cluster.Spec.Rabbitmq.AdditionalConfig, "definitions.skip_if_unchanged") != "true" {
		t.Errorf("additionalConfig:\n%s", cluster.Spec.Rabbitmq.AdditionalConfig)
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

	// Refusals: names Kubernetes would refuse, mount paths that would hide
	// the node's own configuration or data.
	for _, k := range []boot.KubernetesOptions{{Name: "Upper_Case"}, {Namespace: "a.b"}, {MountPath: "/etc/rabbitmq"}, {MountPath: "relative/dir"}, {MountPath: "/etc/rabbitmq/conf.d"}} {
		if _, err := boot.Kubernetes(doc, boot.Options{}, k); err == nil {
			t.Errorf("%+v accepted", k)
		}
	}

	// A real node, configured as the operator configures it (the
	// additionalConfig lines) and with the Secret's item where the pod
	// would see it, boots with the files' users and no guest.
	if err := rabbitmqtest.Available(); err != nil {
		rabbitmqtest.Unavailable(t, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "definitions.json"), []byte(defs), 0o600); err != nil {
		t.Fatal(err)
	}
	// The node's directory stands for the pod's root: the mount path
	// becomes {{dir}}/etc/rabbitmq/defs.
	var config []string
	for _, l := range strings.Split(strings.TrimSpace(cluster.Spec.Rabbitmq.AdditionalConfig), "\n") {
		config = append(config, strings.Replace(l, "= /", "= {{dir}}/", 1))
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Config: config, NoAdmin: true,
		Files: map[string]string{strings.TrimPrefix(readsAt, "/"): filepath.Join(dir, "definitions.json")}})
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
	if err := n.Call(ctx, "guest", "guest", "GET", "/api/whoami", nil, nil); err == nil {
		t.Errorf("on RabbitMQ %s, a node booted from the Secret has a guest user", n.Version)
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
