package huaweicloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Huawei Cloud's AK/SK request signing, "SDK-HMAC-SHA256"
// (docs/cloud-apis.md §3.4). warren signs requests itself rather than
// use the Huawei Cloud Go SDK, whose module is 45 MB (252 MB unpacked) and
// pulls in a dozen dependencies for what is about sixty lines.

// SignAlgorithm names the scheme in the Authorization header.
const SignAlgorithm = "SDK-HMAC-SHA256"

// DateFormat is X-Sdk-Date's layout.
const DateFormat = "20060102T150405Z"

// Sign adds X-Sdk-Date and the Authorization header to a request whose
// body is body. It signs every header but content-type and those whose
// name holds an underscore, and the host.
func Sign(r *http.Request, body []byte, ak, sk string, now time.Time) {
	r.Header.Set("X-Sdk-Date", now.UTC().Format(DateFormat))
	names := []string{"host"}
	for name := range r.Header {
		n := strings.ToLower(name)
		if strings.HasPrefix(n, "content-type") || strings.Contains(n, "_") || n == "authorization" {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	signature := Signature(r, body, names, sk)
	r.Header.Set("Authorization", fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s", SignAlgorithm, ak, strings.Join(names, ";"), signature))
}

// Signature computes the signature of a request over the given headers
// (lower-case, sorted); a verifier calls it with the headers the request
// says it signed.
func Signature(r *http.Request, body []byte, signedHeaders []string, sk string) string {
	var headers strings.Builder
	for _, h := range signedHeaders {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
			if v == "" {
				v = r.URL.Host
			}
		}
		headers.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	payload := sha256.Sum256(body)
	canonical := strings.Join([]string{
		r.Method, canonicalURI(r.URL), canonicalQuery(r.URL.Query()), headers.String(),
		strings.Join(signedHeaders, ";"), hex.EncodeToString(payload[:]),
	}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := SignAlgorithm + "\n" + r.Header.Get("X-Sdk-Date") + "\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(sk)) // the key is used as it is: no derivation
	mac.Write([]byte(toSign))
	return hex.EncodeToString(mac.Sum(nil))
}

// canonicalURI escapes each segment of the unescaped path and always ends
// with a slash.
func canonicalURI(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			parts = append(parts, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(parts, "&")
}

// escape percent-encodes all but A-Z a-z 0-9 _ - ~ ., upper-case hex.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '~' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
