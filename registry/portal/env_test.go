package portal_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/portal"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// env is a registry with the portal mounted, over a SQLite store in a
// temporary directory, served by httptest.
type env struct {
	t   *testing.T
	url string
	svc *registry.Service
	st  store.Store
	tok map[string]string // "ns/scope" -> secret
	srv *httptest.Server
}

type envOpts struct {
	requireRead  bool
	driftReports string
	noCatalog    bool
	noTokenCache bool // every request asks the store about the token
	tls          bool
	oidc         *auth.OIDC
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	st, err := serve.OpenStore(ctx, serve.StoreConfig{DataDir: t.TempDir()}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := registry.Config{RequireReadToken: o.requireRead, ListCacheTTL: -1, OIDC: o.oidc}
	if o.noTokenCache {
		cfg.TokenTTL = -1
	}
	svc, err := registry.NewService(ctx, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	po := portal.Options{DriftReports: o.driftReports}
	if !o.noCatalog {
		po.Catalog = catalog.FS
	}
	p, err := portal.New(svc, po)
	if err != nil {
		t.Fatal(err)
	}
	h := registry.NewHandler(svc, registry.HandlerOptions{Portal: p})
	srv := httptest.NewUnstartedServer(h)
	if o.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	e := &env{t: t, url: srv.URL, svc: svc, st: st, tok: map[string]string{}, srv: srv}
	for _, ns := range []string{"acme", "other"} {
		for _, sc := range []store.Scope{store.ScopePublish, store.ScopeRead} {
			secret, hash, _ := auth.NewToken()
			if err := st.CreateToken(ctx, store.Token{Hash: hash, Namespace: ns, Scope: sc, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			e.tok[ns+"/"+string(sc)] = secret
		}
	}
	return e
}

func tarGz(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: int64(len(body)), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

const mainTF = `variable "region" {
  type        = string
  description = "Region to deploy into"
}

variable "size" {
  type    = number
  default = 3
}

output "id" {
  value       = var.region
  description = "The id"
}
`

// publish publishes a module with the given README through the service.
func (e *env) publish(ns, name, system, version, readme string) {
	e.t.Helper()
	files := map[string]string{"main.tf": mainTF}
	if readme != "" {
		files["README.md"] = readme
	}
	tok, err := e.svc.Authenticate(context.Background(), e.tok[ns+"/publish"])
	if err != nil {
		e.t.Fatal(err)
	}
	k := store.Key{Ref: store.Ref{Namespace: ns, Name: name, System: system}, Version: version}
	if _, err := e.svc.Publish(context.Background(), tok, k, bytes.NewReader(tarGz(e.t, files))); err != nil {
		e.t.Fatalf("publish %s: %v", k, err)
	}
}

// client is a browser-like client: a cookie jar, no redirects followed
// unless asked.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: e.srv.Client().Transport, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(c *http.Client, method, path string, form url.Values, hdr map[string]string) response {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(c *http.Client, path string) response {
	e.t.Helper()
	return e.do(c, http.MethodGet, path, nil, nil)
}

// login posts token on /login as a same-origin browser form would.
func (e *env) login(c *http.Client, token string) response {
	e.t.Helper()
	return e.do(c, http.MethodPost, "/login", url.Values{"token": {token}, "next": {"/modules"}},
		map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin"})
}

// page GETs path, wants status and a page that passes checkPage.
func (e *env) page(c *http.Client, path string, status int) (response, pageFacts) {
	e.t.Helper()
	r := e.get(c, path)
	if r.status != status {
		e.t.Fatalf("GET %s: status %d, want %d\n%s", path, r.status, status, r.body)
	}
	checkHeaders(e.t, path, r)
	f, problems := checkPage(r.body)
	for _, p := range problems {
		e.t.Errorf("GET %s: %s", path, p)
	}
	if len(problems) > 0 {
		e.t.Logf("page:\n%s", r.body)
	}
	return r, f
}

// checkHeaders wants the security headers on every answer.
func checkHeaders(t *testing.T, path string, r response) {
	t.Helper()
	csp := r.header.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("%s: Content-Security-Policy %q allows inline code", path, csp)
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", path, got)
	}
	if r.header.Get("Referrer-Policy") == "" {
		t.Errorf("%s: no Referrer-Policy", path)
	}
}
