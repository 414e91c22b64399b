// Package amazonmqfake is a local stand-in for the Amazon MQ users API
// (ActiveMQ brokers), for tests: it follows docs/cloud-apis.md §1 —
// paths and methods, status codes, error bodies with the X-Amzn-ErrorType
// header the AWS SDK reads, ListUsers paging with maxResults 5-100, the
// documented constraints, changes that stay pending until a reboot, and
// SigV4 signatures, verified (a request signed with the wrong key is
// refused). It can also throttle, fail with 5xx and drop connections.
package amazonmqfake

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

// The credentials the fake accepts.
const (
	AccessKey = "AKIDWARRENTEST"
	SecretKey = "warren-test-secret"
	Region    = "us-east-1"
)

// User is one broker user, as applied and as pending.
type User struct {
	Username        string
	ConsoleAccess   bool
	Groups          []string
	ReplicationUser bool
	Password        string // the fake keeps it, so tests can check it was set
	Applied         bool   // false until a reboot applies its creation
	Pending         string // CREATE, UPDATE, DELETE or ""
	PendingConsole  *bool
	PendingGroups   []string
}

// Server is a fake Amazon MQ API for one or more brokers.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	brokers map[string]map[string]*User
	// Faults: the next N requests to an operation fail this way.
	faults map[string][]int // op → statuses (0 drops the connection)
	// Calls counts requests by operation.
	Calls map[string]int
}

// New starts a fake with the given broker IDs, empty.
func New(brokers ...string) *Server {
	s := &Server{brokers: map[string]map[string]*User{}, faults: map[string][]int{}, Calls: map[string]int{}}
	for _, b := range brokers {
		s.brokers[b] = map[string]*User{}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Fail makes the next requests to op ("ListUsers", "CreateUser", …) fail
// with these statuses: 429 throttles, 5xx fails, 0 drops the connection,
// and 200 lets that one request through.
func (s *Server) Fail(op string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], statuses...)
}

// Users returns a broker's users, for tests to look at.
func (s *Server) Users(broker string) map[string]User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]User{}
	for k, u := range s.brokers[broker] {
		out[k] = *u
	}
	return out
}

// Reboot applies a broker's pending changes (as a maintenance window would).
func (s *Server) Reboot(broker string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reboot(broker)
}

func (s *Server) reboot(broker string) {
	for name, u := range s.brokers[broker] {
		switch u.Pending {
		case "DELETE":
			delete(s.brokers[broker], name)
			continue
		case "UPDATE":
			if u.PendingConsole != nil {
				u.ConsoleAccess = *u.PendingConsole
			}
			if u.PendingGroups != nil {
				u.Groups = u.PendingGroups
			}
		}
		u.Applied, u.Pending, u.PendingConsole, u.PendingGroups = true, "", nil, nil
	}
}

var (
	name  = regexp.MustCompile(`^[A-Za-z0-9._~-]{2,100}$`)
	route = regexp.MustCompile(`^/v1/brokers/([^/]+)/(users(?:/([^/]+))?|reboot)$`)
)

// apiError writes an error the way the AWS SDK reads it.
func apiError(w http.ResponseWriter, status int, typ, attribute, message string) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"errorAttribute": attribute, "message": message})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := verifySigV4(r, body); err != nil {
		apiError(w, http.StatusForbidden, "ForbiddenException", "", err.Error())
		return
	}
	m := route.FindStringSubmatch(r.URL.EscapedPath())
	if m == nil {
		apiError(w, http.StatusNotFound, "NotFoundException", "", "no such resource")
		return
	}
	broker := m[1]
	user, _ := url.PathUnescape(m[3])
	op := ""
	switch {
	case m[2] == "reboot" && r.Method == http.MethodPost:
		op = "RebootBroker"
	case m[3] == "" && r.Method == http.MethodGet:
		op = "ListUsers"
	case m[3] != "":
		op = map[string]string{"GET": "DescribeUser", "POST": "CreateUser", "PUT": "UpdateUser", "DELETE": "DeleteUser"}[r.Method]
	}
	if op == "" {
		apiError(w, http.StatusNotFound, "NotFoundException", "", "no such operation")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls[op]++
	if f := s.faults[op]; len(f) > 0 {
		s.faults[op] = f[1:]
		switch status := f[0]; {
		case status == http.StatusOK:
			// this one goes through
		case status == 0:
			if hj, ok := w.(http.Hijacker); ok {
				conn, _, _ := hj.Hijack()
				conn.Close()
				return
			}
		case status == http.StatusTooManyRequests:
			apiError(w, status, "TooManyRequestsException", "", "Rate exceeded")
			return
		default:
			apiError(w, status, "InternalServerErrorException", "", "We encountered an internal error. Please try again.")
			return
		}
	}
	users, ok := s.brokers[broker]
	if !ok {
		apiError(w, http.StatusNotFound, "NotFoundException", "broker-id", fmt.Sprintf("Can't find requested broker [%s]. Make sure your broker exists.", broker))
		return
	}
	switch op {
	case "RebootBroker":
		s.reboot(broker)
		w.Write([]byte("{}"))
	case "ListUsers":
		s.list(w, r, broker, users)
	case "DescribeUser":
		u, ok := users[user]
		if !ok {
			apiError(w, http.StatusNotFound, "NotFoundException", "username", fmt.Sprintf("Can't find requested user [%s]. Make sure your user exists.", user))
			return
		}
		out := map[string]any{"brokerId": broker, "username": u.Username, "consoleAccess": u.ConsoleAccess, "groups": u.Groups, "replicationUser": u.ReplicationUser}
		if u.Pending != "" {
			p := map[string]any{"pendingChange": u.Pending}
			if u.Pending == "CREATE" {
				p["consoleAccess"], p["groups"] = u.ConsoleAccess, u.Groups
			}
			if u.PendingConsole != nil {
				p["consoleAccess"] = *u.PendingConsole
			}
			if u.PendingGroups != nil {
				p["groups"] = u.PendingGroups
			}
			out["pending"] = p
		}
		json.NewEncoder(w).Encode(out)
	case "CreateUser", "UpdateUser":
		s.write(w, op, broker, user, users, body)
	case "DeleteUser":
		u, ok := users[user]
		if !ok {
			apiError(w, http.StatusNotFound, "NotFoundException", "username", fmt.Sprintf("Can't find requested user [%s]. Make sure your user exists.", user))
			return
		}
		if !u.Applied {
			delete(users, user) // a creation still pending is simply dropped
		} else {
			u.Pending = "DELETE"
		}
		w.Write([]byte("{}"))
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, broker string, users map[string]*User) {
	max := 20
	if v := r.URL.Query().Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			apiError(w, http.StatusBadRequest, "BadRequestException", "maxResults", "maxResults must be between 5 and 100")
			return
		}
		max = n
	}
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	start := 0
	if tok := r.URL.Query().Get("nextToken"); tok != "" {
		start = slices.Index(names, tok)
		if start < 0 {
			apiError(w, http.StatusBadRequest, "BadRequestException", "nextToken", "invalid nextToken")
			return
		}
	}
	end := min(start+max, len(names))
	items := []map[string]any{}
	for _, n := range names[start:end] {
		item := map[string]any{"username": n}
		if p := users[n].Pending; p != "" {
			item["pendingChange"] = p
		}
		items = append(items, item)
	}
	out := map[string]any{"brokerId": broker, "maxResults": max, "users": items}
	if end < len(names) {
		out["nextToken"] = names[end]
	}
	json.NewEncoder(w).Encode(out)
}

func (s *Server) write(w http.ResponseWriter, op, broker, user string, users map[string]*User, body []byte) {
	var in struct {
		Password        *string  `json:"password"`
		ConsoleAccess   *bool    `json:"consoleAccess"`
		Groups          []string `json:"groups"`
		ReplicationUser *bool    `json:"replicationUser"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestException", "", "the body is not JSON")
		return
	}
	if !name.MatchString(user) {
		apiError(w, http.StatusBadRequest, "BadRequestException", "username", "Username must be 2-100 characters of alphanumerics, dashes, periods, underscores and tildes")
		return
	}
	if in.Password != nil {
		pw := *in.Password
		unique := map[rune]bool{}
		for _, r := range pw {
			unique[r] = true
		}
		if len([]rune(pw)) < 12 || len(unique) < 4 || strings.ContainsAny(pw, ",:=") {
			apiError(w, http.StatusBadRequest, "BadRequestException", "password", "Password must be at least 12 characters long, contain at least 4 unique characters, and must not contain commas, colons, or equal signs")
			return
		}
	} else if op == "CreateUser" {
		apiError(w, http.StatusBadRequest, "BadRequestException", "password", "password is required")
		return
	}
	if len(in.Groups) > 20 || slices.ContainsFunc(in.Groups, func(g string) bool { return !name.MatchString(g) }) {
		apiError(w, http.StatusBadRequest, "BadRequestException", "groups", "At most 20 groups of 2-100 alphanumerics, dashes, periods, underscores and tildes")
		return
	}
	if in.ConsoleAccess != nil && *in.ConsoleAccess && in.ReplicationUser != nil && *in.ReplicationUser {
		apiError(w, http.StatusBadRequest, "BadRequestException", "replicationUser", "Replication user couldn't have console access. [replicationUser] and [consoleAccess] are mutually exclusive parameters.")
		return
	}
	u, exists := users[user]
	switch {
	case op == "CreateUser" && exists:
		apiError(w, http.StatusConflict, "ConflictException", "username", "User already exists")
		return
	case op == "UpdateUser" && !exists:
		apiError(w, http.StatusNotFound, "NotFoundException", "username", fmt.Sprintf("Can't find requested user [%s]. Make sure your user exists.", user))
		return
	case op == "CreateUser":
		u = &User{Username: user, Pending: "CREATE", Password: *in.Password, Groups: in.Groups}
		if in.ConsoleAccess != nil {
			u.ConsoleAccess = *in.ConsoleAccess
		}
		if in.ReplicationUser != nil {
			u.ReplicationUser = *in.ReplicationUser
		}
		users[user] = u
	default:
		if in.Password != nil {
			u.Password = *in.Password
		}
		if !u.Applied { // still pending creation: change it in place
			if in.ConsoleAccess != nil {
				u.ConsoleAccess = *in.ConsoleAccess
			}
			if in.Groups != nil {
				u.Groups = in.Groups
			}
		} else {
			u.Pending = "UPDATE"
			u.PendingConsole, u.PendingGroups = in.ConsoleAccess, in.Groups
		}
		if in.ReplicationUser != nil {
			u.ReplicationUser = *in.ReplicationUser
		}
	}
	w.Write([]byte("{}"))
}

// verifySigV4 checks an AWS Signature Version 4 as the SDK makes it for
// this service (no X-Amz-Content-Sha256: the payload hash is computed).
func verifySigV4(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	const alg = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, alg) {
		return fmt.Errorf("missing Authentication Token")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, alg), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 5 || cred[0] != AccessKey || cred[3] != "mq" || cred[4] != "aws4_request" {
		//lint:ignore ST1005 the text is the message Amazon MQ sends, word for word
		return fmt.Errorf("The security token included in the request is invalid.")
	}
	date, region := cred[1], cred[2]
	amzDate := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(amzDate, date) {
		return fmt.Errorf("the credential scope date does not match X-Amz-Date")
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	var headers strings.Builder
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		if h == "content-length" {
			v = strconv.Itoa(len(body))
		}
		headers.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	// The canonical URI is the escaped path escaped once more.
	segs := strings.Split(r.URL.EscapedPath(), "/")
	for i, seg := range segs {
		segs[i] = awsEscape(seg)
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var query []string
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			query = append(query, awsEscape(k)+"="+awsEscape(v))
		}
	}
	payload := sha256.Sum256(body)
	canonical := strings.Join([]string{r.Method, strings.Join(segs, "/"), strings.Join(query, "&"), headers.String(), fields["SignedHeaders"], hex.EncodeToString(payload[:])}, "\n")
	sum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(cred[1:], "/") + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + SecretKey)
	for _, part := range []string{date, region, "mq", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	if hex.EncodeToString(hmacSHA256(key, toSign)) != fields["Signature"] {
		//lint:ignore ST1005 the text is the message Amazon MQ sends, word for word
		return fmt.Errorf("The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// awsEscape percent-encodes all but A-Z a-z 0-9 - . _ ~, as SigV4 does.
func awsEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
