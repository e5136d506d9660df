package registry

import (
	"net/http"
	"strings"

	"github.com/platdev/plat/registry/store"
)

// hotRoute matches the two lookups every `tofu init` makes, a module's
// versions and a version's download location, without gorilla/mux: mux tries
// each route's regular expression, then copies the request twice to put the
// route and its variables in the context, which was most of the handler's own
// time on a version lookup (BENCHMARKS.md, issue 16). It accepts exactly the
// requests whose first matching mux route is routeVersions or routeDownload
// (the first two routes of newRouter), with the same variables: GET or HEAD,
// every variable one non-empty segment, one optional trailing '/'.
// TestHotRouteMatchesMux and FuzzHotRoute hold it to mux's answer; any other
// request goes to the router.
func hotRoute(method, path string) (string, store.Key, bool) {
	if method != http.MethodGet && method != http.MethodHead {
		return "", store.Key{}, false
	}
	rest, ok := strings.CutPrefix(path, "/v1/modules/")
	if !ok {
		return "", store.Key{}, false
	}
	rest = strings.TrimSuffix(rest, "/")
	var seg [5]string
	n := 0
	for ; n < len(seg); n++ {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			seg[n], rest = rest, ""
			n++
			break
		}
		seg[n], rest = rest[:i], rest[i+1:]
		if i == 0 || rest == "" {
			return "", store.Key{}, false // an empty segment
		}
	}
	if rest != "" || seg[n-1] == "" {
		return "", store.Key{}, false
	}
	ref := store.Ref{Namespace: seg[0], Name: seg[1], System: seg[2]}
	switch {
	case n == 4 && seg[3] == "versions":
		return routeVersions, store.Key{Ref: ref}, true
	case n == 5 && seg[4] == "download":
		return routeDownload, store.Key{Ref: ref, Version: seg[3]}, true
	}
	return "", store.Key{}, false
}
