package definitions

// What RabbitMQ does with users: the tags it gives meaning to and the
// sizes of its password hashes.

// The hashing algorithms RabbitMQ ships.
const (
	HashSHA256 = "rabbit_password_hashing_sha256"
	HashSHA512 = "rabbit_password_hashing_sha512"
	HashMD5    = "rabbit_password_hashing_md5"
)

// HashAlgorithms are the hashing algorithms RabbitMQ ships.
var HashAlgorithms = []string{HashSHA256, HashSHA512, HashMD5}

// hashSizes are the sizes of each algorithm's hashes, in bytes: a 4-byte
// salt and the digest.
var hashSizes = map[string]int{
	HashSHA256: 4 + 32,
	HashSHA512: 4 + 64,
	HashMD5:    4 + 16,
}

// DefaultHashAlgorithm is the algorithm RabbitMQ's import takes for a
// password hash that names none: md5 in a file whose rabbit_version is
// older than 3.6.0, else sha256 (also when the file names no version).
func DefaultHashAlgorithm(rabbitVersion string) string {
	if rabbitVersion != "" && CompareVersions(rabbitVersion, "3.6.0") < 0 {
		return HashMD5
	}
	return HashSHA256
}

// KnownTags are the user tags RabbitMQ gives meaning to.
var KnownTags = []string{"administrator", "monitoring", "management", "policymaker", "impersonator"}
