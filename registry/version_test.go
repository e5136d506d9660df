package registry_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/platdev/plat/registry"
)

// TestVersionRules checks the version rules of #17 finding 12: build metadata is
// not a pre-release, versions equal up to build metadata are one version, and
// numeric pre-release parts may not have leading zeros.
func TestVersionRules(t *testing.T) {
	r := newTestRegistry(t, registry.Config{})
	pub := r.tok["acme/publish"]
	for _, v := range []string{"1.0.0", "2.0.0+build-1", "3.0.0-rc.1"} {
		if code, body := r.publish(t, pub, "acme/network/aws/"+v, tarGz(t, goodArchive)); code != 201 {
			t.Fatalf("publish %s: %d %s", v, code, body)
		}
	}
	// tofu picks 2.0.0+build-1 for a module block without a version: so must
	// every "latest" answer.
	resp, _ := r.do(t, "GET", "/v1/modules/acme/network/aws/download", "", nil)
	if loc := resp.Header.Get("X-Terraform-Get"); !strings.Contains(loc, "/2.0.0+build-1.tar.gz") {
		t.Errorf("latest download location %q, want 2.0.0+build-1", loc)
	}
	var d registry.ModuleDetails
	_, body := r.do(t, "GET", "/v1/modules/acme/network/aws", "", nil)
	if err := json.Unmarshal(body, &d); err != nil || d.Version != "2.0.0+build-1" {
		t.Errorf("latest details: version %q (%v), want 2.0.0+build-1", d.Version, err)
	}
	var l registry.ModuleList
	_, body = r.do(t, "GET", "/v1/modules/acme", "", nil)
	if err := json.Unmarshal(body, &l); err != nil || len(l.Modules) != 1 || l.Modules[0].Version != "2.0.0+build-1" {
		t.Errorf("list: %s, want latest 2.0.0+build-1", body)
	}

	for _, tc := range []struct {
		version string
		want    int
	}{
		{"1.0.0+build", 409},  // same as 1.0.0
		{"2.0.0", 409},        // same as 2.0.0+build-1
		{"2.0.0+other", 409},  // likewise
		{"3.0.0-rc.1+b", 409}, // same as 3.0.0-rc.1
		{"1.0.0-01", 400},     // leading zero in a numeric pre-release part
		{"1.0.0-rc.01", 400},  //
		{"01.0.0", 400},       //
		{"1.0.0-0a", 201},     // alphanumeric: leading zero allowed
		{"1.1.0+001", 201},    // build metadata: leading zeros allowed
		{"1.0.1-rc.0", 201},   //
	} {
		if code, body := r.publish(t, pub, "acme/network/aws/"+tc.version, tarGz(t, goodArchive)); code != tc.want {
			t.Errorf("publish %s: %d %s, want %d", tc.version, code, body, tc.want)
		}
	}
}
