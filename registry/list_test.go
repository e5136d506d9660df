package registry_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/platdev/plat/registry"
)

// TestListPagedByStore checks list paging, the provider filter, and that a
// publish through the service is listed at once despite the list cache.
func TestListPagedByStore(t *testing.T) {
	r := newTestRegistry(t, registry.Config{})
	seedVersions(t, r.st, 40, 3)
	get := func(path string) registry.ModuleList {
		t.Helper()
		resp, body := r.do(t, "GET", path, "", nil)
		var l registry.ModuleList
		if err := json.Unmarshal(body, &l); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		return l
	}
	l := get("/v1/modules?limit=10&offset=30")
	if len(l.Modules) != 10 || l.Modules[0].ID != "ns7/mod027/aws/1.2.0" || l.Meta.NextOffset != nil || *l.Meta.PrevOffset != 20 {
		t.Errorf("last page: %+v", l)
	}
	l = get("/v1/modules/ns3")
	if len(l.Modules) != 4 || l.Meta.NextOffset != nil || l.Modules[0].ID != "ns3/mod003/aws/1.2.0" {
		t.Errorf("namespace ns3: %+v", l)
	}
	if l = get("/v1/modules?provider=gcp"); len(l.Modules) != 0 {
		t.Errorf("provider gcp: %+v", l)
	}
	if l = get("/v1/modules/search?q=MODULE+7+of"); len(l.Modules) != 1 || l.Modules[0].Name != "mod007" {
		t.Errorf("search: %+v", l)
	}
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/gcp/1.0.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	if l = get("/v1/modules?provider=gcp"); len(l.Modules) != 1 || l.Modules[0].ID != "acme/network/gcp/1.0.0" {
		t.Errorf("provider gcp after publish: %s", fmt.Sprint(l.Modules))
	}
}
