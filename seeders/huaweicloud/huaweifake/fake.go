// Package huaweifake is a local stand-in for the Huawei Cloud DMS for
// RabbitMQ API (users, vhosts, exchanges, queues and bindings), for tests.
// It follows docs/cloud-apis.md §3 and §6 (topology.go): paths (vhosts under /v2/rabbitmq/…), methods
// and status codes (DeleteUser 204, CreateVhost 200, BatchDeleteVhosts 204),
// offset/limit paging (limit at most 50, default 10), the secret key and
// access key rules, masked secret keys in answers, {"error_code",
// "error_msg"} errors with X-Request-Id, and SDK-HMAC-SHA256 signatures,
// verified here independently of warren's signer (a wrong key is refused).
// It can also throttle, fail with 5xx and drop connections.
package huaweifake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// The credentials and instance the fake knows.
const (
	AK         = "HWAKWARRENTEST"
	SK         = "huawei-test-secret-key"
	ProjectID  = "proj0123456789"
	InstanceID = "inst-4567"
)

// User is a DMS user.
type User struct {
	AccessKey string
	SecretKey string
	Vhosts    []Perm
}

// Perm is one of a user's per-vhost patterns.
type Perm struct {
	Vhost string `json:"vhost"`
	Conf  string `json:"conf"`
	Write string `json:"write"`
	Read  string `json:"read"`
}

// The instance's edition (§6.5).
const (
	EditionAMQP = "amqp-0-9-1" // users through the DMS API; no internal exchanges, no exchange-to-exchange bindings
	Edition3x   = "3.x"        // RabbitMQ 3.8/3.12: users through the management API, not DMS's
)

// Server is a fake DMS API for one instance.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	edition string
	users   map[string]*User
	vhosts  []string
	// topology is each vhost's exchanges, queues and bindings (topology.go).
	topology map[string]*vhostTopology
	faults   map[string][]int
	Calls    map[string]int
	seq      int
	// UnknownStatus is the status of an answer about an exchange, queue,
	// binding or vhost that does not exist: 404 by default, 400 when set
	// (§6.6: which one DMS sends is unverified).
	UnknownStatus int
}

// New starts a fake AMQP-0-9-1 instance with the vhost "default".
func New() *Server { return NewEdition(EditionAMQP) }

// NewEdition starts a fake instance of the edition: AMQP-0-9-1 with the
// vhost "default", or 3.x with the vhost "/" and its built-in exchanges.
func NewEdition(edition string) *Server {
	s := &Server{edition: edition, users: map[string]*User{}, topology: map[string]*vhostTopology{}, faults: map[string][]int{},
		Calls: map[string]int{}, UnknownStatus: http.StatusNotFound}
	first := "default"
	if edition == Edition3x {
		first = "/"
	}
	s.addVhost(first)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail makes the next requests to op fail: 429 throttles, 5xx fails, 0
// drops the connection, 200 lets one through.
func (s *Server) Fail(op string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], statuses...)
}

// Users and Vhosts show the instance, for tests.
func (s *Server) Users() map[string]User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]User{}
	for k, u := range s.users {
		out[k] = *u
	}
	return out
}

func (s *Server) Vhosts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.vhosts)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", s.seq))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg})
}

var (
	usersRoute  = regexp.MustCompile(`^/v2/([^/]+)/instances/([^/]+)/users(?:/([^/]+))?$`)
	vhostsRoute = regexp.MustCompile(`^/v2/rabbitmq/([^/]+)/instances/([^/]+)/vhosts$`)
	accessKey   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{6,63}$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("X-Auth-Token") == "" {
		if err := verify(r, body); err != nil {
			s.fail(w, http.StatusUnauthorized, "APIGW.0301", err.Error())
			return
		}
	} else if r.Header.Get("X-Auth-Token") != "valid-token" {
		s.fail(w, http.StatusUnauthorized, "APIGW.0307", "The token must be updated.")
		return
	}
	op, user := "", ""
	var project, instance string
	var tr *topologyRoute
	if t, ok := parseTopologyRoute(r); ok {
		tr, project, instance = t, t.project, t.instance
		op = t.op
	} else if m := usersRoute.FindStringSubmatch(r.URL.Path); m != nil {
		project, instance, user = m[1], m[2], m[3]
		op = map[string]string{"GET": "ListUser", "POST": "CreateUser", "PUT": "UpdateUser", "DELETE": "DeleteUser"}[r.Method]
		if (user == "") != (op == "ListUser" || op == "CreateUser") {
			op = ""
		}
	} else if m := vhostsRoute.FindStringSubmatch(r.URL.Path); m != nil {
		project, instance = m[1], m[2]
		op = map[string]string{"GET": "ListVhosts", "PUT": "CreateVhost", "POST": "BatchDeleteVhosts"}[r.Method]
	}
	if op == "" {
		s.fail(w, http.StatusNotFound, "APIGW.0101", "The API does not exist or has not been published in the environment.")
		return
	}
	if project != ProjectID || r.Header.Get("X-Project-Id") != ProjectID {
		s.fail(w, http.StatusBadRequest, "DMS.00400002", "The project ID format is invalid.")
		return
	}
	if instance != InstanceID {
		s.fail(w, http.StatusNotFound, "DMS.00404022", "The instance does not exist.")
		return
	}
	s.Calls[op]++
	if f := s.faults[op]; len(f) > 0 {
		s.faults[op] = f[1:]
		switch f[0] {
		case http.StatusOK:
		case 0:
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
				return
			}
		case http.StatusTooManyRequests:
			s.fail(w, http.StatusTooManyRequests, "APIGW.0308", "The throttling threshold has been reached.")
			return
		default:
			s.fail(w, f[0], "DMS.00500000", "Internal service error.")
			return
		}
	}
	if tr != nil {
		s.serveTopology(w, tr, body)
		return
	}
	if s.edition == Edition3x && usersRoute.MatchString(r.URL.Path) {
		// The user APIs are for the AMQP-0-9-1 edition only (§3.1); the
		// error DMS sends on 3.x is unverified.
		s.fail(w, http.StatusBadRequest, "DMS.00400060", "The operation is supported only by RabbitMQ AMQP-0-9-1 instances.")
		return
	}
	switch op {
	case "ListUser", "ListVhosts":
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		limit := 10
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 50 {
				s.fail(w, http.StatusBadRequest, "DMS.00400085", "limit must be 0-50")
				return
			}
			limit = n
		}
		if op == "ListVhosts" {
			end := min(offset+limit, len(s.vhosts))
			items := []map[string]any{}
			for _, v := range s.vhosts[min(offset, end):end] {
				items = append(items, map[string]any{"name": v, "tracing": false})
			}
			json.NewEncoder(w).Encode(map[string]any{"size": len(items), "total": len(s.vhosts), "items": items})
			return
		}
		names := make([]string, 0, len(s.users))
		for n := range s.users {
			names = append(names, n)
		}
		slices.Sort(names)
		end := min(offset+limit, len(names))
		list := []map[string]any{}
		for _, n := range names[min(offset, end):end] {
			u := s.users[n]
			list = append(list, map[string]any{"access_key": u.AccessKey, "secret_key": "**************", "vhosts": u.Vhosts})
		}
		json.NewEncoder(w).Encode(map[string]any{"users": list, "total": len(names)})
	case "CreateVhost":
		var in struct{ Name string }
		if json.Unmarshal(body, &in) != nil || in.Name == "" {
			s.fail(w, http.StatusBadRequest, "DMS.00400001", "Invalid request body.")
			return
		}
		if slices.Contains(s.vhosts, in.Name) {
			s.fail(w, http.StatusBadRequest, "DMS.00400500", "The vhost already exists.")
			return
		}
		s.addVhost(in.Name)
	case "BatchDeleteVhosts":
		var in struct{ Name []string }
		json.Unmarshal(body, &in)
		// The vhost created with the instance cannot be deleted (§6.5).
		if slices.Contains(in.Name, s.vhosts[0]) {
			s.fail(w, http.StatusBadRequest, "DMS.00400502", fmt.Sprintf("The vhost %s cannot be deleted.", s.vhosts[0]))
			return
		}
		// Deleting a vhost deletes its exchanges, queues and bindings.
		for _, v := range in.Name {
			delete(s.topology, v)
		}
		s.vhosts = slices.DeleteFunc(s.vhosts, func(v string) bool { return slices.Contains(in.Name, v) })
		w.WriteHeader(http.StatusNoContent)
	case "CreateUser", "UpdateUser":
		var in struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
			Vhosts    []Perm `json:"vhosts"`
		}
		if json.Unmarshal(body, &in) != nil {
			s.fail(w, http.StatusBadRequest, "DMS.00400001", "Invalid request body.")
			return
		}
		if op == "UpdateUser" && in.AccessKey != user {
			s.fail(w, http.StatusBadRequest, "DMS.00400026", "The access key cannot be changed.")
			return
		}
		if msg := checkUser(in.AccessKey, in.SecretKey); msg != "" {
			s.fail(w, http.StatusBadRequest, "DMS.00400026", msg)
			return
		}
		for _, p := range in.Vhosts {
			if !slices.Contains(s.vhosts, p.Vhost) {
				s.fail(w, http.StatusBadRequest, "DMS.00400501", fmt.Sprintf("The vhost %s does not exist.", p.Vhost))
				return
			}
		}
		_, exists := s.users[in.AccessKey]
		if op == "CreateUser" && exists {
			s.fail(w, http.StatusBadRequest, "DMS.00400027", "The user already exists.")
			return
		}
		if op == "UpdateUser" && !exists {
			s.fail(w, http.StatusNotFound, "DMS.00404027", "The user does not exist.")
			return
		}
		s.users[in.AccessKey] = &User{AccessKey: in.AccessKey, SecretKey: in.SecretKey, Vhosts: in.Vhosts}
		json.NewEncoder(w).Encode(map[string]any{"access_key": in.AccessKey, "secret_key": "**************", "vhosts": in.Vhosts})
	case "DeleteUser":
		if _, ok := s.users[user]; !ok {
			s.fail(w, http.StatusNotFound, "DMS.00404027", "The user does not exist.")
			return
		}
		delete(s.users, user)
		w.WriteHeader(http.StatusNoContent)
	}
}

// checkUser applies the documented access key and secret key rules.
func checkUser(ak, sk string) string {
	if !accessKey.MatchString(ak) {
		return "The access key must be 7-64 characters, start with a letter, and hold only letters, digits, - and _."
	}
	classes := 0
	for _, set := range []string{"ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz", "0123456789", "`~!@#$%^&*()-_=+\\|[{}];:'\",<.>/? "} {
		if strings.ContainsAny(sk, set) {
			classes++
		}
	}
	rev := []rune(ak)
	slices.Reverse(rev)
	if l := len([]rune(sk)); l < 8 || l > 32 || classes < 3 || sk == ak || sk == string(rev) || strings.HasPrefix(sk, "-") {
		return "The secret key does not meet the password rules."
	}
	return ""
}

// verify checks an SDK-HMAC-SHA256 signature, written from the contract
// (not from warren's signer, so that a mistake in one is not hidden by the
// same mistake in the other): the headers named in the Authorization
// header, the canonical URI with a trailing slash, the key used as is.
func verify(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "SDK-HMAC-SHA256 ")
	if !ok {
		//lint:ignore ST1005 the text is the message Huawei Cloud's API gateway sends, word for word
		return fmt.Errorf("Incorrect IAM authentication information: the request is not signed")
	}
	f := map[string]string{}
	for _, part := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		f[k] = v
	}
	if f["Access"] != AK {
		//lint:ignore ST1005 the text is the message Huawei Cloud's API gateway sends, word for word
		return fmt.Errorf("Incorrect IAM authentication information: unknown access key")
	}
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	path := r.URL.Path
	var segs []string
	for _, seg := range strings.Split(path, "/") {
		segs = append(segs, pct(seg))
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	canon.WriteString(uri + "\n")
	q := r.URL.Query()
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var qs []string
	for _, k := range keys {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			qs = append(qs, pct(k)+"="+pct(v))
		}
	}
	canon.WriteString(strings.Join(qs, "&") + "\n")
	for _, h := range strings.Split(f["SignedHeaders"], ";") {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canon.WriteString(h + ":" + strings.TrimSpace(v) + "\n")
	}
	canon.WriteString("\n" + f["SignedHeaders"] + "\n")
	bodySum := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(bodySum[:]))
	creq := sha256.Sum256([]byte(canon.String()))
	mac := hmac.New(sha256.New, []byte(SK))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + r.Header.Get("X-Sdk-Date") + "\n" + hex.EncodeToString(creq[:])))
	if hex.EncodeToString(mac.Sum(nil)) != f["Signature"] {
		//lint:ignore ST1005 the text is the message Huawei Cloud's API gateway sends, word for word
		return fmt.Errorf("Incorrect IAM authentication information: verify aksk signature fail")
	}
	return nil
}

func pct(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}
