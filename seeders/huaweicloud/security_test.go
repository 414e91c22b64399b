package huaweicloud_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/huaweicloud"
)

// A redirect is refused: the X-Auth-Token would go wherever it points.
func TestRedirectsAreRefused(t *testing.T) {
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var hits atomic.Int32
			second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			defer second.Close()
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, second.URL+r.URL.Path, code)
			}))
			defer first.Close()
			c, err := huaweicloud.New(huaweicloud.Config{Endpoint: first.URL, ProjectID: "p", InstanceID: "i", Token: "iam-token", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Read(context.Background())
			if err == nil || !strings.Contains(err.Error(), "does not follow redirects") || !strings.Contains(err.Error(), "--endpoint "+second.URL) {
				t.Errorf("got %v, want a refusal naming --endpoint %s", err, second.URL)
			}
			if hits.Load() != 0 {
				t.Errorf("the server redirected to received %d requests", hits.Load())
			}
		})
	}
}

// An endless answer is an error, not an out-of-memory crash.
func TestEndlessAnswerIsBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := huaweicloud.New(huaweicloud.Config{Endpoint: srv.URL, ProjectID: "p", InstanceID: "i", Token: "t", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v, want an error about the answer's size", err)
	}
}

// A name that is a dot segment never goes into a path.
func TestDotSegmentRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c, err := huaweicloud.New(huaweicloud.Config{Endpoint: srv.URL, ProjectID: "p", InstanceID: "i", Token: "t", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dots := &definitions.User{Name: ".."}
	p := &plan.Plan{Changes: []plan.Change{{Action: plan.Delete, Step: plan.StepDelete, Kind: definitions.KindUser, Addr: plan.AddrOf(dots), Before: dots}}}
	err = c.Apply(context.Background(), p, seeders.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "dot segment") {
		t.Errorf("got %v, want a refusal", err)
	}
	if hits.Load() != 0 {
		t.Errorf("the server received %d requests", hits.Load())
	}
}

// A secret key the API repeats in its error (a refused user, say) is
// masked: warren's errors never show a secret.
func TestErrorTextMasksSecretKey(t *testing.T) {
	const secret = "Sk-4f9e-never-shown"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error_code": "DMS.00400026", "error_msg": "secret_key %s is invalid\u001b[31m"}`, secret)
	}))
	defer srv.Close()
	c, err := huaweicloud.New(huaweicloud.Config{Endpoint: srv.URL, ProjectID: "p", InstanceID: "i", Token: "t", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sk := secret
	u := &definitions.User{Name: "app", Password: &definitions.Secret{Literal: &sk}}
	perm := &definitions.Permission{User: "app", Vhost: "v", Read: ".*"}
	desired := &definitions.Document{Users: []*definitions.User{u}, Vhosts: []*definitions.Vhost{{Name: "v"}}, Permissions: []*definitions.Permission{perm}}
	live := &definitions.Document{Vhosts: []*definitions.Vhost{{Name: "v"}}}
	p, err := plan.Diff(desired, live, huaweicloud.DiffOptions(false, huaweicloud.EditionAMQP)...)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Apply(context.Background(), p, seeders.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "DMS.00400026") {
		t.Fatalf("got %v, want the API's error", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("the error shows the secret key or a control character: %v", err)
	}
}

// An exchange or queue named as a dot segment, or one in a vhost so
// named, never goes into a path: DMS's name rules allow "..", and the
// server would resolve it to another collection.
func TestTopologyDotSegmentRefused(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c, err := huaweicloud.New(huaweicloud.Config{Endpoint: srv.URL, ProjectID: "p", InstanceID: "i", Token: "t", Timeout: 5 * time.Second, Edition: huaweicloud.Edition3x})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []definitions.Object{
		&definitions.Queue{Vhost: "v", Name: ".."},
		&definitions.Exchange{Vhost: "..", Name: "orders", Type: "direct"},
		&definitions.Binding{Vhost: "v", Source: ".", Destination: "q", DestinationType: "queue"},
	} {
		p := &plan.Plan{Changes: []plan.Change{{Action: plan.Delete, Step: plan.StepDelete, Kind: plan.AddrOf(o).Kind, Addr: plan.AddrOf(o), Before: o}}}
		// The queue's name would go into the path of its details, read to
		// count its messages before it is deleted.
		err = c.Apply(context.Background(), p, seeders.ApplyOptions{})
		if err == nil || !strings.Contains(err.Error(), "dot segment") {
			t.Errorf("%s: got %v, want a refusal", plan.AddrOf(o), err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server received %d requests", hits.Load())
	}
}
