// Package secret reads the secrets warren's files and flags refer to: an
// environment variable ({"env": "NAME"}) or a file ({"file": "PATH"},
// --password-file), a pipe included. It is the one place where reading a
// secret touches the process environment, the file system or the clock (a
// pipe's writer gets PipeTimeout); definitions, which is pure, and plan
// reach it through definitions.ResolveSecret.
package secret

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// MaxFile bounds a secret file: a password, a URI, a token.
const MaxFile = 64 << 10

// PipeTimeout bounds the wait for a pipe's writer to finish.
const PipeTimeout = 10 * time.Second

// Resolve returns a secret's value: literal when not nil, else the
// environment variable env when not "", else the content of file without
// one trailing newline. An unset or empty variable and an unreadable or
// empty file are errors that name the variable or the file, never a value.
func Resolve(literal *string, env, file string) (string, error) {
	switch {
	case literal != nil:
		return *literal, nil
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", env)
		}
		return v, nil
	default:
		v, err := ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("cannot read password file %s: %v", file, err)
		}
		if v == "" {
			return "", fmt.Errorf("password file %s is empty", file)
		}
		return v, nil
	}
}

// ReadFile reads a secret from a file, without one trailing newline
// (\n or \r\n), at most MaxFile bytes. A regular file (or a link to
// one) is read; so is a pipe, such as the shell's process substitution
// (--password-file <(pass show mq)), within PipeTimeout: a pipe with
// no writer reads as empty at once, never blocks. A device such as
// /dev/zero, a socket or a directory is refused.
func ReadFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", unwrapPath(err)
	}
	pipe := st.Mode()&os.ModeNamedPipe != 0
	if !st.Mode().IsRegular() && !pipe {
		return "", fmt.Errorf("not a regular file or a pipe (%s)", fileKind(st.Mode()))
	}
	// O_NONBLOCK: opening a FIFO does not wait for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", unwrapPath(err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil || !(st.Mode().IsRegular() || st.Mode()&os.ModeNamedPipe != 0) {
		return "", errors.New("not a regular file or a pipe")
	}
	if pipe {
		f.SetReadDeadline(time.Now().Add(PipeTimeout))
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return "", fmt.Errorf("the pipe's writer wrote no end within %s", PipeTimeout)
	}
	if err != nil {
		return "", unwrapPath(err)
	}
	if len(b) > MaxFile {
		return "", fmt.Errorf("larger than %d KiB; a secret file holds one secret", MaxFile>>10)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}
