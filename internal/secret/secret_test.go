package secret_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/internal/secret"
)

// Secret files: regular files of at most 64 KiB; a FIFO or a device is
// refused at once.
func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("x"), 65<<10), 0o600)
	ok := filepath.Join(dir, "ok")
	os.WriteFile(ok, []byte("s3cret\r\n"), 0o600)
	tests := []struct{ path, want string }{
		{"/dev/zero", "not a regular file or a pipe (a character device)"},
		{dir, "not a regular file or a pipe (a directory)"},
		{big, "larger than 64 KiB"},
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		go func() { _, err := secret.ReadFile(tt.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: got %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: reading hangs", tt.path)
		}
	}
	if v, err := secret.ReadFile(ok); err != nil || v != "s3cret" {
		t.Errorf("regular file: %q, %v", v, err)
	}
	// A FIFO with no writer reads as empty at once (Resolve then says
	// the file is empty); one with a writer, as the shell's <(command)
	// gives, is read.
	if v, err := secret.ReadFile(fifo); err != nil || v != "" {
		t.Errorf("FIFO without a writer: %q, %v", v, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.Write([]byte("from-a-pipe\n")); w.Close() }()
	if v, err := secret.ReadFile(fmt.Sprintf("/proc/self/fd/%d", r.Fd())); err != nil || v != "from-a-pipe" {
		t.Errorf("pipe: %q, %v", v, err)
	}
	r.Close()
	if _, err := secret.Resolve(nil, "", "/dev/zero"); err == nil {
		t.Error("file /dev/zero resolved")
	}
}

// Resolve: a literal as it is; an unset or empty variable and an empty
// file are errors naming them.
func TestResolve(t *testing.T) {
	lit := "x"
	if v, err := secret.Resolve(&lit, "IGNORED", ""); err != nil || v != "x" {
		t.Errorf("literal: %q, %v", v, err)
	}
	t.Setenv("WARREN_SECRET_TEST_EMPTY", "")
	t.Setenv("WARREN_SECRET_TEST_SET", "v")
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tt := range []struct{ env, file, want string }{
		{"WARREN_SECRET_TEST_UNSET", "", "environment variable WARREN_SECRET_TEST_UNSET is not set"},
		{"WARREN_SECRET_TEST_EMPTY", "", "environment variable WARREN_SECRET_TEST_EMPTY is empty"},
		{"", empty, "password file " + empty + " is empty"},
	} {
		if _, err := secret.Resolve(nil, tt.env, tt.file); err == nil || err.Error() != tt.want {
			t.Errorf("%s%s: got %v, want %q", tt.env, tt.file, err, tt.want)
		}
	}
	if v, err := secret.Resolve(nil, "WARREN_SECRET_TEST_SET", ""); err != nil || v != "v" {
		t.Errorf("env: %q, %v", v, err)
	}
}
