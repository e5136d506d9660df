package registry_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/platdev/plat/registry"
)

// routeLog captures the route label of the last access-log record.
type routeLog struct {
	mu    sync.Mutex
	route string
}

func (l *routeLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *routeLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *routeLog) WithGroup(string) slog.Handler            { return l }
func (l *routeLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "route" {
			l.mu.Lock()
			l.route = a.Value.String()
			l.mu.Unlock()
			return false
		}
		return true
	})
	return nil
}

// router is a registry handler (SQLite store, acme/network/aws/1.0.0 published)
// that reports the route each request was counted under.
type router struct {
	h   http.Handler
	log *routeLog
}

func newRouter(t testing.TB) *router {
	r := newTestRegistry(t, registry.Config{})
	if code, body := r.publish(t, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(t, goodArchive)); code != 201 {
		t.Fatalf("publish: %d %s", code, body)
	}
	l := &routeLog{}
	return &router{h: registry.NewHandler(r.svc, registry.HandlerOptions{AccessLog: true, AccessLogger: slog.New(l)}), log: l}
}

// serve sends a request for target (a request target as on the wire: the server
// parses it as it would any client's) and returns the response and the route.
// ok is false if net/http itself refuses the request line.
func (rt *router) serve(method, target string) (w *httptest.ResponseRecorder, route string, ok bool) {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\nHost: registry.test\r\n\r\n")))
	if err != nil {
		return nil, "", false
	}
	w = httptest.NewRecorder()
	rt.h.ServeHTTP(w, req)
	rt.log.mu.Lock()
	defer rt.log.mu.Unlock()
	return w, rt.log.route, true
}

// TestRoutes pins which route answers each path, odd paths included. Paths are
// matched as they arrive (not cleaned, not redirected): empty segments match
// nothing, dot segments are names the service refuses, an encoded slash is a
// slash, and parameterised paths may end in one '/'.
func TestRoutes(t *testing.T) {
	rt := newRouter(t)
	cases := []struct {
		method, path string
		route        string
		status       int
		allow        string
	}{
		{"GET", "/.well-known/terraform.json", "discovery", 200, ""},
		{"HEAD", "/.well-known/terraform.json", "discovery", 200, ""},
		{"POST", "/.well-known/terraform.json", "discovery", 405, "GET, HEAD"},
		{"GET", "/healthz", "healthz", 200, ""},
		{"POST", "/healthz", "healthz", 200, ""},
		{"GET", "/metrics", "metrics", 200, ""},
		{"GET", "/v1/modules", "list", 200, ""},
		{"GET", "/v1/modules/", "list", 200, ""},
		{"GET", "/v1/modules/search?q=net", "search", 200, ""},
		{"GET", "/v1/modules/acme", "list_namespace", 200, ""},
		{"GET", "/v1/modules/acme/", "list_namespace", 200, ""},
		{"GET", "/v1/modules/search/", "list_namespace", 200, ""},
		{"GET", "/v1/modules/acme/network/aws", "latest", 200, ""},
		{"GET", "/v1/modules/acme/network/aws/", "latest", 200, ""},
		{"GET", "/v1/modules/acme/network/aws/versions", "versions", 200, ""},
		{"HEAD", "/v1/modules/acme/network/aws/versions", "versions", 200, ""},
		{"GET", "/v1/modules/acme/network/aws/versions/", "versions", 200, ""},
		{"GET", "/v1/modules/acme/network/aws/download", "download_latest", 204, ""},
		{"GET", "/v1/modules/acme/network/aws/1.0.0", "details", 200, ""},
		{"GET", "/v1/modules/acme/network/aws/1.0.0/download", "download", 204, ""},
		{"GET", "/v1/modules/acme/network/aws/1.0.0/download/", "download", 204, ""},
		{"GET", "/v1/archives/acme/network/aws/1.0.0.tar.gz", "archive", 200, ""},
		{"HEAD", "/v1/archives/acme/network/aws/1.0.0.tar.gz", "archive", 200, ""},
		{"POST", "/api/v1/modules/acme/network/aws/2.0.0", "upload", 401, ""},
		{"PUT", "/api/v1/modules/acme/network/aws/2.0.0", "upload", 401, ""},
		{"GET", "/api/v1/modules/acme/network/aws/2.0.0", "upload", 405, "POST, PUT"},
		{"DELETE", "/v1/modules/acme/network/aws/versions", "versions", 405, "GET, HEAD"},
		{"POST", "/v1/modules/search", "search", 405, "GET, HEAD"},
		{"POST", "/v1/archives/acme/network/aws/1.0.0.tar.gz", "archive", 405, "GET, HEAD"},
		// Not found by the service: the route matched, the module does not exist.
		{"GET", "/v1/modules/acme/nope/aws/versions", "versions", 404, ""},
		{"GET", "/v1/modules/../network/aws/versions", "versions", 404, ""},
		{"GET", "/v1/modules/acme/network/aws/..", "details", 404, ""},
		{"GET", "/v1/modules/acme/network/aws/1.0.0.tar.gz", "details", 404, ""},
		{"GET", "/v1/archives/acme/network/../1.0.0.tar.gz", "archive", 404, ""},
		{"GET", "/v1/archives/acme/network/aws/1.0.0.tar.gz.tar.gz", "archive", 404, ""},
		{"GET", "/v1/modules/%2E%2E/network/aws/versions", "versions", 404, ""},
		{"POST", "/api/v1/modules/../network/aws/2.0.0", "upload", 401, ""},
		// Decoded before matching: an encoded slash separates segments.
		{"GET", "/v1/modules/acme%2Fnetwork/aws/versions", "versions", 200, ""},
		{"GET", "/v1/modules/acme/network%2Faws%2Fversions", "versions", 200, ""},
		// No route.
		{"GET", "/", "not_found", 404, ""},
		{"GET", "/healthz/", "not_found", 404, ""},
		{"GET", "/.well-known/terraform.json/", "not_found", 404, ""},
		{"GET", "/v1/modules/search//", "not_found", 404, ""},
		{"GET", "//v1/modules", "not_found", 404, ""},
		{"GET", "/v1//modules", "not_found", 404, ""},
		{"GET", "/v1/modules//", "not_found", 404, ""},
		{"GET", "/v1/modules/acme//aws/versions", "not_found", 404, ""},
		{"GET", "/v1/modules/acme/network/aws//versions", "not_found", 404, ""},
		{"GET", "/v1/modules/acme/network/aws/versions//", "not_found", 404, ""},
		{"GET", "/v1/modules/acme/network/aws/../versions", "not_found", 404, ""},
		{"GET", "/v1/modules/acme/network/aws/./versions", "not_found", 404, ""},
		{"GET", "/v1/modules/acme/network%2F%2Faws/versions", "not_found", 404, ""},
		{"GET", "/v1/modules/a/b", "not_found", 404, ""},
		{"GET", "/v1/modules/acme/network/aws/1.0.0/download/x", "not_found", 404, ""},
		{"GET", "/v1/archives/acme/network/aws/.tar.gz", "not_found", 404, ""},
		{"GET", "/v1/archives/acme/network/aws/1.0.0", "not_found", 404, ""},
		{"GET", "/v1/archives/acme/network/aws/1.0.0.tar.gz/x", "not_found", 404, ""},
		{"GET", "/api/v1/modules/acme/network/aws", "not_found", 404, ""},
		{"DELETE", "/nope", "not_found", 404, ""},
	}
	for _, tc := range cases {
		w, route, ok := rt.serve(tc.method, tc.path)
		if !ok {
			t.Fatalf("%s %s: bad request line", tc.method, tc.path)
		}
		if route != tc.route || w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = route %s, %d, Allow %q; want %s, %d, Allow %q", tc.method, tc.path, route, w.Code, w.Header().Get("Allow"), tc.route, tc.status, tc.allow)
		}
		if tc.status >= 400 && tc.method != "HEAD" {
			var eb struct{ Errors []string }
			if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || len(eb.Errors) != 1 {
				t.Errorf("%s %s: error body %q", tc.method, tc.path, w.Body)
			}
		}
	}
}

// routes lists every route name, in the order of the kind argument of FuzzRouter.
var routes = []string{"discovery", "healthz", "metrics", "list", "search", "list_namespace", "latest", "versions", "details", "download", "download_latest", "archive", "upload"}

// knownPath returns the path of route (one of routes) for a module key
// "ns/name/system/version", with a trailing slash where the route allows one;
// ok is false unless the key's parts are valid names and a semantic version.
func knownPath(route, key string, trailing bool) (method, path string, ok bool) {
	p := strings.Split(key, "/")
	if len(p) != 4 || !registry.ValidName(p[0]) || !registry.ValidName(p[1]) || !registry.ValidName(p[2]) || !registry.ValidVersion(p[3]) {
		return "", "", false
	}
	mod := p[0] + "/" + p[1] + "/" + p[2]
	method = "GET"
	switch route {
	case "discovery":
		return method, "/.well-known/terraform.json", true
	case "healthz":
		return method, "/healthz", true
	case "metrics":
		return method, "/metrics", true
	case "search":
		return method, "/v1/modules/search?q=" + p[1], true
	case "list":
		path = "/v1/modules"
	case "list_namespace":
		path = "/v1/modules/" + p[0]
	case "latest":
		path = "/v1/modules/" + mod
	case "versions":
		path = "/v1/modules/" + mod + "/versions"
	case "details":
		path = "/v1/modules/" + mod + "/" + p[3]
	case "download":
		path = "/v1/modules/" + mod + "/" + p[3] + "/download"
	case "download_latest":
		path = "/v1/modules/" + mod + "/download"
	case "archive":
		path = "/v1/archives/" + mod + "/" + p[3] + ".tar.gz"
	case "upload":
		method, path = "POST", "/api/v1/modules/"+mod+"/"+p[3]
	}
	if trailing {
		path += "/"
	}
	return method, path, true
}

// FuzzRouter sends random requests through the registry's handler (SQLite
// store, one module published). No request may panic or get a 5xx (nothing here
// really fails), errors have the registry's JSON shape, every request is
// counted under a known route, and the path of a route built from a valid
// module key reaches that route.
func FuzzRouter(f *testing.F) {
	for _, s := range []struct {
		method, target string
		kind           uint8
		key            string
	}{
		{"GET", "/v1/modules/acme/network/aws/versions", 7, "acme/network/aws/1.0.0"},
		{"GET", "/v1/modules/acme/network/aws/1.0.0/download", 9, "acme/network/aws/1.0.0"},
		{"HEAD", "/v1/archives/acme/network/aws/1.0.0.tar.gz", 11 | 0x80, "acme/network/aws/1.0.0"},
		{"POST", "/api/v1/modules/acme/network/aws/1.0.0", 12, "acme/network/aws/2.0.0-rc.1+build.5"},
		{"DELETE", "/v1/modules/acme/network/aws/versions", 8, "a/b/c/0.0.1"},
		{"GET", "/v1/modules/search?q=net&namespace=acme", 4, "acme/network/aws/1.0.0"},
		{"GET", "/v1/modules/search/", 5, "search/network/aws/1.0.0"},
		{"GET", "/v1/modules/acme%2Fnetwork/aws/versions/", 10 | 0x80, "acme/network/aws/1.0.0"},
		{"GET", "/v1/modules/../network/aws/versions", 6, "x-y/n_1/aws/1.0.0"},
		{"GET", "//v1/modules/a/b/c/d/e/f/g/h", 3 | 0x80, "acme/network/aws/1.0.0"},
		{"PUT", "/v1/archives/acme/network/aws/.tar.gz", 0, "acme/network/aws/1.0.0"},
		{"OPTIONS", "/healthz/", 1, "acme/network/aws/1.0.0"},
		{"GET", "/metrics", 2, "acme/network/aws/1.0.0"},
	} {
		f.Add(s.method, s.target, s.kind, s.key)
	}
	rt := newRouter(f)
	known := map[string]bool{"not_found": true}
	for _, r := range routes {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, method, target string, kind uint8, key string) {
		if w, route, ok := rt.serve(method, target); ok {
			checkResponse(t, method, target, w, route, known)
		}
		want := routes[int(kind&0x7f)%len(routes)]
		m, path, ok := knownPath(want, key, kind&0x80 != 0 && want != "discovery" && want != "healthz" && want != "metrics" && want != "search")
		if !ok {
			return
		}
		if want == "list_namespace" && strings.Split(key, "/")[0] == "search" {
			want = "search" // /v1/modules/search is the search endpoint, not a namespace
		}
		w, route, ok := rt.serve(m, path)
		if !ok {
			t.Fatalf("%s %s: bad request line", m, path)
		}
		checkResponse(t, m, path, w, route, known)
		if route != want {
			t.Fatalf("%s %s: route %s, want %s", m, path, route, want)
		}
		switch want {
		case "upload":
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("%s %s without a token: %d", m, path, w.Code)
			}
		case "versions", "details", "download", "download_latest", "archive", "latest":
			if key == "acme/network/aws/1.0.0" && w.Code >= 300 {
				t.Fatalf("%s %s: %d for the published module", m, path, w.Code)
			}
		default:
			if w.Code != http.StatusOK {
				t.Fatalf("%s %s: %d", m, path, w.Code)
			}
		}
	})
}

func checkResponse(t *testing.T, method, target string, w *httptest.ResponseRecorder, route string, known map[string]bool) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s %q: %d %s", method, target, w.Code, w.Body)
	}
	if !known[route] {
		t.Fatalf("%s %q: counted under route %q", method, target, route)
	}
	if route == "not_found" && w.Code != http.StatusNotFound {
		t.Fatalf("%s %q: no route but %d", method, target, w.Code)
	}
	if w.Code == http.StatusMethodNotAllowed && (route == "not_found" || w.Header().Get("Allow") == "") {
		t.Fatalf("%s %q: 405 on route %s, Allow %q", method, target, route, w.Header().Get("Allow"))
	}
	if w.Code >= 400 && method != "HEAD" {
		var eb struct{ Errors []string }
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil || len(eb.Errors) != 1 {
			t.Fatalf("%s %q: %d with error body %q", method, target, w.Code, w.Body)
		}
	}
}

// TestHandlersShareNothing builds handlers while another serves: several live in
// one process (tests, and replicas in one binary), and -race checks that
// building a router writes nothing the others read.
func TestHandlersShareNothing(t *testing.T) {
	rt := newRouter(t)
	svc := newTestRegistry(t, registry.Config{}).svc
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			registry.NewHandler(svc, registry.HandlerOptions{})
		}
	}()
	for range 200 {
		if w, route, _ := rt.serve("GET", "/v1/modules/acme/network/aws/versions"); w.Code != 200 || route != "versions" {
			t.Fatalf("versions: %d %s", w.Code, route)
		}
	}
	<-done
}
