package registry

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gorilla/mux"
)

// muxRoute returns the name of the route mux picks for method and path, and its
// module key variables; "" when the first match is no route of hotRoute's.
func muxRoute(t testing.TB, r *mux.Router, method, path string) (string, map[string]string) {
	req := &http.Request{Method: method, URL: &url.URL{Path: path}, Header: http.Header{}}
	var m mux.RouteMatch
	if !r.Match(req, &m) || m.Route == nil || m.MatchErr != nil {
		return "", nil
	}
	return m.Route.GetName(), m.Vars
}

// checkHot compares hotRoute with the router on one request: hotRoute must
// claim exactly the requests mux gives to routeVersions or routeDownload, with
// the same variables.
func checkHot(t testing.TB, r *mux.Router, method, path string) {
	t.Helper()
	name, key, ok := hotRoute(method, path)
	want, vars := muxRoute(t, r, method, path)
	if want != routeVersions && want != routeDownload && want != routeArchive {
		if ok {
			t.Fatalf("%s %q: hotRoute claims %s, mux picks %q", method, path, name, want)
		}
		return
	}
	if !ok || name != want {
		t.Fatalf("%s %q: hotRoute says %q (%v), mux picks %s", method, path, name, ok, want)
	}
	if key.Namespace != vars[varNS] || key.Name != vars[varName] || key.System != vars[varSystem] || key.Version != vars[varVersion] {
		t.Fatalf("%s %q: hotRoute key %+v, mux vars %v", method, path, key, vars)
	}
}

func testRouter() *mux.Router { return newRouter(&Handler{metrics: newMetrics()}) }

func TestHotRouteMatchesMux(t *testing.T) {
	r := testRouter()
	paths := []string{
		"/v1/modules/a/b/c/versions", "/v1/modules/a/b/c/versions/", "/v1/modules/a/b/c/versions//",
		"/v1/modules/a/b/c/1.0.0/download", "/v1/modules/a/b/c/1.0.0/download/", "/v1/modules/a/b/c/download",
		"/v1/modules/a/b/versions", "/v1/modules/a/b/c/d/versions", "/v1/modules/a//c/versions",
		"/v1/modules//b/c/versions", "/v1/modules/a/b/c//download", "/v1/modules/a/b/c/1.0.0/download/x",
		"/v1/modules/a/b/c/versions/x", "/v1/modules/", "/v1/modules", "/v1/modules/a/b/c", "/v1/modules/a/b/c/1.0.0",
		"/v1/modules/search", "/v1/modules/../b/c/versions", "/v1/modules/./b/c/versions", "//v1/modules/a/b/c/versions",
		"/v1/modules/a/b/c/versionsx", "/v1/modules/a/b/c/1.0.0/downloads", "/v1/modules/a/b/versions/download",
		"/v1/modules/versions/versions/versions/versions", "/api/v1/modules/a/b/c/1.0.0/download",
		"/v1/modules/a b/b/c/versions", "/v1/modules/a/b/c/1.0.0+x/download", "",
		"/v1/archives/a/b/c/1.0.0.tar.gz", "/v1/archives/a/b/c/1.0.0.tar.gz/", "/v1/archives/a/b/c/.tar.gz",
		"/v1/archives/a/b/c/1.0.0.tar.gz.tar.gz", "/v1/archives/a/b/c/1.0.0.tgz", "/v1/archives/a/b/1.0.0.tar.gz",
		"/v1/archives/a/b/c/d/1.0.0.tar.gz", "/v1/archives/a//c/1.0.0.tar.gz", "/v1/archives/a/b/c/1.0.0.tar.gz//",
		"/v1/archives/a/b/c/1.0.0.tar.gzx", "/v1/archives/", "/v1/archives/a/b/c/tar.gz",
	}
	for _, p := range paths {
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, "get"} {
			checkHot(t, r, m, p)
		}
	}
	// The cases above reach both answers.
	if _, _, ok := hotRoute(http.MethodGet, "/v1/modules/a/b/c/versions/"); !ok {
		t.Fatal("versions with a trailing slash not claimed")
	}
	if _, _, ok := hotRoute(http.MethodHead, "/v1/modules/a/b/c/1.0.0/download"); !ok {
		t.Fatal("download not claimed")
	}
	if _, k, ok := hotRoute(http.MethodGet, "/v1/archives/a/b/c/1.0.0.tar.gz.tar.gz"); !ok || k.Version != "1.0.0.tar.gz" {
		t.Fatalf("archive: %+v %v", k, ok)
	}
}

// FuzzHotRoute holds hotRoute to mux's answer on arbitrary paths.
func FuzzHotRoute(f *testing.F) {
	for _, p := range []string{"/v1/modules/a/b/c/versions", "/v1/modules/a/b/c/1.0.0/download/", "/v1/modules/a//c/versions", "/v1/modules/a/b/c/d/e/download", "/v1/archives/a/b/c/1.0.0.tar.gz"} {
		f.Add("GET", p)
	}
	r := testRouter()
	f.Fuzz(func(t *testing.T, method, path string) {
		checkHot(t, r, method, path)
	})
}
