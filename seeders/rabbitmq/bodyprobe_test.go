//go:build bodyprobe

package rabbitmq

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warren-tool/warren/seeders/rabbitmq/rabbitmqtest"
)

// TestBodyProbe posts import bodies of the sizes WARREN_BODY_SIZES lists
// (bytes, space-separated) to a node whose management.http.max_body_size is
// WARREN_BODY_LIMIT ("" keeps the broker's default), through warren's
// client and then on a connection of their own, and logs what came back
// and when. It only reports, and is built only with the tag bodyprobe:
//
//	WARREN_RABBITMQ=4.0 WARREN_BODY_LIMIT=60000 WARREN_BODY_SIZES="70000 1000000 8000000" \
//	  go test -tags bodyprobe -run TestBodyProbe -v ./seeders/rabbitmq
func TestBodyProbe(t *testing.T) {
	var cfg []string
	if os.Getenv("WARREN_BODY_LIMIT") != "" {
		cfg = []string{"management.http.max_body_size = " + os.Getenv("WARREN_BODY_LIMIT")}
	}
	n, err := rabbitmqtest.Start(context.Background(), rabbitmqtest.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	t.Logf("RabbitMQ %s", n.Version)
	wc, err := New(Config{URLs: []string{n.URL}, Username: n.Admin, Password: n.AdminPassword})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, f := range strings.Fields(os.Getenv("WARREN_BODY_SIZES")) {
		v, _ := strconv.Atoi(f)
		sizes = append(sizes, v)
	}
	for _, size := range sizes {
		var b strings.Builder
		b.WriteString(`{"queues": [`)
		for i := 0; b.Len() < size; i++ {
			fmt.Fprintf(&b, `%s{"name": "probe-%07d", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {}}`, map[bool]string{true: ",", false: ""}[i > 0], i)
		}
		b.WriteString(`]}`)
		body := b.String()
		t0 := time.Now()
		err := wc.PostDefinitions(context.Background(), []byte(body))
		t.Logf("%d bytes through warren's client: after %s: %v", len(body), time.Since(t0).Round(time.Millisecond), err)
		req, _ := http.NewRequest("POST", n.URL+"/api/definitions", bytes.NewReader([]byte(body)))
		req.SetBasicAuth(n.Admin, n.AdminPassword)
		req.Header.Set("Content-Type", "application/json")
		cl := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 150 * time.Second}
		t0 = time.Now()
		resp, err := cl.Do(req)
		if err != nil {
			t.Logf("%d bytes: after %s: error %v", len(body), time.Since(t0).Round(time.Millisecond), err)
			continue
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("%d bytes: after %s: %d %s", len(body), time.Since(t0).Round(time.Millisecond), resp.StatusCode, data)
	}
}
