package definitions

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
)

func hasher(alg string) (func() hash.Hash, error) {
	switch alg {
	case HashSHA256, "":
		return sha256.New, nil
	case HashSHA512:
		return sha512.New, nil
	case HashMD5:
		return md5.New, nil
	}
	return nil, fmt.Errorf("unknown hashing algorithm %q", alg)
}

// HashPassword returns RabbitMQ's password_hash for a password: base64 of a
// 4-byte salt followed by H(salt || password). A nil salt draws a random
// one.
func HashPassword(password, alg string, salt []byte) (string, error) {
	h, err := hasher(alg)
	if err != nil {
		return "", err
	}
	if salt == nil {
		salt = make([]byte, 4)
		if _, err := rand.Read(salt); err != nil {
			return "", err
		}
	}
	if len(salt) != 4 {
		return "", fmt.Errorf("a salt is 4 bytes, not %d", len(salt))
	}
	d := h()
	d.Write(salt)
	d.Write([]byte(password))
	return base64.StdEncoding.EncodeToString(append(append([]byte{}, salt...), d.Sum(nil)...)), nil
}

// PasswordMatches reports whether password is the one a RabbitMQ hash was
// made from: it hashes the password again with the hash's own salt. Nothing
// on the broker changes and neither value is printed.
func PasswordMatches(passwordHash, alg, password string) bool {
	raw, err := base64.StdEncoding.DecodeString(passwordHash)
	if err != nil || len(raw) < 4 {
		return false
	}
	again, err := HashPassword(password, alg, raw[:4])
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(again), []byte(passwordHash)) == 1
}
