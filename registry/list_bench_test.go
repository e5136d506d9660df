package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/store"
)

// seedVersions stores modules*perModule versions straight into the store (no
// archive checks), descriptions included, as a registry that has grown would.
func seedVersions(tb testing.TB, st store.Store, modules, perModule int) {
	tb.Helper()
	ctx := context.Background()
	for m := range modules {
		for v := range perModule {
			k := store.Key{Ref: store.Ref{Namespace: fmt.Sprintf("ns%d", m%10), Name: fmt.Sprintf("mod%03d", m), System: "aws"}, Version: fmt.Sprintf("1.%d.0", v)}
			data := []byte("archive " + k.String())
			nv := store.NewVersion{Key: k, Description: fmt.Sprintf("Module %d of the estate, version %d.", m, v), SHA256: "00", PublishedAt: time.Unix(1700000000, 0)}
			if err := st.Publish(ctx, nv, data); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// BenchmarkList6000 measures the unauthenticated list and search endpoints
// over 300 modules of 20 versions each (6,000 versions, #17 finding 13).
func BenchmarkList6000(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  registry.Config
	}{
		{"cached", registry.Config{}},
		{"uncached", registry.Config{ListCacheTTL: -1}},
	} {
		r := newTestRegistry(b, bc.cfg)
		seedVersions(b, r.st, 300, 20)
		h := registry.NewHandler(r.svc, registry.HandlerOptions{})
		for _, p := range []struct{ name, path string }{
			{"list", "/v1/modules"},
			{"list_namespace", "/v1/modules/ns3?offset=15"},
			{"search", "/v1/modules/search?q=estate,+version+19"},
		} {
			b.Run(bc.name+"/"+p.name, func(b *testing.B) { benchGet(b, h, p.path, "", http.StatusOK) })
		}
	}
}
