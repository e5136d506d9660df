package portal_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/platdev/plat/registry/auth"
)

// TestLoginRequired: with --require-read-token every page sends a visitor
// without a session to /login, keeping where they were going.
func TestLoginRequired(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true})
	e.seed()
	c := e.client()
	for path, next := range map[string]string{"/": "", "/modules?q=net": "/modules?q=net", "/modules/acme/net/aws": "/modules/acme/net/aws", "/paths": "/paths", "/stacks": "/stacks", "/drift": "/drift"} {
		r := e.get(c, path)
		loc := r.header.Get("Location")
		if r.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Errorf("GET %s: %d Location %q, want 303 to /login", path, r.status, loc)
			continue
		}
		u, _ := url.Parse(loc)
		if got := u.Query().Get("next"); got != next {
			t.Errorf("GET %s: next %q, want %q", path, got, next)
		}
	}
	r, _ := e.page(c, "/login?next=/modules", http.StatusOK)
	for _, want := range []string{`<input name="token" id="token" type="password"`, `<label for="token">`, `value="/modules"`, `<form class="login" method="post" action="/login">`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
}

// TestLoginSeesOnlyItsNamespace: a read token of acme sees acme's modules,
// catalogs and stacks, and nothing of other's.
func TestLoginSeesOnlyItsNamespace(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true})
	e.seed()
	c := e.client()
	r := e.login(c, e.tok["acme/read"])
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/modules" {
		t.Fatalf("login: %d Location %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	var sc string
	for _, v := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "plat_session=") {
			sc = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("session cookie %q is Secure on plain HTTP: the browser would never send it back", sc)
	}
	if strings.Contains(sc, e.tok["acme/read"]) {
		t.Errorf("session cookie holds the token in the clear")
	}
	_, f := e.page(c, "/modules", http.StatusOK)
	if !strings.Contains(f.Text, "acme/net") || strings.Contains(f.Text, "secret") {
		t.Errorf("acme's module list:\n%s", f.Text)
	}
	if !strings.Contains(f.Text, "Namespaces: acme") {
		t.Errorf("the header does not say which namespaces the login reads")
	}
	e.page(c, "/modules/acme/net/aws", http.StatusOK)
	e.page(c, "/modules/other/secret/aws", http.StatusNotFound)
	_, f = e.page(c, "/paths", http.StatusOK)
	if !strings.Contains(f.Text, "acme/golden") || strings.Contains(f.Text, "other/golden") {
		t.Errorf("catalogs:\n%s", f.Text)
	}
	e.page(c, "/paths/acme/golden@1.0.0/queue", http.StatusOK)
	e.page(c, "/paths/other/golden@1.0.0/queue", http.StatusNotFound)
	_, f = e.page(c, "/stacks", http.StatusOK)
	if !strings.Contains(f.Text, "checkout") || strings.Contains(f.Text, "hidden") {
		t.Errorf("stacks:\n%s", f.Text)
	}
	e.page(c, "/stacks/hidden", http.StatusNotFound)

	// Another namespace's token sees the other side.
	c2 := e.client()
	e.login(c2, e.tok["other/read"])
	_, f = e.page(c2, "/modules", http.StatusOK)
	if strings.Contains(f.Text, "acme/net") || !strings.Contains(f.Text, "other/secret") {
		t.Errorf("other's module list:\n%s", f.Text)
	}
}

// TestLoginRefusesBadToken: a clear message, 401, the token not echoed, no
// cookie.
func TestLoginRefusesBadToken(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true})
	c := e.client()
	bogus := "plat_notARealToken<script>"
	for _, tok := range []string{bogus, "", strings.Repeat("x", 5000), "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"} {
		r := e.login(c, tok)
		if r.status != http.StatusUnauthorized {
			t.Errorf("login %.20q: %d, want 401", tok, r.status)
		}
		if tok != "" && strings.Contains(r.body, tok[:12]) {
			t.Errorf("login %.20q: the page echoes the token", tok)
		}
		if len(r.header.Values("Set-Cookie")) > 0 {
			t.Errorf("login %.20q: sets %v", tok, r.header.Values("Set-Cookie"))
		}
		if _, ps := checkPage(r.body); len(ps) > 0 {
			t.Errorf("login %.20q: page problems %v", tok, ps)
		}
	}
	r := e.login(c, bogus)
	if !strings.Contains(r.body, "did not accept that token") {
		t.Errorf("no clear message:\n%s", r.body)
	}
	// A forged or tampered cookie is no session.
	u, _ := url.Parse(e.url)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "plat_session", Value: "AAAA" + strings.Repeat("b", 60)}})
	if r := e.get(c, "/modules"); r.status != http.StatusSeeOther {
		t.Errorf("forged cookie: %d", r.status)
	}
}

// TestLogoutAndRevocation: logging out ends the session; a token revoked
// while logged in ends it at the next request.
func TestLogoutAndRevocation(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true, noTokenCache: true})
	e.seed()
	c := e.client()
	e.login(c, e.tok["acme/read"])
	e.page(c, "/modules", http.StatusOK)
	r := e.do(c, http.MethodPost, "/logout", url.Values{}, map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin"})
	if r.status != http.StatusSeeOther || !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "Max-Age=0") {
		t.Fatalf("logout: %d %v", r.status, r.header)
	}
	if r := e.get(c, "/modules"); r.status != http.StatusSeeOther {
		t.Errorf("after logout: %d", r.status)
	}

	e.login(c, e.tok["acme/read"])
	e.page(c, "/modules", http.StatusOK)
	if err := e.st.DeleteToken(context.Background(), auth.Hash(e.tok["acme/read"])); err != nil {
		t.Fatal(err)
	}
	r = e.get(c, "/modules")
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "why=expired") {
		t.Errorf("revoked token: %d %q", r.status, r.header.Get("Location"))
	}
}

// TestCSRF: a login or logout posted from another site is refused; the
// session survives the forged logout.
func TestCSRF(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true})
	e.seed()
	c := e.client()
	cross := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	r := e.do(c, http.MethodPost, "/login", url.Values{"token": {e.tok["acme/read"]}}, cross)
	if r.status != http.StatusForbidden || len(r.header.Values("Set-Cookie")) > 0 {
		t.Errorf("cross-site login: %d %v", r.status, r.header.Values("Set-Cookie"))
	}
	checkHeaders(t, "cross-site login", r)
	// An old browser: no Sec-Fetch-Site, an Origin of another host.
	r = e.do(c, http.MethodPost, "/login", url.Values{"token": {e.tok["acme/read"]}}, map[string]string{"Origin": "https://evil.example"})
	if r.status != http.StatusForbidden {
		t.Errorf("cross-origin login: %d", r.status)
	}
	e.login(c, e.tok["acme/read"])
	if r := e.do(c, http.MethodPost, "/logout", url.Values{}, cross); r.status != http.StatusForbidden {
		t.Errorf("cross-site logout: %d", r.status)
	}
	e.page(c, "/modules", http.StatusOK)
}

// TestSecureCookieUnderTLS: over HTTPS the session cookie is Secure.
func TestSecureCookieUnderTLS(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true, tls: true, noCatalog: true})
	c := e.client()
	r := e.login(c, e.tok["acme/read"])
	if r.status != http.StatusSeeOther || !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "Secure") {
		t.Errorf("login over TLS: %d %v", r.status, r.header.Values("Set-Cookie"))
	}
}

// TestOpenRegistryNeedsNoLogin: without --require-read-token every page is
// open and the login page says so.
func TestOpenRegistryNeedsNoLogin(t *testing.T) {
	e := newEnv(t, envOpts{noCatalog: true})
	c := e.client()
	_, f := e.page(c, "/login", http.StatusOK)
	if !strings.Contains(f.Text, "needs no token") {
		t.Errorf("login page: %s", f.Text)
	}
	e.page(c, "/modules", http.StatusOK)
}

func TestSafeNext(t *testing.T) {
	e := newEnv(t, envOpts{requireRead: true, noCatalog: true})
	for next, want := range map[string]string{
		"/modules?q=a": "/modules?q=a", "//evil.example/": "/", "https://evil.example/": "/", "/\\evil.example": "/",
		"javascript:alert(1)": "/", "": "/", "modules": "/",
	} {
		c := e.client()
		r := e.do(c, http.MethodPost, "/login", url.Values{"token": {e.tok["acme/read"]}, "next": {next}}, map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin"})
		if got := r.header.Get("Location"); got != want {
			t.Errorf("next %q: Location %q, want %q", next, got, want)
		}
	}
}
