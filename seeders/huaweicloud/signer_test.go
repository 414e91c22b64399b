package huaweicloud

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSignatureKnownAnswer checks the signer against the worked example in
// Huawei Cloud's API signing guide ("Constructing a Standard Request",
// "Creating a To-Be-Signed String", "Calculating the Signature"; the VPC
// list request of 2019-11-15): its canonical request hashes to
// b25362e6…bcd7a, and with the guide's secret key the signature is
// 7be66680…f6ebe.
func TestSignatureKnownAnswer(t *testing.T) {
	r, err := http.NewRequest("GET", "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Sdk-Date", "20191115T033655Z")
	got := Signature(r, nil, []string{"content-type", "host", "x-sdk-date"}, "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc")
	if want := "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"; got != want {
		t.Errorf("signature of the guide's example = %s, want %s", got, want)
	}
}

// TestSignHeader checks what Sign writes: the date, the headers it signs
// (never content-type, nor names with an underscore), and a signature that
// the guide's algorithm reproduces over those headers.
func TestSignHeader(t *testing.T) {
	r, _ := http.NewRequest("PUT", "https://dms.example.com/v2/p/instances/i/users/app%20one?x=1", strings.NewReader(`{"a":1}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Project-Id", "p")
	r.Header.Set("X_Odd", "not signed")
	Sign(r, []byte(`{"a":1}`), "AK", "SK", time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC))
	if got := r.Header.Get("X-Sdk-Date"); got != "20261125T093000Z" {
		t.Errorf("X-Sdk-Date = %q", got)
	}
	auth := r.Header.Get("Authorization")
	want := "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-project-id;x-sdk-date, Signature=" +
		Signature(r, []byte(`{"a":1}`), []string{"host", "x-project-id", "x-sdk-date"}, "SK")
	if auth != want {
		t.Errorf("Authorization = %q\nwant %q", auth, want)
	}
	// A different body, key or path gives a different signature.
	for name, sig := range map[string]string{
		"body": Signature(r, []byte(`{"a":2}`), []string{"host", "x-project-id", "x-sdk-date"}, "SK"),
		"key":  Signature(r, []byte(`{"a":1}`), []string{"host", "x-project-id", "x-sdk-date"}, "SK2"),
	} {
		if strings.HasSuffix(auth, sig) {
			t.Errorf("the signature does not depend on the %s", name)
		}
	}
}
