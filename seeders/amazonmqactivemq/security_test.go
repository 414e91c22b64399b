package amazonmqactivemq_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/warren-tool/warren/definitions"
	"github.com/warren-tool/warren/definitions/plan"
	"github.com/warren-tool/warren/seeders"
	"github.com/warren-tool/warren/seeders/amazonmqactivemq"
)

func awsEnv(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"} {
		t.Setenv(k, v)
	}
}

// The SDK follows 307 and 308 to any host, with the body (a user's
// password on CreateUser); warren refuses every redirect.
func TestRedirectsAreRefused(t *testing.T) {
	awsEnv(t)
	for _, code := range []int{301, 302, 307, 308} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var hits atomic.Int32
			second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			defer second.Close()
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, second.URL+r.URL.Path, code)
			}))
			defer first.Close()
			c, err := amazonmqactivemq.New(context.Background(), amazonmqactivemq.Config{BrokerID: "b-1", Endpoint: first.URL, MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Read(context.Background())
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
	awsEnv(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"users":[{"username":"`))
		chunk := []byte(strings.Repeat("a", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := amazonmqactivemq.New(context.Background(), amazonmqactivemq.Config{BrokerID: "b-1", Endpoint: srv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v, want an error about the answer's size", err)
	}
}

// A password the API repeats in its error is masked, and the error's text
// is made safe to print: warren's errors never show a secret.
func TestErrorTextMasksPassword(t *testing.T) {
	awsEnv(t)
	const password = "Pw-7c1d-never-shown"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "BadRequestException")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errorAttribute": "password", "message": "password %s is refused\u001b[31m"}`, password)
	}))
	defer srv.Close()
	c, err := amazonmqactivemq.New(context.Background(), amazonmqactivemq.Config{BrokerID: "b-1", Endpoint: srv.URL, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	pw := password
	u := &definitions.User{Name: "app", Password: &definitions.Secret{Literal: &pw}, ActiveMQ: &definitions.ActiveMQUser{}}
	p := &plan.Plan{Changes: []plan.Change{{Action: plan.Create, Kind: definitions.KindUser, Addr: plan.AddrOf(u), After: u}}}
	err = c.Apply(context.Background(), p, seeders.ApplyOptions{})
	if err == nil || !strings.Contains(err.Error(), "BadRequestException") {
		t.Fatalf("got %v, want the API's error", err)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("the error shows the password or a control character: %v", err)
	}
}
