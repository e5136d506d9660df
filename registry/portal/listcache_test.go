package portal_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/portal"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// TestModuleListPageFresh: the module-list page kept for repeated searches is
// never staler than the service's list: a module published between two
// identical searches shows up in the second.
func TestModuleListPageFresh(t *testing.T) {
	ctx := context.Background()
	st, err := serve.OpenStore(ctx, serve.StoreConfig{DataDir: t.TempDir(), ArchiveCache: serve.DefaultArchiveCache}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc, err := registry.NewService(ctx, st, registry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := portal.New(svc, portal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := &store.Token{Namespace: "acme", Scope: store.ScopePublish}
	publish := func(name string) {
		t.Helper()
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for file, body := range map[string]string{"README.md": "# " + name + "\n\nA network module.\n", "main.tf": "variable \"name\" {}\n"} {
			tw.WriteHeader(&tar.Header{Name: file, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644})
			tw.Write([]byte(body))
		}
		tw.Close()
		zw.Close()
		k := store.Key{Ref: store.Ref{Namespace: "acme", Name: name, System: "aws"}, Version: "1.0.0"}
		if _, err := svc.Publish(ctx, tok, k, &buf); err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
	}
	search := func() string {
		t.Helper()
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/modules?q=network", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /modules?q=network: %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	publish("vpc")
	first := search()
	if again := search(); again != first || !strings.Contains(first, `href="/modules/acme/vpc/aws"`) {
		t.Fatalf("repeated search differs or lacks vpc:\n%s", again)
	}
	publish("subnets")
	if got := search(); !strings.Contains(got, `href="/modules/acme/subnets/aws"`) || !strings.Contains(got, `href="/modules/acme/vpc/aws"`) {
		t.Errorf("search right after publishing subnets does not list both:\n%s", got)
	}
}
