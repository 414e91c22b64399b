// Package huaweicloud is warren's seeder for Huawei Cloud DMS for RabbitMQ:
// users (access key and secret key) with per-vhost configure/write/read
// patterns (the AMQP-0-9-1 edition with ACL on), vhosts, and exchanges,
// queues and bindings (both editions; topology.go), through the DMS API,
// signed with AK/SK (SDK-HMAC-SHA256) or an IAM token.
//
// The mapping: a warren user is a DMS user (name = access_key, password =
// secret_key); the user's permissions are the DMS user's "vhosts" list
// ({vhost, conf, write, read}); vhosts are DMS vhosts. DMS never returns
// secret keys, so a user's secret key is set on creation, and on update
// only with --update-passwords. DMS replaces a user whole on update, so any
// change to a user's permissions sends all of them, with the secret key.
package huaweicloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/internal/httpapi"
)

// Config says which instance to reach and how to sign.
type Config struct {
	// Endpoint is https://dms.{region}.myhuaweicloud.com.
	Endpoint   string
	ProjectID  string
	InstanceID string
	// AK and SK sign requests; Token (an IAM token) replaces them.
	AK, SK, Token string
	Timeout       time.Duration
	// Edition is the instance's edition: EditionAMQP ("" too) or
	// Edition3x, whose users DMS does not manage.
	Edition string
}

// Client talks to one DMS instance.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
	// secrets are the secret keys sent: masked in every text of the API's.
	secrets *httpapi.Secrets
}

// New checks the configuration.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("huaweicloud: no endpoint: set --endpoint (https://dms.REGION.myhuaweicloud.com)")
	case cfg.ProjectID == "" || cfg.InstanceID == "":
		return nil, errors.New("huaweicloud: set --project-id and --instance-id")
	case cfg.Token == "" && (cfg.AK == "" || cfg.SK == ""):
		return nil, errors.New("huaweicloud: no credentials: set HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or HUAWEICLOUD_TOKEN)")
	}
	switch cfg.Edition {
	case "":
		cfg.Edition = EditionAMQP
	case EditionAMQP, Edition3x:
	default:
		return nil, fmt.Errorf("huaweicloud: unknown edition %q: use %s or %s", cfg.Edition, EditionAMQP, Edition3x)
	}
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("huaweicloud: %q is not a URL", cfg.Endpoint)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	// Redirects are never followed: the X-Auth-Token (or a signed request
	// with a secret key in its body) would go to wherever the server points.
	hc := &http.Client{Timeout: cfg.Timeout, CheckRedirect: httpapi.NoRedirects}
	return &Client{cfg: cfg, base: u, http: hc, secrets: &httpapi.Secrets{}}, nil
}

// APIError is an error answer of the DMS API.
type APIError struct {
	Method, Path string
	Status       int
	Code         string // error_code, e.g. DMS.00400026
	Message      string // error_msg
	RequestID    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("huaweicloud: %s %s: %d %s: %s (request %s)", e.Method, e.Path, e.Status,
		httpapi.Printable(e.Code), httpapi.Printable(e.Message), httpapi.Printable(e.RequestID))
}

// maxAnswer bounds what warren reads of one answer (a page of 50 users).
const maxAnswer = 16 << 20

func (c *Client) usersPath() string {
	return "/v2/" + c.cfg.ProjectID + "/instances/" + c.cfg.InstanceID + "/users"
}

func (c *Client) vhostsPath() string {
	return "/v2/rabbitmq/" + c.cfg.ProjectID + "/instances/" + c.cfg.InstanceID + "/vhosts"
}

// do sends a signed request; GET, PUT and DELETE are retried after
// connection errors, throttling and 5xx answers.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
	}
	// A POST is sent again only when its connection was refused.
	retry := method != http.MethodPost
	return httpapi.Retry(ctx, 3, func(n int) time.Duration { return time.Duration(n) * 300 * time.Millisecond }, func() (bool, error) {
		again, err := c.once(ctx, method, path, query, data, out)
		return again && (retry || httpapi.Refused(err)), err
	})
}

func (c *Client) once(ctx context.Context, method, path string, query url.Values, data []byte, out any) (retry bool, err error) {
	// path is escaped: each name in it went through seg.
	for _, s := range strings.Split(path, "/") {
		if name, err := url.PathUnescape(s); err != nil || definitions.DotSegment(name) {
			return false, fmt.Errorf("huaweicloud: refusing to send %s %s: the name %q is a dot segment, which the server would resolve to another object", method, path, name)
		}
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return false, err
	}
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", c.cfg.ProjectID)
	if c.cfg.Token != "" {
		req.Header.Set("X-Auth-Token", c.cfg.Token)
	} else {
		Sign(req, data, c.cfg.AK, c.cfg.SK, time.Now())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return true, fmt.Errorf("huaweicloud: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return false, httpapi.RedirectError(resp, "huaweicloud", c.base, path, "--endpoint")
	}
	b, over, err := httpapi.ReadBounded(resp.Body, resp.ContentLength, maxAnswer)
	if err != nil {
		return true, fmt.Errorf("huaweicloud: %s %s: reading the answer: %w", method, path, err)
	}
	if over {
		return false, fmt.Errorf("huaweicloud: %s %s: the answer is larger than %d MiB; warren stops reading there", method, path, maxAnswer>>20)
	}
	if resp.StatusCode >= 400 {
		ae := &APIError{Method: method, Path: path, Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
		var eb struct {
			ErrorCode string `json:"error_code"`
			ErrorMsg  string `json:"error_msg"`
		}
		if json.Unmarshal(b, &eb) == nil {
			// The API may repeat what it refuses, a secret key included:
			// masked before anything can show it.
			ae.Code, ae.Message = c.secrets.Mask(eb.ErrorCode), c.secrets.Mask(eb.ErrorMsg)
		}
		return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, ae
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return false, fmt.Errorf("huaweicloud: %s %s: the answer is not the JSON expected: %w", method, path, err)
		}
	}
	return false, nil
}

// amqpUser is a DMS user.
type amqpUser struct {
	AccessKey string     `json:"access_key"`
	SecretKey string     `json:"secret_key,omitempty"`
	Vhosts    []userPerm `json:"vhosts"`
}

type userPerm struct {
	Vhost string `json:"vhost"`
	Conf  string `json:"conf"`
	Write string `json:"write"`
	Read  string `json:"read"`
}

const pageSize = 50 // the API's maximum

// Read lists the instance's users (on the AMQP-0-9-1 edition), vhosts,
// exchanges, queues and bindings, page by page, as a definitions document
// (users without secret keys, which DMS never returns).
func (c *Client) Read(ctx context.Context) (*definitions.Document, error) {
	return c.ReadKinds(ctx, nil)
}

// ReadKinds is Read of the kinds asked for (nil: all): vhosts always,
// users with users or permissions, exchanges with exchanges or bindings
// (which are listed per exchange), queues with queues.
func (c *Client) ReadKinds(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	wants := func(ks ...definitions.Kind) bool {
		return kinds == nil || slices.ContainsFunc(ks, func(k definitions.Kind) bool { return slices.Contains(kinds, k) })
	}
	doc := &definitions.Document{Vhosts: []*definitions.Vhost{}}
	readUsers := c.cfg.Edition != Edition3x && wants(definitions.KindUser, definitions.KindPermission)
	if readUsers {
		doc.Users, doc.Permissions = []*definitions.User{}, []*definitions.Permission{}
	}
	for offset := 0; readUsers; {
		var page struct {
			Users []amqpUser `json:"users"`
			Total int        `json:"total"`
		}
		// GET /v2/{project_id}/instances/{instance_id}/users
		if err := c.do(ctx, http.MethodGet, c.usersPath(), url.Values{"offset": {fmt.Sprint(offset)}, "limit": {fmt.Sprint(pageSize)}}, nil, &page); err != nil {
			return nil, err
		}
		for _, u := range page.Users {
			doc.Users = append(doc.Users, &definitions.User{Name: u.AccessKey})
			for _, p := range u.Vhosts {
				doc.Permissions = append(doc.Permissions, &definitions.Permission{User: u.AccessKey, Vhost: p.Vhost, Configure: p.Conf, Write: p.Write, Read: p.Read})
			}
		}
		offset += len(page.Users)
		if len(page.Users) == 0 || offset >= page.Total {
			break
		}
	}
	// GET /v2/rabbitmq/{project_id}/instances/{instance_id}/vhosts
	vhosts, err := list[struct {
		Name string `json:"name"`
	}](ctx, c, c.vhostsPath())
	if err != nil {
		return nil, err
	}
	for _, v := range vhosts {
		doc.Vhosts = append(doc.Vhosts, &definitions.Vhost{Name: v.Name})
	}
	if err := c.readTopology(ctx, doc, wants(definitions.KindExchange, definitions.KindBinding), wants(definitions.KindQueue)); err != nil {
		return nil, err
	}
	return doc, nil
}

// Apply carries out a plan. First, before anything changes, it refuses
// replacements without opts.Replace and the loss of messages without
// opts.DestroyMessages. Then: vhosts created; exchanges, queues and
// bindings created or replaced, in plan order; each user created or
// replaced whole (its secret key and all its permissions) when it or any
// of its permissions changes; bindings deleted one by one and exchanges
// and queues in one batch per vhost, in plan order; users deleted; vhosts
// deleted in one batch. It stops at the first failure with a
// *plan.ApplyError.
func (c *Client) Apply(ctx context.Context, p *plan.Plan, opts seeders.ApplyOptions) error {
	var done []plan.Change
	remaining := slices.Clone(p.Changes)
	step := func(err error, chs ...plan.Change) error {
		if err != nil {
			rest := slices.DeleteFunc(slices.Clone(remaining), func(r plan.Change) bool {
				return slices.ContainsFunc(chs, func(c plan.Change) bool { return c.Addr == r.Addr })
			})
			return &plan.ApplyError{Done: done, Failed: chs, Remaining: rest, Err: err}
		}
		done = append(done, chs...)
		remaining = slices.DeleteFunc(remaining, func(r plan.Change) bool {
			return slices.ContainsFunc(chs, func(c plan.Change) bool { return c.Addr == r.Addr })
		})
		if opts.Progress != nil {
			opts.Progress(seeders.Progress{What: "request", Changes: chs, Done: len(done), Total: len(p.Changes)})
		}
		select {
		case <-opts.Stop:
			if len(remaining) > 0 {
				return &plan.ApplyError{Done: done, Remaining: remaining, Err: seeders.ErrInterrupted}
			}
		default:
		}
		return nil
	}
	byKind := func(k definitions.Kind, actions ...plan.Action) []plan.Change {
		var out []plan.Change
		for _, ch := range p.Changes {
			if ch.Kind == k && slices.Contains(actions, ch.Action) {
				out = append(out, ch)
			}
		}
		return out
	}
	// Users to write whole (StepWriteUser), with the changes that make
	// them; deleting a user takes its permissions with it.
	touched := map[string][]plan.Change{}
	whole := map[string]*plan.WholeUser{}
	created := map[string]bool{}
	var names []string
	deleted := map[string][]plan.Change{}
	var topology, topologyDeletes []plan.Change
	for _, ch := range p.Changes {
		switch {
		case ch.Step == plan.StepWriteUser:
			name := ch.User.Name()
			if _, ok := touched[name]; !ok {
				names = append(names, name)
			}
			touched[name] = append(touched[name], ch)
			whole[name] = ch.User
			created[name] = created[name] || ch.Kind == definitions.KindUser && ch.Action == plan.Create
		case ch.Step == plan.StepDelete && ch.Kind == definitions.KindPermission:
			user := ch.Before.(*definitions.Permission).User
			deleted[user] = append(deleted[user], ch)
		case ch.Step == plan.StepDelete && (ch.Kind == definitions.KindUser || ch.Kind == definitions.KindVhost),
			ch.Step == plan.StepCreate && ch.Kind == definitions.KindVhost:
		case topologyKind(ch.Kind) && ch.Step == plan.StepDelete:
			topologyDeletes = append(topologyDeletes, ch)
		case topologyKind(ch.Kind) && (ch.Step == plan.StepCreate || ch.Step == plan.StepReplace || ch.Step == plan.StepRebind):
			topology = append(topology, ch)
		default:
			return &plan.ApplyError{Remaining: p.Changes, Err: fmt.Errorf("huaweicloud: %s: DMS has no way to carry out step %q", ch.Addr, ch.Step)}
		}
	}
	if err := c.checkMessages(ctx, p, opts.Replace, opts.DestroyMessages); err != nil {
		return &plan.ApplyError{Remaining: p.Changes, Err: err}
	}
	for _, ch := range byKind(definitions.KindVhost, plan.Create) {
		// PUT /v2/rabbitmq/{project_id}/instances/{instance_id}/vhosts creates one
		err := c.do(ctx, http.MethodPut, c.vhostsPath(), nil, map[string]string{"name": ch.After.(*definitions.Vhost).Name}, nil)
		if err := step(err, ch); err != nil {
			return err
		}
	}
	for _, ch := range topology {
		var err error
		if ch.Action == plan.Replace {
			// Deleting it takes its bindings; the plan binds it again.
			switch o := ch.Before.(type) {
			case *definitions.Exchange:
				err = c.batchDelete(ctx, o.Vhost, "exchanges", []string{o.Name})
			case *definitions.Queue:
				err = c.batchDelete(ctx, o.Vhost, "queues", []string{o.Name})
			}
		}
		if err == nil {
			switch o := ch.After.(type) {
			case *definitions.Exchange:
				err = c.createExchange(ctx, o)
			case *definitions.Queue:
				err = c.createQueue(ctx, o)
			case *definitions.Binding:
				err = c.createBinding(ctx, o)
			}
		}
		if err := step(err, ch); err != nil {
			return err
		}
	}
	slices.Sort(names)
	for _, name := range names {
		err := c.writeUser(ctx, whole[name], created[name])
		if err := step(err, touched[name]...); err != nil {
			return err
		}
	}
	// Deletions in plan order (bindings, then queues, then exchanges): a
	// run of queues or exchanges goes in one request per vhost.
	for i := 0; i < len(topologyDeletes); {
		ch := topologyDeletes[i]
		if b, ok := ch.Before.(*definitions.Binding); ok {
			if err := step(c.deleteBinding(ctx, b), ch); err != nil {
				return err
			}
			i++
			continue
		}
		j := i
		for j < len(topologyDeletes) && topologyDeletes[j].Kind == ch.Kind {
			j++
		}
		run := topologyDeletes[i:j]
		collection := map[definitions.Kind]string{definitions.KindQueue: "queues", definitions.KindExchange: "exchanges"}[ch.Kind]
		var vhosts []string
		byVhost := map[string][]plan.Change{}
		for _, d := range run {
			v := d.Before.VhostName()
			if _, ok := byVhost[v]; !ok {
				vhosts = append(vhosts, v)
			}
			byVhost[v] = append(byVhost[v], d)
		}
		for _, v := range vhosts {
			var names []string
			for _, d := range byVhost[v] {
				switch o := d.Before.(type) {
				case *definitions.Queue:
					names = append(names, o.Name)
				case *definitions.Exchange:
					names = append(names, o.Name)
				}
			}
			if err := step(c.batchDelete(ctx, v, collection, names), byVhost[v]...); err != nil {
				return err
			}
		}
		i = j
	}
	for _, ch := range byKind(definitions.KindUser, plan.Delete) {
		// DELETE /v2/{project_id}/instances/{instance_id}/users/{user_name}
		err := c.do(ctx, http.MethodDelete, c.usersPath()+"/"+seg(ch.Before.(*definitions.User).Name), nil, nil, nil)
		if gone(err) {
			err = nil
		}
		if err := step(err, append([]plan.Change{ch}, deleted[ch.Before.(*definitions.User).Name]...)...); err != nil {
			return err
		}
	}
	if dels := byKind(definitions.KindVhost, plan.Delete); len(dels) > 0 {
		var vhosts []string
		for _, ch := range dels {
			vhosts = append(vhosts, ch.Before.(*definitions.Vhost).Name)
		}
		// POST /v2/rabbitmq/{project_id}/instances/{instance_id}/vhosts deletes a batch
		err := c.do(ctx, http.MethodPost, c.vhostsPath(), nil, map[string][]string{"name": vhosts}, nil)
		if err := step(err, dels...); err != nil {
			return err
		}
	}
	return nil
}

// writeUser creates or replaces a user with its secret key and all the
// permissions the plan gives it.
func (c *Client) writeUser(ctx context.Context, w *plan.WholeUser, create bool) error {
	if w.User == nil || w.User.Password == nil {
		return fmt.Errorf("huaweicloud: user %q: DMS needs the user's secret key to change its permissions; the files give none", w.Name())
	}
	name := w.User.Name
	sk, err := definitions.ResolveSecret(w.User.Password)
	if err != nil {
		return fmt.Errorf("huaweicloud: user %q: %w", name, err)
	}
	c.secrets.Add(sk)
	u := amqpUser{AccessKey: name, SecretKey: sk, Vhosts: []userPerm{}}
	for _, p := range w.Permissions {
		u.Vhosts = append(u.Vhosts, userPerm{Vhost: p.Vhost, Conf: p.Configure, Write: p.Write, Read: p.Read})
	}
	if create {
		// POST /v2/{project_id}/instances/{instance_id}/users
		return c.do(ctx, http.MethodPost, c.usersPath(), nil, u, nil)
	}
	// PUT /v2/{project_id}/instances/{instance_id}/users/{user_name}
	return c.do(ctx, http.MethodPut, c.usersPath()+"/"+seg(name), nil, u, nil)
}
