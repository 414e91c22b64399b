package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// A URI with credentials given as {env} in the files: applied resolved,
// compared resolved, never shown (text, markdown, JSON, saved plan), and an
// export holding it is written 0600.
func TestParameterURIFromEnvironment(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	defs := writeTemp(t, "defs.yaml", "global_parameters:\n  - {name: upstream-x, value: {uri: {env: UP_URI}, expires: 1000}}\n")
	t.Setenv("UP_URI", "amqp://fed:first-secret@remote:5672/v")
	code, out, errOut := warren(t, "apply", "--yes", defs)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	var got struct {
		Value map[string]any `json:"value"`
	}
	if err := n.Do(context.Background(), "GET", "/api/global-parameters/upstream-x", nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.Value["uri"] != "amqp://fed:first-secret@remote:5672/v" {
		t.Errorf("the broker holds %v, want the resolved URI", got.Value)
	}
	mustInSync(t, defs)
	t.Setenv("UP_URI", "amqp://fed:second-secret@remote:5672/v")
	plan := filepath.Join(t.TempDir(), "plan.json")
	all := out + errOut
	for _, args := range [][]string{{"diff", defs}, {"diff", "--format", "json", defs}, {"diff", "--format", "markdown", defs}, {"diff", "-o", plan, defs}} {
		code, out, errOut := warren(t, args...)
		if code != exitDrift {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		all += out + errOut
	}
	saved, _ := os.ReadFile(plan)
	all += string(saved)
	if strings.Contains(all, "first-secret") || strings.Contains(all, "second-secret") {
		t.Errorf("a credential was printed or saved:\n%s", all)
	}
	if !strings.Contains(all, "value: (sensitive) differs") {
		t.Errorf("want the changed password shown as (sensitive) differs:\n%s", all)
	}
	export := filepath.Join(t.TempDir(), "export.json")
	if code, out, errOut := warren(t, "export", "--only", "global_parameters", "-o", export); code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	if st, err := os.Stat(export); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("an export with credentials: mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

// RabbitMQ's import of an export without hashes creates users who cannot
// log in: export says so, --password-refs writes references, boot refuses
// a user without password.
func TestExportPasswordTrap(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	useNode(t, n)
	ctx := context.Background()
	for _, u := range []string{"app-1", "app_1", "billing.svc"} {
		if err := n.Do(ctx, "PUT", "/api/users/"+u, map[string]any{"password": "pw-" + u, "tags": ""}, nil); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.yaml")
	code, out, errOut := warren(t, "export", "--only", "users", "-o", plain)
	if code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "users written without password hashes") || !strings.Contains(errOut, "unable to log in") {
		t.Errorf("export says nothing about the users without hashes:\n%s", errOut)
	}
	if st, _ := os.Stat(plain); st.Mode().Perm() != 0o600 {
		t.Errorf("an export with users: mode %v, want 0600", st.Mode().Perm())
	}
	if code, out, _ := warren(t, "validate", plain); code != exitOK || !strings.Contains(out, "W145") {
		t.Errorf("validate of the export: exit %d, want W145 warnings:\n%s", code, out)
	}
	if code, _, errOut := warren(t, "boot", "--out", filepath.Join(dir, "boot"), plain); code == exitOK || !strings.Contains(errOut, "neither password nor password_hash") {
		t.Errorf("boot of users without passwords: exit %d, want a refusal:\n%s", code, errOut)
	}
	refs := filepath.Join(dir, "refs.yaml")
	code, out, errOut = warren(t, "export", "--only", "users", "--password-refs", "-o", refs)
	if code != exitOK {
		t.Fatalf("export --password-refs: exit %d\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(refs)
	// app-1 and app_1 clash: each gets a suffix from its own name's SHA-256,
	// so adding or removing another user never renames them.
	for _, v := range []string{"WARREN_PASSWORD_APP_1_5EB7E725", "WARREN_PASSWORD_APP_1_D1437D2E", "WARREN_PASSWORD_BILLING_SVC"} {
		if !strings.Contains(string(data), v) || !strings.Contains(errOut, v) {
			t.Errorf("%s missing from the file or from the list on stderr:\n%s\n%s", v, data, errOut)
		}
	}
	if strings.Contains(string(data), "password_hash") {
		t.Errorf("--password-refs wrote hashes:\n%s", data)
	}
	if code, out, _ := warren(t, "validate", refs); code != exitOK || strings.Contains(out, "W145") {
		t.Errorf("validate of the export with references: exit %d\n%s", code, out)
	}
}

// --password-file reads regular files and pipes, bounded: /dev/zero is
// refused and a FIFO without a writer is empty, both at once.
func TestPasswordFileBounded(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("WARREN_PASSWORD", "")
	for _, p := range []string{"/dev/zero", fifo} {
		done := make(chan string, 1)
		go func() {
			_, _, errOut := warren(t, "export", "--url", "http://127.0.0.1:1", "--username", "u", "--password-file", p)
			done <- errOut
		}()
		select {
		case errOut := <-done:
			if !strings.Contains(errOut, "not a regular file") && !strings.Contains(errOut, "is empty") {
				t.Errorf("--password-file %s: %s", p, errOut)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("--password-file %s hangs", p)
		}
	}
}

// --password on the command line wins over WARREN_PASSWORD, as every flag
// wins over its variable; with --password-file as well, it is an error.
func TestPasswordFlagWinsOverTheEnvironment(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, _ := r.BasicAuth()
		mu.Lock()
		got = append(got, pw)
		mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"not_authorised","reason":"Login failed"}`))
	}))
	defer srv.Close()
	t.Setenv("WARREN_PASSWORD", "from-the-environment")
	code, _, errOut := warren(t, "export", "--url", srv.URL, "--username", "u", "--password", "from-the-flag")
	mu.Lock()
	if code != exitError || len(got) == 0 || slices.ContainsFunc(got, func(pw string) bool { return pw != "from-the-flag" }) {
		t.Errorf("--password with WARREN_PASSWORD set: exit %d, the broker saw %q\n%s", code, got, errOut)
	}
	mu.Unlock()
	file := writeTemp(t, "pw", "from-the-file\n")
	if code, _, errOut := warren(t, "export", "--url", srv.URL, "--username", "u", "--password", "x", "--password-file", file); code != exitError || !strings.Contains(errOut, "both a password file (--password-file or its variable) and --password") {
		t.Errorf("--password and --password-file: exit %d\n%s", code, errOut)
	}
}

// In migrate, a side's own password (WARREN_FROM_PASSWORD, --from-password-file)
// wins over the --password both sides share, which must not reach the old
// cluster.
func TestMigrateSidePasswordWinsOverTheSharedFlag(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	server := func(name string, answer func(w http.ResponseWriter)) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, pw, _ := r.BasicAuth()
			mu.Lock()
			seen[name] = append(seen[name], pw)
			mu.Unlock()
			answer(w)
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	refuse := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"not_authorized","reason":"Login failed"}`))
	}
	old := server("old", refuse)
	newer := server("new", func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"rabbitmq_version":"4.0.5","management_version":"4.0.5","cluster_name":"new","name":"u","tags":["administrator"]}`))
	})
	t.Setenv("WARREN_PASSWORD", "")
	t.Setenv("WARREN_FROM_PASSWORD", "the-old-clusters")
	warren(t, "migrate", "status", "--from", old.URL, "--to", newer.URL, "--username", "u", "--password", "the-new-clusters")
	mu.Lock()
	defer mu.Unlock()
	if len(seen["old"]) == 0 || slices.Contains(seen["old"], "the-new-clusters") || slices.ContainsFunc(seen["old"], func(pw string) bool { return pw != "the-old-clusters" }) {
		t.Errorf("the old cluster saw %q, want only WARREN_FROM_PASSWORD", seen["old"])
	}
	if len(seen["new"]) == 0 || slices.ContainsFunc(seen["new"], func(pw string) bool { return pw != "the-new-clusters" }) {
		t.Errorf("the new cluster saw %q, want only --password", seen["new"])
	}
}

// Clear text and unverified TLS are said on standard error. The brokers
// named are 0.0.0.0, which is not a loopback address to the warning (a
// broker elsewhere) and which Linux connects to this machine: nothing
// leaves it.
func TestClearTextWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: each export waits out the client's retries on a closed port (about 7s in all); make test runs this")
	}
	t.Setenv("WARREN_PASSWORD", "x")
	_, _, errOut := warren(t, "export", "--url", "http://0.0.0.0:1", "--username", "u", "--timeout", "200ms", "--insecure")
	if !strings.Contains(errOut, "http://0.0.0.0:1 is plain http") || !strings.Contains(errOut, "--insecure") {
		t.Errorf("no warning:\n%s", errOut)
	}
	_, _, errOut = warren(t, "export", "--url", "http://127.0.0.1:1", "--username", "u", "--timeout", "200ms")
	if strings.Contains(errOut, "plain http") {
		t.Errorf("a warning for loopback:\n%s", errOut)
	}
	_, _, errOut = warren(t, "export", "--target", "huaweicloud-rabbitmq", "--endpoint", "http://0.0.0.0:1", "--project-id", "p", "--instance-id", "i")
	if !strings.Contains(errOut, "plain http") {
		t.Errorf("no warning for an http:// Huawei endpoint:\n%s", errOut)
	}
	// The AMQP listener warren counts messages on carries the password too.
	_, _, errOut = warren(t, "export", "--url", "https://0.0.0.0:1", "--username", "u", "--timeout", "200ms",
		"--amqp-url", "amqp://0.0.0.0:1")
	if !strings.Contains(errOut, "--amqp-url amqp://0.0.0.0:1 is plain amqp") {
		t.Errorf("no warning for a plain amqp:// listener:\n%s", errOut)
	}
	for _, u := range []string{"amqps://0.0.0.0:1", "amqp://127.0.0.1:1"} {
		_, _, errOut = warren(t, "export", "--url", "https://127.0.0.1:1", "--username", "u", "--timeout", "200ms", "--amqp-url", u)
		if strings.Contains(errOut, "plain amqp") {
			t.Errorf("a warning for --amqp-url %s:\n%s", u, errOut)
		}
	}
}

// fmt in place writes through a symbolic link and keeps hard links; new
// files respect the umask.
func TestFmtKeepsLinksAndUmask(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	os.WriteFile(real, []byte(`{"vhosts":[{"name":"b"},{"name":"a"}]}`), 0o640)
	os.Chmod(real, 0o640) // whatever the umask
	link := filepath.Join(dir, "link.json")
	os.Symlink("real.json", link)
	hard := filepath.Join(dir, "hard.json")
	os.Link(real, hard)
	if code, out, errOut := warren(t, "fmt", link); code != exitOK {
		t.Fatalf("fmt: exit %d\n%s%s", code, out, errOut)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced by a file")
	}
	a, _ := os.ReadFile(real)
	b, _ := os.ReadFile(hard)
	if !strings.Contains(string(a), `"a"`) || strings.Index(string(a), `"a"`) > strings.Index(string(a), `"b"`) || string(a) != string(b) {
		t.Errorf("the file behind the link is not formatted, or its hard link was split:\n%s\n%s", a, b)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	out := filepath.Join(dir, "out.yaml")
	if code, _, errOut := warren(t, "fmt", "--to", "yaml", real, "-o", out); code != exitOK {
		t.Fatalf("fmt -o: %s", errOut)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("umask 077: mode %v, want 0600", st.Mode().Perm())
	}
	syscall.Umask(0o022)
	// -o is no more open than its input (0640 here), and only its owner's
	// when the file holds users: a backup's hashes stay private.
	if code, _, errOut := warren(t, "fmt", "--to", "yaml", real, "-o", out); code != exitOK {
		t.Fatalf("fmt -o: %s", errOut)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o640 {
		t.Errorf("fmt -o of a 0640 file: mode %v, want 0640", st.Mode().Perm())
	}
	backup := filepath.Join(dir, "backup.json")
	os.WriteFile(backup, []byte(`{"users":[{"name":"app","password_hash":"kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR","hashing_algorithm":"rabbit_password_hashing_sha256","tags":[]}]}`), 0o644)
	hashes := filepath.Join(dir, "hashes.yaml")
	if code, _, errOut := warren(t, "fmt", "--to", "yaml", backup, "-o", hashes); code != exitOK {
		t.Fatalf("fmt -o: %s", errOut)
	}
	if st, _ := os.Stat(hashes); st.Mode().Perm() != 0o600 {
		t.Errorf("fmt -o of a file with users: mode %v, want 0600", st.Mode().Perm())
	}
}
