package rabbitmq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/schema"
	"github.com/warren-tool/warren/seeders/internal/httpapi"
)

// Read returns the broker's definitions: GET /api/definitions, decoded as
// it arrives (decodeDefinitions, or the slow path through the schema when
// the fast one gives up), with each vhost's description, tags, default
// queue type and tracing from /api/vhosts, which RabbitMQ 3.10's export
// leaves out. Only values other than the broker's defaults are set, so an
// export stays short. A queue without a type in a vhost whose default is
// not classic gets its type (GET /api/queues), so that the export says
// what the broker has. The objects of one kind share equal strings and
// maps, as ReadKinds's do.
//
// The export leaves out internal exchanges (every version: RabbitMQ's
// rabbit_definitions skips them), so the exchanges are those of
// GET /api/exchanges, as ReadKinds reads them (a few hundredths of a second
// for 1,000 exchanges). RabbitMQ 4.3's export differs from its listings in
// three more ways, which Read evens out so that it reads what ReadKinds
// reads: it leaves internal_cluster_id out of global_parameters (read here
// from GET /api/global-parameters/internal_cluster_id), writes each
// vhost's limits inside the vhost as well as in its vhost-limits parameter
// (the parameter is what the broker holds, and the copy is dropped), and
// leaves out an exchange's internal flag when it is false (the listing's
// exchanges have it).
func (c *Client) Read(ctx context.Context) (*definitions.Document, error) {
	// The vhosts, the exchanges and the cluster's id are read while the
	// export arrives (the id is needed only where the export leaves it
	// out), and no longer once the export failed. Meanwhile each answer
	// is bounded to an eighth of the answer limit: endless answers to all
	// at once held 1.1 GiB with the whole limit each. One that fails is
	// read again, alone, once the export is in.
	var (
		vhosts            []VhostInfo
		exchanges         *definitions.Document
		id                any
		hasID             bool
		verr, xerr, iderr error
		wg                sync.WaitGroup
	)
	side, cancel := context.WithCancel(ctx)
	defer cancel()
	tight := *c
	tight.cfg.MaxAnswer = max(c.cfg.MaxAnswer/8, 1)
	onlyExchanges := []definitions.Kind{definitions.KindExchange}
	wg.Add(3)
	go func() {
		defer wg.Done()
		vhosts, verr = tight.Vhosts(side)
	}()
	go func() {
		defer wg.Done()
		exchanges, xerr = tight.readKinds(side, onlyExchanges, nil)
	}()
	go func() {
		defer wg.Done()
		id, hasID, iderr = tight.clusterID(side)
	}()
	doc, err := c.readDefinitions(ctx)
	if err != nil {
		cancel()
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if verr != nil {
		vhosts, verr = c.Vhosts(ctx)
	}
	if xerr != nil {
		exchanges, xerr = c.readKinds(ctx, onlyExchanges, nil)
	}
	if err := errors.Join(verr, xerr); err != nil {
		return nil, err
	}
	if err := c.completeAccess(ctx, doc, vhosts); err != nil {
		return nil, err
	}
	info := map[string]VhostInfo{}
	for _, v := range vhosts {
		info[v.Name] = v
	}
	for _, v := range doc.Vhosts {
		in, ok := info[v.Name]
		if !ok {
			continue
		}
		if in.Description != "" {
			v.Description = &in.Description
		}
		var tags []string
		if json.Unmarshal(in.Tags, &tags) != nil {
			var s string
			if json.Unmarshal(in.Tags, &s) == nil {
				tags = definitions.SplitTags(s)
			}
		}
		if len(tags) > 0 {
			v.Tags = tags
		}
		if in.DefaultQueueType != "" && in.DefaultQueueType != "undefined" {
			// At the top level for people and warren, and in metadata for
			// RabbitMQ's import, which reads it only there.
			v.DefaultQueueType = in.DefaultQueueType
			if v.Metadata == nil {
				v.Metadata = map[string]any{}
			}
			v.Metadata["default_queue_type"] = in.DefaultQueueType
		}
		if in.Tracing {
			t := true
			v.Tracing = &t
		}
	}
	for _, v := range doc.Vhosts {
		delete(v.Extra, "limits")
	}
	doc.Exchanges = exchanges.Exchanges
	if !slices.ContainsFunc(doc.GlobalParameters, func(g *definitions.GlobalParameter) bool { return g.Name == "internal_cluster_id" }) {
		if iderr != nil {
			if id, hasID, iderr = c.clusterID(ctx); iderr != nil {
				return nil, iderr
			}
		}
		if hasID {
			doc.GlobalParameters = append(doc.GlobalParameters, &definitions.GlobalParameter{Name: "internal_cluster_id", Value: id})
		}
	}
	if err := c.readQueueTypes(ctx, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// incompleteExports counts exports that lacked what the broker holds and
// were completed from the listings (tests read it).
var incompleteExports atomic.Int64

// accessWaits are the waits before reading the users or the permissions
// again while the broker lists none although it holds some.
var accessWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// completeAccess completes an export that lacks the vhosts, users or
// permissions the broker holds. RabbitMQ on Khepri (4.3) reads the users
// and the permissions of an export with a store query whose failure it
// turns into an empty list (rabbit_db_user:get_all and
// check_and_match_user_permissions('_', '_')), so an export taken while
// the store fails queries lists none of them while the next lists them
// all; a diff of it would report every one as missing. The vhosts, policies and
// parameters come from projections, read as empty while a projection is
// missing: Khepri restores them when the store recovers, before the
// broker's boot goes on, so only the vhosts, whose check is free, are
// checked. The checks cost no request on an export that lists users,
// vhosts and permissions:
//   - no vhosts, while GET /api/vhosts (read beside the export) lists some:
//     the vhosts are read again (GET /api/vhosts);
//   - no users: the users are read again (GET /api/users). When the listing
//     has none either, GET /api/users/{name} of the user warren logs in as
//     (a lookup in a projection, not the failing query) says whether the
//     broker holds users: a broker whose users are all in another backend
//     (LDAP, OAuth) has none; when it holds that user, the listing is read
//     again a few times (accessWaits) and Read fails when it still lists
//     none;
//   - no permissions, while there are users and vhosts: the permissions are
//     read again (GET /api/permissions). When the listing has none either,
//     GET /api/users/without-permissions says whether that is so (it checks
//     each user in a transaction, which fails rather than answer empty);
//     when some user has permissions after all, the listing is read again a
//     few times (accessWaits) and Read fails, rather than report drift,
//     when it still lists none.
//
// Topic permissions need no check: RabbitMQ reads them all in a
// transaction, which fails the export (500, read again) rather than list
// none.
func (c *Client) completeAccess(ctx context.Context, doc *definitions.Document, listed []VhostInfo) error {
	if len(doc.Vhosts) == 0 && len(listed) > 0 {
		got, err := c.readKinds(ctx, []definitions.Kind{definitions.KindVhost}, nil)
		if err != nil {
			return err
		}
		if len(got.Vhosts) > 0 {
			incompleteExports.Add(1)
			doc.Vhosts = got.Vhosts
		}
	}
	if err := c.completeUsers(ctx, doc); err != nil {
		return err
	}
	if len(doc.Permissions) > 0 || len(doc.Users) == 0 || len(doc.Vhosts) == 0 {
		return nil
	}
	return c.completePermissions(ctx, doc, len(doc.Users))
}

// completeUsers reads the users again when doc has none (completeAccess).
func (c *Client) completeUsers(ctx context.Context, doc *definitions.Document) error {
	for try := 0; len(doc.Users) == 0; try++ {
		got, err := c.readKinds(ctx, []definitions.Kind{definitions.KindUser}, nil)
		if err != nil {
			return err
		}
		if len(got.Users) > 0 {
			incompleteExports.Add(1)
			doc.Users = got.Users
			return nil
		}
		if try == 0 {
			// The user warren logs in as, looked up alone (a lookup
			// that does not go through the failing query): when the
			// broker does not hold it, its users are elsewhere.
			if c.cfg.Username == "" {
				return nil
			}
			err := c.getJSON(ctx, "/api/users/"+esc(c.cfg.Username), nil)
			if NotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		if err := waitAccess(ctx, try, "rabbitmq: GET /api/definitions and GET /api/users list no users, "+
			"but GET /api/users/{name} finds the user warren logs in as"); err != nil {
			return err
		}
	}
	return nil
}

// completePermissions reads the permissions again when doc has none
// though the broker has users users (completeAccess).
func (c *Client) completePermissions(ctx context.Context, doc *definitions.Document, users int) error {
	bare := 0 // users without permissions
	for try := 0; len(doc.Permissions) == 0 && users > 0; try++ {
		got, err := c.readKinds(ctx, []definitions.Kind{definitions.KindPermission}, nil)
		if err != nil {
			return err
		}
		if len(got.Permissions) > 0 {
			incompleteExports.Add(1)
			doc.Permissions = got.Permissions
			return nil
		}
		if try == 0 {
			var list []struct {
				Name string `json:"name"`
			}
			if err := c.getJSON(ctx, "/api/users/without-permissions", &list); err != nil {
				return err
			}
			if bare = len(list); bare >= users {
				return nil // no user has permissions
			}
		}
		if err := waitAccess(ctx, try, fmt.Sprintf("rabbitmq: GET /api/definitions and GET /api/permissions list no permissions, "+
			"but GET /api/users/without-permissions lists only %d of %d users", bare, users)); err != nil {
			return err
		}
	}
	return nil
}

// waitAccess waits before reading a listing again for the try'th time
// (accessWaits), or says why the broker is not ready after the last.
func waitAccess(ctx context.Context, try int, why string) error {
	if try == len(accessWaits) {
		return errors.New(why + ": the broker is not ready, try again later")
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(accessWaits[try]):
		return nil
	}
}

// readDefinitions reads GET /api/definitions into a Document as it
// arrives (decodeDefinitions). When the fast path gives up, maybe halfway
// through, the export is read again, whole, and parsed through the schema
// and the converter, which decide; what counts is the second answer alone.
func (c *Client) readDefinitions(ctx context.Context) (*definitions.Document, error) {
	name := c.URL() + "/api/definitions"
	var doc *definitions.Document
	err := c.getJSON(ctx, "/api/definitions", streamAnswer(func(body io.Reader) error {
		var err error
		doc, err = decodeDefinitions(name, body)
		return err
	}))
	if !errors.Is(err, errNotFast) {
		return doc, err
	}
	slowDecodes.Add(1)
	raw, err := c.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	doc, diags := definitions.Parse(name, raw)
	if err := answerErrors(doc, diags); err != nil {
		return nil, err
	}
	return doc, nil
}

// ReadWhole is ReadKinds through one GET /api/definitions (Read), which
// is the faster on RabbitMQ 4.3 (see Target.Read): it returns only the
// given kinds, as ReadKinds does, and none of the export's version fields.
func (c *Client) ReadWhole(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	doc, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	return onlyKinds(doc, kinds), nil
}

// onlyKinds is what doc holds of the given kinds, each present even when
// empty.
func onlyKinds(doc *definitions.Document, kinds []definitions.Kind) *definitions.Document {
	out := &definitions.Document{}
	for _, k := range kinds {
		switch k {
		case definitions.KindUser:
			out.Users = orEmpty(doc.Users)
		case definitions.KindVhost:
			out.Vhosts = orEmpty(doc.Vhosts)
		case definitions.KindPermission:
			out.Permissions = orEmpty(doc.Permissions)
		case definitions.KindTopicPermission:
			out.TopicPermissions = orEmpty(doc.TopicPermissions)
		case definitions.KindParameter:
			out.Parameters = orEmpty(doc.Parameters)
		case definitions.KindGlobalParameter:
			out.GlobalParameters = orEmpty(doc.GlobalParameters)
		case definitions.KindPolicy:
			out.Policies = orEmpty(doc.Policies)
		case definitions.KindQueue:
			out.Queues = orEmpty(doc.Queues)
		case definitions.KindExchange:
			out.Exchanges = orEmpty(doc.Exchanges)
		case definitions.KindBinding:
			out.Bindings = orEmpty(doc.Bindings)
		}
	}
	return out
}

// orEmpty is s, or an empty list for nil: a kind read is present, even
// empty, as in ReadKinds.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// readQueueTypes gives a type to the queues that carry none in the export
// (no type field, no x-queue-type argument: 3.10 exports so) and live in a
// vhost whose default queue type is not classic, where a queue without a
// type would be taken for one of the default type. GET /api/queues is read
// only when there are such queues.
func (c *Client) readQueueTypes(ctx context.Context, doc *definitions.Document) error {
	defaults := definitions.VhostQueueTypes(doc)
	need := false
	for _, q := range doc.Queues {
		if q.Type == "" && q.Arguments.Get("x-queue-type") == nil && defaults[q.Vhost] != "" {
			need = true
			break
		}
	}
	if !need {
		return nil
	}
	var live []struct{ Name, Vhost, Type string }
	if err := c.getJSON(ctx, "/api/queues?disable_stats=true&columns=name,vhost,type", &live); err != nil {
		return err
	}
	types := make(map[[2]string]string, len(live))
	for _, q := range live {
		types[[2]string{q.Vhost, q.Name}] = q.Type
	}
	for _, q := range doc.Queues {
		if q.Type == "" && q.Arguments.Get("x-queue-type") == nil && defaults[q.Vhost] != "" {
			q.Type = types[[2]string{q.Vhost, q.Name}]
		}
	}
	return nil
}

// ExportOptions choose what Export keeps.
type ExportOptions struct {
	// Trims are applied in the order definitions.Trims lists them.
	Trims []string
	// Vhost keeps only what belongs to one vhost (see definitions.Select).
	Vhost string
	// Only keeps only these kinds; nil keeps all.
	Only []definitions.Kind
}

// Export reads the broker and returns its definitions trimmed, selected and
// in canonical order.
func (c *Client) Export(ctx context.Context, opts ExportOptions) (*definitions.Document, error) {
	doc, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if err := definitions.Trim(doc, opts.Trims); err != nil {
		return nil, err
	}
	definitions.Select(doc, opts.Vhost, opts.Only)
	doc.Sort()
	return doc, nil
}

// vhostColumns are what ReadKinds keeps of a vhost.
var vhostColumns = []string{"name", "description", "tags", "default_queue_type", "metadata", "tracing"}

// kindEndpoints lists, per kind, the endpoint that lists that kind alone.
// The columns keep the answer to what definitions hold (and spare the
// broker computing statistics).
var kindEndpoints = map[definitions.Kind]string{
	definitions.KindUser:            "/api/users",
	definitions.KindVhost:           "/api/vhosts?columns=" + strings.Join(vhostColumns, ","),
	definitions.KindPermission:      "/api/permissions",
	definitions.KindTopicPermission: "/api/topic-permissions",
	definitions.KindParameter:       "/api/parameters",
	definitions.KindGlobalParameter: "/api/global-parameters",
	definitions.KindPolicy:          "/api/policies",
	definitions.KindQueue:           "/api/queues?disable_stats=true&columns=name,vhost,type,durable,auto_delete,exclusive,arguments",
	definitions.KindExchange:        "/api/exchanges?disable_stats=true&columns=name,vhost,type,durable,auto_delete,internal,arguments",
	// Bindings are listed whole: RabbitMQ 4.0.5 lists 20,000 bindings in
	// 0.31 s, and in 0.39 s when asked for columns (3.10.8: alike either
	// way). The properties_key the columns left out is dropped on reading.
	definitions.KindBinding: "/api/bindings",
}

// ReadKinds returns only the given kinds of the broker's definitions, each
// from its own endpoint: on a broker with many queues, reading the users
// and permissions a file manages costs a fraction of a whole export. It
// leaves out what an export leaves out: exclusive queues, built-in
// exchanges, and the default exchange's implicit bindings. The objects of
// one kind share equal strings and maps (a sharer): the caller copies a
// map before changing it, as Normalize does.
//
// The users and the permissions get the checks Read gives them
// (completeAccess): RabbitMQ 4.x lists them through the query whose
// failure it answers as an empty list. They cost no request when the
// listings are not empty.
func (c *Client) ReadKinds(ctx context.Context, kinds []definitions.Kind) (*definitions.Document, error) {
	doc, err := c.readKinds(ctx, kinds, nil)
	if err != nil {
		return nil, err
	}
	if slices.Contains(kinds, definitions.KindUser) {
		if err := c.completeUsers(ctx, doc); err != nil {
			return nil, err
		}
	}
	if slices.Contains(kinds, definitions.KindPermission) && len(doc.Permissions) == 0 {
		users := doc
		if !slices.Contains(kinds, definitions.KindUser) {
			if users, err = c.readKinds(ctx, []definitions.Kind{definitions.KindUser}, nil); err != nil {
				return nil, err
			}
			if err := c.completeUsers(ctx, users); err != nil {
				return nil, err
			}
		}
		if err := c.completePermissions(ctx, doc, len(users.Users)); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// ReadKindsIn is ReadKinds for what lives in these vhosts: the kinds a
// vhost has a listing of its own for (queues, exchanges, bindings,
// policies, permissions, topic permissions) are read from those, one a
// vhost; the others whole. The caller keeps what is in scope.
func (c *Client) ReadKindsIn(ctx context.Context, kinds []definitions.Kind, vhosts []string) (*definitions.Document, error) {
	return c.readKinds(ctx, kinds, vhosts)
}

// vhostEndpoint is the listing of kind k in vhost v, or "" when the kind
// has none a vhost.
func vhostEndpoint(k definitions.Kind, v string) string {
	switch k {
	case definitions.KindPermission:
		return "/api/vhosts/" + esc(v) + "/permissions"
	case definitions.KindTopicPermission:
		return "/api/vhosts/" + esc(v) + "/topic-permissions"
	case definitions.KindQueue, definitions.KindExchange, definitions.KindBinding, definitions.KindPolicy:
		path, query, _ := strings.Cut(kindEndpoints[k], "?")
		if query != "" {
			query = "?" + query
		}
		return path + "/" + esc(v) + query
	}
	return ""
}

func (c *Client) readKinds(ctx context.Context, kinds []definitions.Kind, vhosts []string) (*definitions.Document, error) {
	// One request a kind, or a kind and vhost.
	type request struct {
		k    definitions.Kind
		path string
	}
	var reqs []request
	for _, k := range kinds {
		if vhosts == nil || vhostEndpoint(k, "") == "" {
			reqs = append(reqs, request{k, kindEndpoints[k]})
			continue
		}
		for _, v := range vhosts {
			reqs = append(reqs, request{k, vhostEndpoint(k, v)})
		}
	}
	// The requests are sent at once: the broker answers them on its own
	// cores while warren decodes what has come. A vhost the broker does
	// not have (yet) answers 404: it holds nothing.
	fast := make([]*definitions.Document, len(reqs))
	lists := make([][]map[string]any, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		k := r.k
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if vhosts != nil && NotFound(errs[i]) {
					errs[i] = nil
				}
			}()
			if fastKinds[k] {
				// The listing is decoded as it arrives, each object into the
				// model at once (decodeFast).
				d := &definitions.Document{}
				err := c.getJSON(ctx, r.path, streamAnswer(func(body io.Reader) error { return decodeFast(d, k, body) }))
				if !errors.Is(err, errNotFast) {
					fast[i], errs[i] = d, err
					return
				}
				// The fast path gave up, maybe halfway through: the listing
				// is read again, whole, and takes the slow path, which
				// decides. The broker may have changed in between; what
				// counts is the second answer alone.
				slowDecodes.Add(1)
			}
			var data []byte
			if errs[i] = c.getJSON(ctx, r.path, &data); errs[i] != nil {
				return
			}
			if len(data) == 0 {
				return
			}
			if err := json.Unmarshal(data, &lists[i]); err != nil {
				errs[i] = fmt.Errorf("rabbitmq: GET %s: the answer is not the JSON expected: %w", r.path, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	doc := map[string][]map[string]any{}
	for i, r := range reqs {
		if fast[i] != nil {
			continue
		}
		kept := keepListed(r.k, lists[i])
		if prev, ok := doc[string(r.k)]; ok {
			kept = append(prev, kept...)
		}
		doc[string(r.k)] = kept
	}
	out, err := parseAnswers(c.URL()+"/api", doc)
	if err != nil {
		return nil, err
	}
	for i, r := range reqs {
		if fast[i] != nil {
			appendKind(out, r.k, fast[i])
		}
	}
	return out, nil
}

// keepListed drops, in place, what an export leaves out: exclusive queues,
// built-in exchanges, the default exchange's implicit bindings, and a
// vhost's values that are the broker's defaults.
func keepListed(k definitions.Kind, items []map[string]any) []map[string]any {
	kept := items[:0]
	for _, it := range items {
		switch k {
		case definitions.KindQueue:
			if ex, _ := it["exclusive"].(bool); ex {
				continue
			}
			delete(it, "exclusive")
		case definitions.KindExchange:
			if name, _ := it["name"].(string); name == "" || strings.HasPrefix(name, "amq.") {
				continue
			}
		case definitions.KindBinding:
			if src, _ := it["source"].(string); src == "" {
				continue
			}
			delete(it, "properties_key") // what the broker names the binding by; not a definition
		case definitions.KindVhost:
			cleanVhost(it)
		}
		kept = append(kept, it)
	}
	return kept
}

// parseAnswers makes a Document of listings through the schema and the
// converter, and refuses answers that are not definitions (answerErrors).
func parseAnswers(name string, doc map[string][]map[string]any) (*definitions.Document, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	out, diags := definitions.Parse(name, raw)
	if err := answerErrors(out, diags); err != nil {
		return nil, err
	}
	return out, nil
}

// appendKind adds the objects of kind k that from holds to to's (a kind
// read is present, even empty).
func appendKind(to *definitions.Document, k definitions.Kind, from *definitions.Document) {
	switch k {
	case definitions.KindUser:
		if to.Users == nil {
			to.Users = from.Users
		} else {
			to.Users = append(to.Users, from.Users...)
		}
	case definitions.KindPermission:
		if to.Permissions == nil {
			to.Permissions = from.Permissions
		} else {
			to.Permissions = append(to.Permissions, from.Permissions...)
		}
	case definitions.KindPolicy:
		if to.Policies == nil {
			to.Policies = from.Policies
		} else {
			to.Policies = append(to.Policies, from.Policies...)
		}
	case definitions.KindQueue:
		if to.Queues == nil {
			to.Queues = from.Queues
		} else {
			to.Queues = append(to.Queues, from.Queues...)
		}
	case definitions.KindExchange:
		if to.Exchanges == nil {
			to.Exchanges = from.Exchanges
		} else {
			to.Exchanges = append(to.Exchanges, from.Exchanges...)
		}
	case definitions.KindBinding:
		if to.Bindings == nil {
			to.Bindings = from.Bindings
		} else {
			to.Bindings = append(to.Bindings, from.Bindings...)
		}
	}
}

// identityFields name objects; a wrong type there would make an object
// with an empty name.
var identityFields = []string{"name", "vhost", "user", "component", "exchange", "source", "destination", "destination_type"}

// answerErrors turns what the broker answered into an error when it is not
// definitions: bad JSON (no document), or values of the wrong type or
// missing names, which would otherwise become objects with empty names
// (a plan to delete user "").
func answerErrors(doc *definitions.Document, diags schema.Diagnostics) error {
	if doc == nil {
		return fmt.Errorf("rabbitmq: reading the broker's definitions: %v", httpapi.Printable(diags.Error()))
	}
	var bad []string
	for _, d := range diags {
		// Identity fields only: the broker writes some values in shapes the
		// schema does not take (an emptied vhost-limits value is []).
		last := d.Pointer[strings.LastIndex(d.Pointer, "/")+1:]
		if d.Code == schema.ERequired || d.Code == schema.EUnsupportedIn ||
			(d.Code == schema.EType && slices.Contains(identityFields, last)) {
			bad = append(bad, d.Pointer+": "+d.Message)
		}
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return fmt.Errorf("rabbitmq: the broker's answer is not the definitions expected: %s", httpapi.Printable(strings.Join(bad, "; ")))
	}
	return nil
}

// cleanVhost keeps only the values that differ from the broker's defaults,
// as Read does.
func cleanVhost(v map[string]any) {
	// RabbitMQ 4.0.5 ignores columns on /api/vhosts: it adds cluster_state
	// and statistics, which are no definitions.
	for k := range v {
		if !slices.Contains(vhostColumns, k) {
			delete(v, k)
		}
	}
	if d, _ := v["description"].(string); d == "" {
		delete(v, "description")
	}
	if t, ok := v["tags"].([]any); ok && len(t) == 0 {
		delete(v, "tags")
	}
	if q, _ := v["default_queue_type"].(string); q == "" || q == "undefined" {
		delete(v, "default_queue_type")
	}
	if tr, _ := v["tracing"].(bool); !tr {
		delete(v, "tracing")
	}
}

// VhostContents reads what lives in a vhost, which deleting it deletes:
// queues with their message counts, exchanges (not the built-in ones),
// bindings, policies, parameters, permissions and topic permissions.
// GET /api/queues/{vhost}, /api/exchanges/{vhost}, /api/bindings/{vhost},
// /api/policies/{vhost}, /api/parameters, /api/vhosts/{vhost}/permissions,
// /api/vhosts/{vhost}/topic-permissions
func (c *Client) VhostContents(ctx context.Context, vhost string) (*plan.VhostContents, error) {
	v := esc(vhost)
	var (
		queues []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Messages *int64 `json:"messages"`
		}
		exchanges, policies []struct {
			Name string `json:"name"`
		}
		bindings []struct {
			Source string `json:"source"`
		}
		params []struct {
			Vhost     string `json:"vhost"`
			Component string `json:"component"`
			Name      string `json:"name"`
		}
		perms, topic []struct {
			User string `json:"user"`
		}
	)
	reads := []struct {
		path string
		out  any
	}{
		{"/api/queues/" + v + "?columns=name,type,messages", &queues},
		{"/api/exchanges/" + v + "?disable_stats=true&columns=name", &exchanges},
		{"/api/bindings/" + v + "?columns=source", &bindings},
		{"/api/policies/" + v, &policies},
		{"/api/parameters", &params},
		{"/api/vhosts/" + v + "/permissions", &perms},
		{"/api/vhosts/" + v + "/topic-permissions", &topic},
	}
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.getJSON(ctx, r.path, r.out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := &plan.VhostContents{}
	stats := make([]QueueStat, len(queues))
	for i, q := range queues {
		stats[i] = QueueStat{Name: q.Name, Type: q.Type, Stat: q.Messages}
	}
	counts, err := c.QueueCounts(ctx, vhost, stats)
	if err != nil {
		return nil, err
	}
	for _, q := range queues {
		n, ok := counts[q.Name]
		if !ok {
			continue // deleted since it was listed
		}
		out.Queues = append(out.Queues, plan.QueueMessages{Name: q.Name, Messages: n.Messages, Unknown: !n.Known, Why: n.Why, AtApply: n.NoAccess})
	}
	for _, x := range exchanges {
		if x.Name != "" && !strings.HasPrefix(x.Name, "amq.") {
			out.Exchanges = append(out.Exchanges, x.Name)
		}
	}
	for _, b := range bindings {
		if b.Source != "" {
			out.Bindings++
		}
	}
	for _, p := range policies {
		out.Policies = append(out.Policies, p.Name)
	}
	for _, p := range params {
		if p.Vhost == vhost {
			out.Parameters = append(out.Parameters, p.Component+"/"+p.Name)
		}
	}
	for _, p := range perms {
		out.Permissions = append(out.Permissions, p.User)
	}
	for _, p := range topic {
		if !slices.Contains(out.TopicPermissions, p.User) {
			out.TopicPermissions = append(out.TopicPermissions, p.User)
		}
	}
	slices.SortFunc(out.Queues, func(a, b plan.QueueMessages) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range [][]string{out.Exchanges, out.Policies, out.Parameters, out.Permissions, out.TopicPermissions} {
		slices.Sort(s)
	}
	return out, nil
}

// UserPermissions returns one user's permissions: a plan that does not
// manage permissions still looks for temporary grants an interrupted apply
// left to the user warren logs in as.
// GET /api/users/{name}/permissions
func (c *Client) UserPermissions(ctx context.Context, user string) ([]*definitions.Permission, error) {
	var list []struct {
		User      string `json:"user"`
		Vhost     string `json:"vhost"`
		Configure string `json:"configure"`
		Write     string `json:"write"`
		Read      string `json:"read"`
	}
	if err := c.getJSON(ctx, "/api/users/"+esc(user)+"/permissions", &list); err != nil {
		return nil, err
	}
	out := make([]*definitions.Permission, len(list))
	for i, p := range list {
		out[i] = &definitions.Permission{User: p.User, Vhost: p.Vhost, Configure: p.Configure, Write: p.Write, Read: p.Read}
	}
	return out, nil
}

// QueueMessages returns what is known of the messages a queue holds, read
// from the queue itself (QueueCounts); a queue that is gone holds none.
// GET /api/queues/{vhost}/{name}
func (c *Client) QueueMessages(ctx context.Context, vhost, name string) (Count, error) {
	var q struct {
		Type     string `json:"type"`
		Messages *int64 `json:"messages"`
	}
	if err := c.getJSON(ctx, "/api/queues/"+esc(vhost)+"/"+esc(name), &q); err != nil {
		if NotFound(err) {
			return Count{Known: true}, nil
		}
		return Count{}, err
	}
	counts, err := c.QueueCounts(ctx, vhost, []QueueStat{{Name: name, Type: q.Type, Stat: q.Messages}})
	if err != nil {
		return Count{}, err
	}
	n, ok := counts[name]
	if !ok {
		return Count{Known: true}, nil // gone since
	}
	return n, nil
}
