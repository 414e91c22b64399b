package definitions

import secrets "github.com/warren-tool/warren/internal/secret"

// ResolveSecret returns a password's value: the literal, the environment
// variable, or the file's content without one trailing newline. The
// reading is internal/secret's (secret.Resolve): this package only names
// it as Check's and Diff's default Resolve.
func ResolveSecret(s *Secret) (string, error) {
	return secrets.Resolve(s.Literal, s.Env, s.File)
}

// MaxSecretFile bounds a secret file: a password, a URI, a token
// (secret.MaxFile).
const MaxSecretFile = secrets.MaxFile

// SecretPipeTimeout bounds the wait for a pipe's writer to finish
// (secret.PipeTimeout).
const SecretPipeTimeout = secrets.PipeTimeout

// ReadSecretFile reads a secret from a file or a pipe: secret.ReadFile,
// for callers that hold no *Secret (--password-file, an inventory's
// password_file).
func ReadSecretFile(path string) (string, error) { return secrets.ReadFile(path) }
