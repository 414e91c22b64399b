package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/warren-tool/warren/definitions"
)

// TestExampleKubernetesJob checks examples/k8s-job/job.yaml: its documents
// decode strictly into the Kubernetes API's types; the Job runs warren apply
// --yes --wait on the mounted ConfigMap; every variable warren and the
// definitions read is set, from a Secret when it is a password; and the
// definitions, laid out as a ConfigMap volume lays them out (symbolic links
// into a ..data directory), validate with --strict.
func TestExampleKubernetesJob(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(examplesDir(t), "k8s-job", "job.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(data), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("job.yaml has %d documents, want a ConfigMap and a Job", len(docs))
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &cm); err != nil || cm.Kind != "ConfigMap" || cm.APIVersion != "v1" {
		t.Fatalf("the ConfigMap: %v (%s %s)", err, cm.APIVersion, cm.Kind)
	}
	var job batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &job); err != nil || job.Kind != "Job" || job.APIVersion != "batch/v1" {
		t.Fatalf("the Job: %v (%s %s)", err, job.APIVersion, job.Kind)
	}
	pod := job.Spec.Template.Spec
	if len(pod.Containers) != 1 || len(pod.Volumes) != 1 || pod.Volumes[0].ConfigMap == nil || pod.Volumes[0].ConfigMap.Name != cm.Name {
		t.Fatalf("the Job's pod: %+v", pod)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever && pod.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("a Job's restartPolicy is Never or OnFailure, not %q", pod.RestartPolicy)
	}
	c := pod.Containers[0]
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != pod.Volumes[0].Name {
		t.Fatalf("the container's mounts: %+v", c.VolumeMounts)
	}
	mount := c.VolumeMounts[0].MountPath
	args := c.Args
	if len(args) < 2 || args[0] != "apply" || !slices.Contains(args, "--yes") || !slices.Contains(args, "--wait") || args[len(args)-1] != mount {
		t.Errorf("the Job runs warren %v: want apply --yes --wait … %s", args, mount)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	fromSecret := func(name string) bool {
		e, ok := env[name]
		return ok && e.Value == "" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
	}
	if env["WARREN_URL"].Value == "" || !fromSecret("WARREN_USERNAME") || !fromSecret("WARREN_PASSWORD") {
		t.Errorf("the Job must set WARREN_URL, and WARREN_USERNAME and WARREN_PASSWORD from a Secret: %+v", c.Env)
	}

	// The ConfigMap's files as the pod sees them.
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "..2026_01_01_00_00_00.000000001")
	os.Mkdir(dataDir, 0o755)
	os.Symlink(filepath.Base(dataDir), filepath.Join(dir, "..data"))
	for name, content := range cm.Data {
		os.WriteFile(filepath.Join(dataDir, name), []byte(content), 0o644)
		os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name))
	}
	doc, diags := definitions.Load([]string{dir}, definitions.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	for _, u := range doc.Users {
		if u.Password == nil || u.Password.Env == "" {
			t.Errorf("user %q: give its password as {env: NAME}, set from a Secret in the Job", u.Name)
			continue
		}
		if !fromSecret(u.Password.Env) {
			t.Errorf("user %q reads %s, which the Job does not set from a Secret", u.Name, u.Password.Env)
		}
		t.Setenv(u.Password.Env, "a-password-for-the-test")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"warren", "validate", "--strict", dir}, nil, &stdout, &stderr); code != exitOK {
		t.Errorf("the ConfigMap's definitions: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}
