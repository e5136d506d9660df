package registry_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/internal/oidctest"
	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/auth"
)

const ciAudience = "https://registry.example.test"

// ciPolicy trusts is: acme/infra's main branch publishes to acme, every acme
// repository reads acme.
func ciPolicy(t testing.TB, is *oidctest.Issuer) *auth.Policy {
	t.Helper()
	p, err := auth.ParsePolicy("auth.yaml", []byte(fmt.Sprintf(`issuers:
  - url: %s
    audience: %s
    rules:
      - namespace: acme
        scope: publish
        claims: {repository: acme/infra, ref: refs/heads/main}
      - namespace: acme
        scope: read
        claims: {repository: "acme/*"}
`, is.URL, ciAudience)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ciClaims(repo, ref string) oidctest.Claims {
	return oidctest.Claims{"aud": ciAudience, "repository": repo, "ref": ref}
}

// newOIDCRegistry is a registry requiring read tokens that trusts a test
// issuer beside its static tokens.
func newOIDCRegistry(t testing.TB, logs *testtools.SyncBuffer) (*testRegistry, *oidctest.Issuer) {
	t.Helper()
	is := oidctest.New(t)
	o := auth.OIDCOptions{}
	if logs != nil {
		o.Log = slog.New(slog.NewTextHandler(logs, nil))
	}
	r := newTestRegistry(t, registry.Config{RequireReadToken: true, OIDC: auth.NewOIDC(ciPolicy(t, is), o)})
	return r, is
}

// TestHTTPOIDC publishes and reads with ID tokens, next to static tokens, and
// checks each refusal's status and that no answer or log echoes the token.
func TestHTTPOIDC(t *testing.T) {
	logs := &testtools.SyncBuffer{}
	r, is := newOIDCRegistry(t, logs)
	pub := is.Sign(t, ciClaims("acme/infra", "refs/heads/main"))
	read := is.Sign(t, ciClaims("acme/app", "refs/heads/main"))
	if code, body := r.publish(t, read, "acme/network/aws/1.0.0", tarGz(t, goodArchive)); code != 403 || !strings.Contains(body, "publish") {
		t.Errorf("publish with a read-scoped ID token: %d %s", code, body)
	}
	if code, body := r.publish(t, pub, "acme/network/aws/1.0.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish with a publish-scoped ID token: %d %s", code, body)
	}
	if code, body := r.publish(t, pub, "other/network/aws/1.0.0", tarGz(t, goodArchive)); code != 403 {
		t.Errorf("publish to a namespace no rule grants: %d %s", code, body)
	}
	// Static tokens keep working beside ID tokens.
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.1.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish with a static token: %d %s", code, body)
	}
	for _, tok := range []string{read, pub, r.tok["acme/read"]} {
		if resp, body := r.do(t, "GET", "/v1/modules/acme/network/aws/versions", tok, nil); resp.StatusCode != 200 {
			t.Errorf("versions: %d %s", resp.StatusCode, body)
		}
	}
	// Signed download links keep working for archives.
	resp, _ := r.do(t, "GET", "/v1/modules/acme/network/aws/1.0.0/download", read, nil)
	loc := resp.Header.Get("X-Terraform-Get")
	if resp.StatusCode != 204 || !strings.Contains(loc, "&grant=") {
		t.Fatalf("download with an ID token: %d %q", resp.StatusCode, loc)
	}
	if resp, _ := r.do(t, "GET", loc, "", nil); resp.StatusCode != 200 {
		t.Errorf("archive through the grant: %d", resp.StatusCode)
	}

	noneHeader := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0" // {"alg":"none","typ":"JWT"}
	parts := strings.Split(read, ".")
	for _, tc := range []struct {
		name, tok string
		want      int
		reason    string
	}{
		{"no rule", is.Sign(t, ciClaims("mallory/infra", "refs/heads/main")), 403, "no rule"},
		{"expired", is.Sign(t, oidctest.Claims{"aud": ciAudience, "repository": "acme/app", "exp": time.Now().Add(-time.Minute).Unix()}), 401, "expired"},
		{"wrong audience", is.Sign(t, oidctest.Claims{"aud": "elsewhere", "repository": "acme/app"}), 401, "audience"},
		{"unknown key", is.SignWith(t, oidctest.NewKey(t), ciClaims("acme/app", "refs/heads/main")), 401, "key"},
		{"alg none", noneHeader + "." + parts[1] + ".", 401, "alg none"},
		{"bad signature", parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), 401, "signature"},
		{"wrong issuer", oidctest.New(t).Sign(t, ciClaims("acme/app", "refs/heads/main")), 401, "issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := r.do(t, "GET", "/v1/modules/acme/network/aws/versions", tc.tok, nil)
			if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.reason) {
				t.Errorf("%d %s, want %d and a reason about %q", resp.StatusCode, body, tc.want, tc.reason)
			}
			if tc.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
			for _, p := range strings.Split(tc.tok, ".") {
				if len(p) > 8 && strings.Contains(string(body), p) {
					t.Errorf("the answer echoes the token: %s", body)
				}
			}
		})
	}
	_, metrics := r.do(t, "GET", "/metrics", "", nil)
	for _, want := range []string{
		fmt.Sprintf(`plat_registry_oidc_decisions_total{issuer=%q,outcome="accepted"}`, is.URL),
		fmt.Sprintf(`plat_registry_oidc_decisions_total{issuer=%q,outcome="no_rule"} 1`, is.URL),
		fmt.Sprintf(`plat_registry_oidc_decisions_total{issuer=%q,outcome="expired"} 1`, is.URL),
		`plat_registry_oidc_decisions_total{issuer="unknown",outcome="alg_none"} 1`,
		`plat_registry_oidc_decisions_total{issuer="unknown",outcome="wrong_issuer"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, tok := range []string{pub, read} {
		if strings.Contains(logs.String(), strings.Split(tok, ".")[2]) {
			t.Errorf("the log holds a token")
		}
	}
	for _, want := range []string{`msg="oidc token accepted"`, `msg="oidc token refused"`, "outcome=no_rule", "grants="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
}

// TestHTTPOIDCWithoutPolicy: an ID token sent to a registry without a trust
// policy is refused as such, not looked up as a static token.
func TestHTTPOIDCWithoutPolicy(t *testing.T) {
	is := oidctest.New(t)
	r := newTestRegistry(t, registry.Config{RequireReadToken: true})
	resp, body := r.do(t, "GET", "/v1/modules/acme/network/aws/versions", is.Sign(t, ciClaims("acme/app", "refs/heads/main")), nil)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "no trust policy") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}
