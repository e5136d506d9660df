package portal_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/platdev/plat/internal/oidctest"
	"github.com/platdev/plat/registry/auth"
)

// TestLoginWithIDToken: an ID token whose grants name two namespaces sees
// both; one whose claims no rule matches is refused like a bad token.
func TestLoginWithIDToken(t *testing.T) {
	is := oidctest.New(t)
	pol, err := auth.ParsePolicy("auth.yaml", []byte(fmt.Sprintf(`issuers:
  - url: %s
    audience: plat-portal
    rules:
      - namespace: acme
        scope: read
        claims: {repository: "acme/*"}
      - namespace: other
        scope: read
        claims: {repository: "acme/shared"}
`, is.URL)))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOpts{requireRead: true, oidc: auth.NewOIDC(pol, auth.OIDCOptions{})})
	e.seed()
	c := e.client()
	if r := e.login(c, is.Sign(t, oidctest.Claims{"aud": "plat-portal", "repository": "acme/shared"})); r.status != http.StatusSeeOther {
		t.Fatalf("login: %d\n%s", r.status, r.body)
	}
	_, f := e.page(c, "/modules", http.StatusOK)
	if !strings.Contains(f.Text, "acme/net") || !strings.Contains(f.Text, "other/secret") || !strings.Contains(f.Text, "Namespaces: acme, other") {
		t.Errorf("two namespaces' modules:\n%s", f.Text)
	}
	e.page(c, "/modules/other/secret/aws", http.StatusOK)

	c2 := e.client()
	e.login(c2, is.Sign(t, oidctest.Claims{"aud": "plat-portal", "repository": "acme/app"}))
	_, f = e.page(c2, "/modules", http.StatusOK)
	if !strings.Contains(f.Text, "acme/net") || strings.Contains(f.Text, "other/secret") {
		t.Errorf("one namespace's modules:\n%s", f.Text)
	}
	e.page(c2, "/modules/other/secret/aws", http.StatusNotFound)

	if r := e.login(e.client(), is.Sign(t, oidctest.Claims{"aud": "plat-portal", "repository": "mallory/app"})); r.status != http.StatusUnauthorized {
		t.Errorf("unmatched ID token: %d", r.status)
	}
}
