package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/platdev/plat/internal/oidctest"
	"github.com/platdev/plat/internal/testtools"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

const testAudience = "https://registry.example.test"

// testPolicy trusts is with rules for the acme namespace.
func testPolicy(t testing.TB, is *oidctest.Issuer) *auth.Policy {
	t.Helper()
	src := fmt.Sprintf(`issuers:
  - url: %s
    audience: %s
    rules:
      - namespace: acme
        scope: publish
        claims:
          repository: acme/infra
          ref: refs/heads/main
      - namespace: acme
        scope: read
        claims:
          repository_owner: acme
      - namespace: shared
        scope: read
        claims:
          repository: ["acme/*", "other/tools"]
`, is.URL, testAudience)
	p, err := auth.ParsePolicy("auth.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newVerifier(t testing.TB, is *oidctest.Issuer) (*auth.OIDC, *testtools.SyncBuffer) {
	logs := &testtools.SyncBuffer{}
	v := auth.NewOIDC(testPolicy(t, is), auth.OIDCOptions{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return v, logs
}

// mainClaims is the claims of a GitHub Actions job on acme/infra's main branch.
func mainClaims() oidctest.Claims {
	return oidctest.Claims{"aud": testAudience, "repository": "acme/infra", "repository_owner": "acme", "ref": "refs/heads/main"}
}

func with(c oidctest.Claims, kv ...any) oidctest.Claims {
	out := oidctest.Claims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func TestOIDCAccepts(t *testing.T) {
	is := oidctest.New(t)
	v, logs := newVerifier(t, is)
	raw := is.Sign(t, mainClaims())
	if !auth.IsJWT(raw) {
		t.Fatalf("a signed ID token is not recognised as a JWT")
	}
	id, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if id.Issuer != is.URL || id.Subject == "" || len(id.Grants) != 3 {
		t.Fatalf("identity = %+v", id)
	}
	if tok := id.Token("acme"); tok.Namespace != "acme" || tok.Scope != store.ScopePublish {
		t.Errorf("token for acme = %+v, want acme publish", tok)
	}
	if tok := id.Token("shared"); tok.Namespace != "shared" || tok.Scope != store.ScopeRead {
		t.Errorf("token for shared = %+v, want shared read", tok)
	}
	if tok := id.Token("elsewhere"); tok.Namespace != "acme" {
		t.Errorf("token for a namespace no rule grants = %+v, want the first grant (acme)", tok)
	}
	// A feature branch of the same repository gets read only.
	id, err = v.Verify(context.Background(), is.Sign(t, with(mainClaims(), "ref", "refs/heads/feature")))
	if err != nil {
		t.Fatal(err)
	}
	if tok := id.Token("acme"); tok.Scope != store.ScopeRead {
		t.Errorf("feature branch token = %+v, want read", tok)
	}
	// The second use of a token is served from the cache: no key set fetch,
	// still counted and logged.
	fetches := is.JWKSFetches()
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if is.JWKSFetches() != fetches {
		t.Errorf("a cached token fetched the key set again")
	}
	if got := counter(t, v, is.URL, auth.OutcomeAccepted); got != 3 {
		t.Errorf("accepted decisions = %v, want 3", got)
	}
	if strings.Contains(logs.String(), raw) || strings.Contains(logs.String(), strings.Split(raw, ".")[2]) {
		t.Errorf("the log holds the token:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `msg="oidc token accepted"`) || !strings.Contains(logs.String(), "cached=true") {
		t.Errorf("decisions not logged:\n%s", logs.String())
	}
}

// counter reads plat_registry_oidc_decisions_total{issuer, outcome}.
func counter(t testing.TB, v *auth.OIDC, issuer, outcome string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(v.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`issuer="%s",outcome="%s"`, issuer, outcome)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf(`%s="%s"`, l.GetName(), l.GetValue()))
			}
			if strings.Join(labels, ",") == want {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// TestOIDCRefusals checks each way a token is refused: the outcome, 401 vs
// 403, a reason that does not echo the token, and the count.
func TestOIDCRefusals(t *testing.T) {
	is := oidctest.New(t)
	other := oidctest.New(t)
	v, logs := newVerifier(t, is)
	ctx := context.Background()
	// A known key id first, so that a bad signature with it is told apart
	// from an unknown key.
	if _, err := v.Verify(ctx, is.Sign(t, mainClaims())); err != nil {
		t.Fatal(err)
	}
	good := is.Sign(t, mainClaims())
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(
		`{"iss":%q,"aud":%q,"repository":"acme/infra","repository_owner":"acme","ref":"refs/heads/main","exp":%d}`,
		is.URL, testAudience, time.Now().Add(time.Hour).Unix()))) + "." + parts[2]
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	hsHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	for _, tc := range []struct {
		name, raw, outcome string
		forbidden          bool
		issuer             string
	}{
		{"no rule", is.Sign(t, with(mainClaims(), "repository", "mallory/infra", "repository_owner", "mallory")), auth.OutcomeNoRule, true, is.URL},
		{"claim absent", is.Sign(t, with(mainClaims(), "repository", nil, "repository_owner", nil)), auth.OutcomeNoRule, true, is.URL},
		{"expired", is.Sign(t, with(mainClaims(), "exp", time.Now().Add(-time.Minute).Unix())), auth.OutcomeExpired, false, is.URL},
		{"not yet valid", is.Sign(t, with(mainClaims(), "nbf", time.Now().Add(time.Hour).Unix())), auth.OutcomeNotYetValid, false, is.URL},
		{"wrong audience", is.Sign(t, with(mainClaims(), "aud", "https://someone-else.test")), auth.OutcomeWrongAudience, false, is.URL},
		{"unknown key", is.SignWith(t, oidctest.NewKey(t), mainClaims()), auth.OutcomeUnknownKey, false, is.URL},
		{"bad signature", tampered, auth.OutcomeBadSignature, false, is.URL},
		{"alg none", noneHeader + "." + parts[1] + ".", auth.OutcomeAlgNone, false, "unknown"},
		{"hmac", hsHeader + "." + parts[1] + "." + parts[2], auth.OutcomeBadAlg, false, "unknown"},
		{"wrong issuer", other.Sign(t, mainClaims()), auth.OutcomeWrongIssuer, false, "unknown"},
		{"not json", "eyJub3Q.anNvbg.c2ln", auth.OutcomeMalformed, false, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := counter(t, v, tc.issuer, tc.outcome)
			_, err := v.Verify(ctx, tc.raw)
			var ref *auth.Refusal
			if !errors.As(err, &ref) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			if ref.Outcome != tc.outcome || ref.Forbidden != tc.forbidden {
				t.Errorf("outcome %s forbidden %v (%s), want %s forbidden %v", ref.Outcome, ref.Forbidden, ref.Reason, tc.outcome, tc.forbidden)
			}
			for _, p := range strings.Split(tc.raw, ".") {
				if len(p) > 8 && (strings.Contains(err.Error(), p) || strings.Contains(logs.String(), p)) {
					t.Errorf("the reason or the log echoes the token: %v", err)
				}
			}
			if got := counter(t, v, tc.issuer, tc.outcome); got != before+1 {
				t.Errorf("count of %s/%s = %v, want %v", tc.issuer, tc.outcome, got, before+1)
			}
		})
	}
	if !strings.Contains(logs.String(), `msg="oidc token refused"`) || !strings.Contains(logs.String(), "outcome=expired") {
		t.Errorf("refusals not logged:\n%s", logs.String())
	}
}

// TestOIDCKeyRotation checks that the key set is cached, and fetched again
// when a token names a key id the cache does not hold: a rotated key works at
// once.
// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestOIDCKeyRotation(t *testing.T) {
	is := oidctest.New(t)
	clock := &fakeClock{t: time.Now()}
	v := auth.NewOIDC(testPolicy(t, is), auth.OIDCOptions{Now: clock.Now})
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.Sign(t, mainClaims())); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, is.Sign(t, with(mainClaims(), "ref", "refs/heads/other"))); err != nil {
		t.Fatal(err)
	}
	if n := is.JWKSFetches(); n != 1 {
		t.Fatalf("key set fetched %d times for two tokens signed with one key, want 1 (cached)", n)
	}
	is.Rotate(t)
	clock.Add(11 * time.Second)
	if _, err := v.Verify(ctx, is.Sign(t, mainClaims())); err != nil {
		t.Fatalf("token signed with the rotated key: %v", err)
	}
	if n := is.JWKSFetches(); n != 2 {
		t.Errorf("key set fetched %d times after the rotation, want 2", n)
	}
}

// TestOIDCUnknownKeyIDsLimited checks that tokens naming key ids the issuer
// never published cost at most one key set fetch per interval, and that a
// key published meanwhile is accepted once the interval has passed.
func TestOIDCUnknownKeyIDsLimited(t *testing.T) {
	is := oidctest.New(t)
	clock := &fakeClock{t: time.Now()}
	v := auth.NewOIDC(testPolicy(t, is), auth.OIDCOptions{Now: clock.Now, KeySetInterval: 10 * time.Second})
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.Sign(t, mainClaims())); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		_, err := v.Verify(ctx, is.SignWith(t, oidctest.NewKey(t), with(mainClaims(), "n", i)))
		var r *auth.Refusal
		if !errors.As(err, &r) {
			t.Fatalf("token %d signed with an unpublished key: err = %v, want a refusal", i, err)
		}
	}
	if n := is.JWKSFetches(); n != 1 {
		t.Fatalf("key set fetched %d times for 50 tokens with made-up key ids within the interval, want 1", n)
	}
	is.Rotate(t)
	tok := is.Sign(t, mainClaims())
	if _, err := v.Verify(ctx, tok); err == nil {
		t.Fatal("a key published within the interval was fetched at once: the limit does not hold")
	}
	clock.Add(11 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("token signed with the key published before the interval passed: %v", err)
	}
	if n := is.JWKSFetches(); n != 2 {
		t.Errorf("key set fetched %d times, want 2", n)
	}
}

// TestOIDCIssuerDown checks that an issuer that cannot be reached is an error
// (not a refusal), counted, and asked again later.
func TestOIDCIssuerDown(t *testing.T) {
	is := oidctest.New(t)
	raw := is.Sign(t, mainClaims())
	pol := testPolicy(t, is)
	is.Close()
	v := auth.NewOIDC(pol, auth.OIDCOptions{})
	_, err := v.Verify(context.Background(), raw)
	var ref *auth.Refusal
	if !errors.Is(err, auth.ErrIssuerUnavailable) || errors.As(err, &ref) {
		t.Fatalf("err = %v, want ErrIssuerUnavailable", err)
	}
	if strings.Contains(err.Error(), strings.Split(raw, ".")[2]) {
		t.Errorf("error echoes the token: %v", err)
	}
	if got := counter(t, v, is.URL, auth.OutcomeUnavailable); got != 1 {
		t.Errorf("unavailable count = %v", got)
	}
}

func TestIsJWT(t *testing.T) {
	secret, _, _ := auth.NewToken()
	for s, want := range map[string]bool{
		secret:             false,
		"eyJh.eyJi.c2ln":   true,
		"eyJh.eyJi.":       true, // alg none: refused by name, not as an unknown static token
		"a.b":              false,
		"a..c":             false,
		".b.c":             false,
		"a.b.c.d":          false,
		"plat_a.b.c":       false,
		"":                 false,
		"not-a-jwt-at-all": false,
	} {
		if got := auth.IsJWT(s); got != want {
			t.Errorf("IsJWT(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestOIDCCacheExpiry checks that a cached token is refused once it expires.
func TestOIDCCacheExpiry(t *testing.T) {
	is := oidctest.New(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := auth.NewOIDC(testPolicy(t, is), auth.OIDCOptions{Now: clock})
	raw := is.Sign(t, with(mainClaims(), "exp", now.Add(time.Minute).Unix()))
	for i := 0; i < 2; i++ {
		if _, err := v.Verify(context.Background(), raw); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	_, err := v.Verify(context.Background(), raw)
	var ref *auth.Refusal
	if !errors.As(err, &ref) || ref.Outcome != auth.OutcomeExpired {
		t.Fatalf("a cached token past its expiry: err = %v, want expired", err)
	}
}
