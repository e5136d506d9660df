package registry

import (
	"net/http"
	"strings"

	"github.com/platdev/plat/registry/store"
)

// hotRoute matches the three requests every `tofu init` makes, a module's
// versions, a version's download location and its archive, without
// gorilla/mux: mux tries each route's regular expression in turn, then copies
// the request twice to put the route and its variables in the context, which
// was most of the handler's own time on a version lookup (BENCHMARKS.md,
// issue 16). It accepts exactly the requests whose first matching mux route is
// routeVersions, routeDownload or routeArchive, with the same variables: GET or
// HEAD, every variable one non-empty segment, one optional trailing '/'.
// TestHotRouteMatchesMux and FuzzHotRoute hold it to mux's answer; any other
// request goes to the router.
func hotRoute(method, path string) (string, store.Key, bool) {
	if method != http.MethodGet && method != http.MethodHead {
		return "", store.Key{}, false
	}
	if rest, ok := strings.CutPrefix(path, "/v1/modules/"); ok {
		var seg [5]string
		switch n := segments(rest, seg[:]); {
		case n == 4 && seg[3] == "versions":
			return routeVersions, store.Key{Ref: store.Ref{Namespace: seg[0], Name: seg[1], System: seg[2]}}, true
		case n == 5 && seg[4] == "download":
			return routeDownload, store.Key{Ref: store.Ref{Namespace: seg[0], Name: seg[1], System: seg[2]}, Version: seg[3]}, true
		}
		return "", store.Key{}, false
	}
	if rest, ok := strings.CutPrefix(path, "/v1/archives/"); ok {
		var seg [4]string
		if segments(rest, seg[:]) != 4 {
			return "", store.Key{}, false
		}
		v, ok := strings.CutSuffix(seg[3], ".tar.gz")
		if !ok || v == "" {
			return "", store.Key{}, false
		}
		return routeArchive, store.Key{Ref: store.Ref{Namespace: seg[0], Name: seg[1], System: seg[2]}, Version: v}, true
	}
	return "", store.Key{}, false
}

// segments splits rest, less one trailing '/', into seg and returns how many
// segments it held; 0 when there are more than len(seg) or one is empty.
func segments(rest string, seg []string) int {
	rest = strings.TrimSuffix(rest, "/")
	for n := range seg {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			if rest == "" {
				return 0
			}
			seg[n] = rest
			return n + 1
		}
		if i == 0 {
			return 0
		}
		seg[n], rest = rest[:i], rest[i+1:]
	}
	return 0
}
