package portal_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/store"
)

// TestModuleListLatestNotYanked: the list's latest version (and its
// description) is the newest one not yanked, as on the module page; when the
// yank is cleared the newest is latest again.
func TestModuleListLatestNotYanked(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.seed() // acme/net/aws: 1.0.0, 1.1.0, and 1.2.0 yanked
	c := e.client()
	row := regexp.MustCompile(`(?s)<a href="/modules/acme/net/aws">acme/net</a></td>\s*<td>aws</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>`)
	for _, p := range []string{"/modules", "/modules?q=net"} {
		r, _ := e.page(c, p, http.StatusOK)
		m := row.FindStringSubmatch(r.body)
		if m == nil || m[1] != "1.1.0" || m[2] != `The network module: a VPC &amp; &#34;subnets&#34;.` {
			t.Errorf("%s: acme/net row %q, want latest 1.1.0 with its description", p, m)
		}
	}
	pub, _ := e.svc.Authenticate(context.Background(), e.tok["acme/publish"])
	k := store.Key{Ref: store.Ref{Namespace: "acme", Name: "net", System: "aws"}, Version: "1.2.0"}
	if err := e.svc.MarkModule(context.Background(), pub, k, store.MarkYanked, registry.MarkRequest{Undo: true}); err != nil {
		t.Fatal(err)
	}
	r, _ := e.page(c, "/modules", http.StatusOK)
	if m := row.FindStringSubmatch(r.body); m == nil || m[1] != "1.2.0" {
		t.Errorf("after clearing the yank: acme/net row %q, want 1.2.0", m)
	}
}
