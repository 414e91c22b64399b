// Package httpapi is the HTTP plumbing every network target shares and
// none owns: the retry loop, the error for a redirect (never followed),
// text from a server made safe to print, and the secrets masked in it.
//
// It stands below the targets (seeders/rabbitmq, seeders/huaweicloud,
// seeders/amazonmqactivemq), which import it; it imports no target.
package httpapi
