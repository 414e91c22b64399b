// Package amazonmqactivemq is warren's seeder for Amazon MQ for ActiveMQ: users
// only (username, password, groups, console access, replication user),
// through the Amazon MQ API with the AWS SDK for Go v2 (service/mq).
// Credentials come from the standard AWS sources (environment, shared
// files, SSO, instance roles).
//
// Amazon MQ applies user changes only when the broker reboots. Read reports
// each user as it will be after the reboot, so a change that is waiting
// counts as done (otherwise every run would make it again), and says which
// users have one waiting.
package amazonmqactivemq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/mq"
	"github.com/aws/aws-sdk-go-v2/service/mq/types"
	"github.com/aws/smithy-go"
	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/internal/httpapi"
)

// Config says which broker to reach and how.
type Config struct {
	BrokerID string
	// Region; "" means the standard sources' (AWS_REGION, shared config).
	Region string
	// Endpoint overrides the API's URL (a VPC endpoint, a test server); ""
	// means AWS's, or AWS_ENDPOINT_URL_MQ.
	Endpoint string
	// MaxAttempts for each call (the SDK retries throttling and 5xx); 0
	// means the SDK's default.
	MaxAttempts int
}

// Client talks to one broker's users API.
type Client struct {
	api    *mq.Client
	broker string
	cfg    Config
	// secrets are the passwords sent: masked in every text of the API's.
	secrets *httpapi.Secrets
}

// New loads AWS credentials and configuration from the standard sources.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.BrokerID == "" {
		return nil, errors.New("amazonmq: no broker: set --broker-id or WARREN_BROKER_ID")
	}
	var load []func(*config.LoadOptions) error
	if cfg.Region != "" {
		load = append(load, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("amazonmq: loading AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("amazonmq: no region: set --region or AWS_REGION")
	}
	api := mq.NewFromConfig(awsCfg, func(o *mq.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if cfg.MaxAttempts > 0 {
			o.RetryMaxAttempts = cfg.MaxAttempts
		}
		o.HTTPClient = noRedirects{&http.Client{Transport: awshttp.NewBuildableClient().GetTransport(),
			CheckRedirect: httpapi.NoRedirects}}
	})
	return &Client{api: api, broker: cfg.BrokerID, cfg: cfg, secrets: &httpapi.Secrets{}}, nil
}

// noRedirects is the SDK's HTTP client with two limits: a redirect is an
// error (the SDK follows 307 and 308 to any host, with the request's body,
// which holds a user's password on CreateUser and UpdateUser), and an
// answer is read up to maxAnswer.
type noRedirects struct{ c *http.Client }

// maxAnswer bounds what warren reads of one answer (a page of 100 users).
const maxAnswer = 16 << 20

func (n noRedirects) Do(req *http.Request) (*http.Response, error) {
	for _, seg := range strings.Split(req.URL.Path, "/") {
		if definitions.DotSegment(seg) {
			return nil, fmt.Errorf("amazonmq: refusing to send %s %s: the name %q is a dot segment, which the server would resolve to another object", req.Method, req.URL.Path, seg)
		}
	}
	resp, err := n.c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		resp.Body.Close()
		base := *req.URL
		base.Path, base.RawPath, base.RawQuery = "", "", ""
		return nil, httpapi.RedirectError(resp, "amazonmq", &base, req.URL.EscapedPath(), "--endpoint")
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: maxAnswer}
	return resp, nil
}

// cappedBody fails a read past its bound.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("the answer is larger than %d MiB; warren stops reading there", maxAnswer>>20)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// wrap keeps the API's own error code and message, with the call and
// user; the API may repeat what it refuses, a password included, so its
// text is masked and made safe to print.
func (c *Client) wrap(op, user string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("amazonmq: %s %s: %s: %s", op, user,
			httpapi.Printable(c.secrets.Mask(ae.ErrorCode())), httpapi.Printable(c.secrets.Mask(ae.ErrorMessage())))
	}
	return fmt.Errorf("amazonmq: %s %s: %w", op, user, err)
}

func notFound(err error) bool {
	var nf *types.NotFoundException
	return errors.As(err, &nf)
}

// Read lists the broker's users (following nextToken, 100 a page; the SDK
// has no paginator for it) and describes each, as they will be after the
// next reboot. Pending maps users with a change waiting to its kind
// (CREATE, UPDATE, DELETE).
func (c *Client) Read(ctx context.Context) (doc *definitions.Document, pending map[string]string, err error) {
	doc = &definitions.Document{Users: []*definitions.User{}}
	pending = map[string]string{}
	var token *string
	for {
		out, err := c.api.ListUsers(ctx, &mq.ListUsersInput{BrokerId: &c.broker, MaxResults: aws.Int32(100), NextToken: token})
		if err != nil {
			return nil, nil, c.wrap("ListUsers", "", err)
		}
		for _, s := range out.Users {
			u, change, err := c.describe(ctx, aws.ToString(s.Username))
			if err != nil {
				return nil, nil, err
			}
			if change != "" {
				pending[u.Name] = change
			}
			if change != string(types.ChangeTypeDelete) {
				doc.Users = append(doc.Users, u)
			}
		}
		if token = out.NextToken; token == nil || *token == "" {
			break
		}
	}
	return doc, pending, nil
}

func (c *Client) describe(ctx context.Context, name string) (*definitions.User, string, error) {
	d, err := c.api.DescribeUser(ctx, &mq.DescribeUserInput{BrokerId: &c.broker, Username: &name})
	if err != nil {
		return nil, "", c.wrap("DescribeUser", name, err)
	}
	a := &definitions.ActiveMQUser{Groups: d.Groups, ConsoleAccess: d.ConsoleAccess, ReplicationUser: d.ReplicationUser}
	change := ""
	if p := d.Pending; p != nil {
		change = string(p.PendingChange)
		if p.ConsoleAccess != nil {
			a.ConsoleAccess = p.ConsoleAccess
		}
		if p.Groups != nil {
			a.Groups = p.Groups
		}
	}
	if a.Groups == nil {
		a.Groups = []string{}
	}
	return &definitions.User{Name: name, ActiveMQ: a}, change, nil
}

// Apply carries out a plan of user changes: CreateUser (with the password),
// UpdateUser (with the password only when the plan says it changes, that
// is with --update-passwords), DeleteUser (a 404 is done). It stops at the
// first failure with a *plan.ApplyError.
func (c *Client) Apply(ctx context.Context, p *plan.Plan, opts seeders.ApplyOptions) error {
	var done []plan.Change
	for i, ch := range p.Changes {
		select {
		case <-opts.Stop:
			return &plan.ApplyError{Done: done, Remaining: p.Changes[i:], Err: seeders.ErrInterrupted}
		default:
		}
		if err := c.apply(ctx, ch); err != nil {
			return &plan.ApplyError{Done: done, Failed: []plan.Change{ch}, Remaining: p.Changes[i+1:], Err: err}
		}
		done = append(done, ch)
		if opts.Progress != nil {
			opts.Progress(seeders.Progress{What: "user", Changes: []plan.Change{ch}, Done: len(done), Total: len(p.Changes)})
		}
	}
	return nil
}

func (c *Client) apply(ctx context.Context, ch plan.Change) error {
	if ch.Kind != definitions.KindUser {
		return fmt.Errorf("amazonmq: %s: Amazon MQ for ActiveMQ has users only", ch.Addr)
	}
	switch ch.Action {
	case plan.Delete:
		name := ch.Before.(*definitions.User).Name
		_, err := c.api.DeleteUser(ctx, &mq.DeleteUserInput{BrokerId: &c.broker, Username: &name})
		if err != nil && !notFound(err) {
			return c.wrap("DeleteUser", name, err)
		}
		return nil
	case plan.Create, plan.Update:
		u := ch.After.(*definitions.User)
		a := u.ActiveMQ
		if a == nil {
			a = &definitions.ActiveMQUser{}
		}
		var password *string
		if ch.Action == plan.Create || slices.ContainsFunc(ch.Fields, func(f plan.FieldChange) bool { return f.Field == "password" }) {
			if u.Password == nil {
				return fmt.Errorf("amazonmq: %s: a password is needed", ch.Addr)
			}
			pw, err := definitions.ResolveSecret(u.Password)
			if err != nil {
				return fmt.Errorf("amazonmq: %s: %w", ch.Addr, err)
			}
			c.secrets.Add(pw)
			password = &pw
		}
		groups := a.Groups
		if groups == nil {
			groups = []string{}
		}
		if ch.Action == plan.Create {
			_, err := c.api.CreateUser(ctx, &mq.CreateUserInput{BrokerId: &c.broker, Username: &u.Name, Password: password,
				ConsoleAccess: a.ConsoleAccess, Groups: groups, ReplicationUser: a.ReplicationUser})
			if err != nil {
				return c.wrap("CreateUser", u.Name, err)
			}
			return nil
		}
		_, err := c.api.UpdateUser(ctx, &mq.UpdateUserInput{BrokerId: &c.broker, Username: &u.Name, Password: password,
			ConsoleAccess: aws.Bool(a.ConsoleAccess != nil && *a.ConsoleAccess), Groups: groups,
			ReplicationUser: aws.Bool(a.ReplicationUser != nil && *a.ReplicationUser)})
		if err != nil {
			return c.wrap("UpdateUser", u.Name, err)
		}
		return nil
	}
	return fmt.Errorf("amazonmq: %s: cannot %s", ch.Addr, ch.Action.Verb())
}

// Reboot reboots the broker, which applies the pending user changes.
func (c *Client) Reboot(ctx context.Context) error {
	if _, err := c.api.RebootBroker(ctx, &mq.RebootBrokerInput{BrokerId: &c.broker}); err != nil {
		return c.wrap("RebootBroker", c.broker, err)
	}
	return nil
}
