package definitions_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
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
		go func() { _, err := definitions.ReadSecretFile(tt.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: got %v, want %q", tt.path, err, tt.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: reading hangs", tt.path)
		}
	}
	if v, err := definitions.ReadSecretFile(ok); err != nil || v != "s3cret" {
		t.Errorf("regular file: %q, %v", v, err)
	}
	// A FIFO with no writer reads as empty at once (ResolveSecret then says
	// the file is empty); one with a writer, as the shell's <(command)
	// gives, is read.
	if v, err := definitions.ReadSecretFile(fifo); err != nil || v != "" {
		t.Errorf("FIFO without a writer: %q, %v", v, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.Write([]byte("from-a-pipe\n")); w.Close() }()
	if v, err := definitions.ReadSecretFile(fmt.Sprintf("/proc/self/fd/%d", r.Fd())); err != nil || v != "from-a-pipe" {
		t.Errorf("pipe: %q, %v", v, err)
	}
	r.Close()
	s := &definitions.Secret{File: "/dev/zero"}
	if _, err := definitions.ResolveSecret(s); err == nil {
		t.Error("{file: /dev/zero} resolved")
	}
}

func TestDotSegment(t *testing.T) {
	for name, want := range map[string]bool{".": true, "..": true, "%2E%2E": true, "%2e.": true, "%252E%252E": true,
		"...": false, ".a": false, "a..": false, "%2E%2E%2E": false, "": false, "/": false} {
		if got := definitions.DotSegment(name); got != want {
			t.Errorf("DotSegment(%q) = %v, want %v", name, got, want)
		}
	}
}
