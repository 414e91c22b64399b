package definitions

// What RabbitMQ does with users: the tags it gives meaning to and the
// sizes of its password hashes.

// Hash sizes in bytes: a 4-byte salt and the digest.
var hashSizes = map[string]int{
	"rabbit_password_hashing_sha256": 4 + 32,
	"rabbit_password_hashing_sha512": 4 + 64,
	"rabbit_password_hashing_md5":    4 + 16,
}

// KnownTags are the user tags RabbitMQ gives meaning to.
var KnownTags = []string{"administrator", "monitoring", "management", "policymaker", "impersonator"}
