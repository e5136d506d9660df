package registry_test

import (
	"net/http"
	"testing"

	"github.com/platdev/plat/registry"
)

// BenchmarkVersionsOIDCvsStatic compares version lookups authenticated with an
// ID token (verified once, then served from the verified-token cache) to
// lookups with a static read token, on one registry in one run.
func BenchmarkVersionsOIDCvsStatic(b *testing.B) {
	r, is := newOIDCRegistry(b, nil)
	if code, body := r.publish(b, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(b, goodArchive)); code != 201 {
		b.Fatalf("publish: %d %s", code, body)
	}
	h := registry.NewHandler(r.svc, registry.HandlerOptions{})
	const path = "/v1/modules/acme/network/aws/versions"
	b.Run("static", func(b *testing.B) { benchGet(b, h, path, r.tok["acme/read"], http.StatusOK) })
	b.Run("oidc", func(b *testing.B) {
		benchGet(b, h, path, is.Sign(b, ciClaims("acme/app", "refs/heads/main")), http.StatusOK)
	})
}
