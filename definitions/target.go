package definitions

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/warren-tool/warren/schema"
)

// TargetName names a kind of broker whose rules Check adds to RabbitMQ's.
type TargetName string

const (
	TargetRabbitMQ            TargetName = "rabbitmq"
	TargetAmazonMQRabbitMQ    TargetName = "amazonmq-rabbitmq"
	TargetAmazonMQActiveMQ    TargetName = "amazonmq-activemq"
	TargetHuaweiCloudRabbitMQ TargetName = "huaweicloud-rabbitmq"
)

// Targets lists every target, for flags and help.
var Targets = []TargetName{TargetRabbitMQ, TargetAmazonMQRabbitMQ, TargetAmazonMQActiveMQ, TargetHuaweiCloudRabbitMQ}

// The rules of each target, from docs/cloud-apis.md.

var (
	activeMQName   = regexp.MustCompile(`^[A-Za-z0-9._~-]{2,100}$`)
	huaweiUserName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{6,63}$`)
)

// AmazonMQTags are the only user tags Amazon MQ for RabbitMQ supports.
var AmazonMQTags = []string{"administrator", "management", "monitoring"}

// targetKinds lists the kinds each target can hold; nil means all.
var targetKinds = map[TargetName][]Kind{
	TargetAmazonMQActiveMQ:    {KindUser},
	TargetHuaweiCloudRabbitMQ: {KindUser, KindVhost, KindPermission, KindExchange, KindQueue, KindBinding},
}

// target adds the chosen target's rules.
func (c *checker) target() {
	t := c.opts.Target
	if kinds := targetKinds[t]; kinds != nil {
		if t == TargetHuaweiCloudRabbitMQ && c.opts.Edition == Huawei3x {
			kinds = huawei3xKinds
		}
		for _, k := range Kinds {
			if slices.Contains(kinds, k) {
				continue
			}
			for _, o := range c.doc.ObjectsOf(k) {
				if t == TargetHuaweiCloudRabbitMQ {
					c.errorf(o, "", schema.ETargetKind, "%s", huaweiKindMessage(k, c.opts.Edition))
					continue
				}
				c.errorf(o, "", schema.ETargetKind, "%s cannot hold %s (only %s)", t, k, kindList(kinds))
			}
		}
	}
	if t == TargetHuaweiCloudRabbitMQ {
		c.huaweiTopology()
	}
	for _, u := range c.doc.Users {
		switch t {
		case TargetAmazonMQRabbitMQ:
			c.amazonMQRabbitUser(u)
		case TargetAmazonMQActiveMQ:
			c.activeMQUser(u)
		case TargetHuaweiCloudRabbitMQ:
			c.huaweiUser(u)
		}
	}
}

func kindList(kinds []Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func (c *checker) amazonMQRabbitUser(u *User) {
	if u.Name == "guest" {
		c.errorf(u, "name", schema.ETargetUser, "Amazon MQ does not support a user named guest and deletes it periodically; choose another name")
	}
	for _, tag := range u.Tags {
		if !slices.Contains(AmazonMQTags, tag) {
			c.errorf(u, "tags", schema.ETargetTag, "Amazon MQ supports only the tags %s, not %q", strings.Join(AmazonMQTags, ", "), tag)
		}
	}
}

func (c *checker) activeMQUser(u *User) {
	if !activeMQName.MatchString(u.Name) {
		c.errorf(u, "name", schema.ETargetUser, "Amazon MQ for ActiveMQ user names are 2-100 characters of A-Z a-z 0-9 - . _ ~")
	}
	c.plainPassword(u, "Amazon MQ for ActiveMQ takes passwords, not hashes",
		fmt.Sprintf("Amazon MQ for ActiveMQ needs a password for user %q", u.Name),
		fmt.Sprintf("password of user %q", u.Name), activeMQPasswordProblem)
	if a := u.ActiveMQ; a != nil {
		if len(a.Groups) > 20 {
			c.errorf(u, "activemq/groups", schema.ETargetGroups, "user %q has %d groups; Amazon MQ allows at most 20", u.Name, len(a.Groups))
		}
		for i, g := range a.Groups {
			if !activeMQName.MatchString(g) {
				c.errorf(u, fmt.Sprintf("activemq/groups/%d", i), schema.ETargetGroups, "group %q is not 2-100 characters of A-Z a-z 0-9 - . _ ~", g)
			}
		}
		if a.ConsoleAccess != nil && *a.ConsoleAccess && a.ReplicationUser != nil && *a.ReplicationUser {
			c.errorf(u, "activemq", schema.ETargetConflict, "user %q: console_access and replication_user are mutually exclusive", u.Name)
		}
	}
}

// activeMQPasswordProblem says what is wrong with an Amazon MQ password, or
// "" when nothing is.
func activeMQPasswordProblem(pw string) string {
	if utf8.RuneCountInString(pw) < 12 {
		return "is shorter than 12 characters"
	}
	unique := map[rune]bool{}
	for _, r := range pw {
		unique[r] = true
	}
	if len(unique) < 4 {
		return "has fewer than 4 different characters"
	}
	if strings.ContainsAny(pw, ",:=") {
		return "contains a comma, colon or equals sign"
	}
	return ""
}

func (c *checker) huaweiUser(u *User) {
	if !huaweiUserName.MatchString(u.Name) {
		c.errorf(u, "name", schema.ETargetUser, "Huawei Cloud user names (access keys) are 7-64 characters, a letter first, then letters, digits, - and _")
	}
	c.plainPassword(u, "Huawei Cloud takes secret keys (password), not hashes",
		fmt.Sprintf("Huawei Cloud needs a secret key (password) for user %q", u.Name),
		fmt.Sprintf("secret key of user %q", u.Name), func(pw string) string { return huaweiPasswordProblem(u.Name, pw) })
}

// huaweiPasswordProblem says what is wrong with a Huawei Cloud secret key,
// or "" when nothing is.
func huaweiPasswordProblem(user, pw string) string {
	n := utf8.RuneCountInString(pw)
	if n < 8 || n > 32 {
		return "must be 8-32 characters long"
	}
	if strings.HasPrefix(pw, "-") {
		return "must not start with -"
	}
	var upper, lower, digit, special bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			special = true
		}
	}
	classes := 0
	for _, b := range []bool{upper, lower, digit, special} {
		if b {
			classes++
		}
	}
	if classes < 3 {
		return "needs at least 3 of: upper case, lower case, digits, special characters"
	}
	if pw == user || pw == reverse(user) {
		return "must not be the user name or the user name reversed"
	}
	return ""
}

func reverse(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// plainPassword checks a target that takes plain passwords only: no hash,
// a password present, and the target's rule for it when warren can read it.
func (c *checker) plainPassword(u *User, noHash, needed, subject string, problem func(string) string) {
	switch {
	case u.PasswordHash != nil:
		c.errorf(u, "password_hash", schema.ETargetPassword, "%s", noHash)
	case u.Password == nil:
		c.errorf(u, "", schema.ETargetPassword, "%s", needed)
	default:
		if pw, ok := c.resolved(u); ok {
			if msg := problem(pw); msg != "" {
				c.errorf(u, "password", schema.ETargetPassword, "%s %s", subject, msg)
			}
		}
	}
}

// resolved returns a user's password when warren can resolve it, warning
// (W112) when it cannot, since the target's rules then go unchecked.
func (c *checker) resolved(u *User) (string, bool) {
	pw, err := c.opts.Resolve(u.Password)
	if err != nil {
		c.warnf(u, "password", schema.WUnresolvedSecret, "password of user %q not checked against %s rules: %v", u.Name, c.opts.Target, err)
		return "", false
	}
	return pw, true
}
