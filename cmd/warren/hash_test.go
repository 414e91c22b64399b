package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestHashLogsIn: a user created on a real node with warren hash's output
// logs in with the password, and not with another.
func TestHashLogsIn(t *testing.T) {
	n := rabbitmqtest.Shared(t)
	ctx := context.Background()
	for _, alg := range []string{"sha256", "sha512"} {
		t.Run(alg, func(t *testing.T) {
			const password = "hash-me: ünïcode & spaces "
			var stdout, stderr bytes.Buffer
			if code := run([]string{"warren", "hash", "--algorithm", alg, "--format", "json"}, strings.NewReader(password+"\n"), &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			var h hashOutput
			if err := json.Unmarshal(stdout.Bytes(), &h); err != nil {
				t.Fatalf("%v\n%s", err, stdout.String())
			}
			if h.HashingAlgorithm != "rabbit_password_hashing_"+alg {
				t.Errorf("hashing_algorithm %q", h.HashingAlgorithm)
			}
			user := "warren-hash-" + alg
			path := "/api/users/" + url.PathEscape(user)
			if err := n.Do(ctx, "PUT", path, map[string]any{"password_hash": h.PasswordHash, "hashing_algorithm": h.HashingAlgorithm, "tags": "management"}, nil); err != nil {
				t.Fatal(err)
			}
			defer n.Do(ctx, "DELETE", path, nil, nil)
			var who struct{ Name string }
			if err := n.Call(ctx, user, password, "GET", "/api/whoami", nil, &who); err != nil || who.Name != user {
				t.Errorf("on RabbitMQ %s, %s cannot log in with the password warren hashed: %v (%+v)", n.Version, user, err, who)
			}
			if err := n.Call(ctx, user, strings.TrimSpace(password), "GET", "/api/whoami", nil, nil); err == nil {
				t.Errorf("on RabbitMQ %s, %s logs in with another password", n.Version, user)
			}
		})
	}
}
