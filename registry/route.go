package registry

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Route names. Each is the name of one gorilla/mux route and the "route" label of
// the HTTP metrics and access log; routeNone labels requests no route matched.
const (
	routeNone       = "not_found"
	routeDiscovery  = "discovery"
	routeHealth     = "healthz"
	routeMetrics    = "metrics"
	routeList       = "list"
	routeSearch     = "search"
	routeListNS     = "list_namespace"
	routeLatest     = "latest"
	routeVersions   = "versions"
	routeDetails    = "details"
	routeDownload   = "download"
	routeDownloadLt = "download_latest"
	routeArchive    = "archive"
	routeUpload     = "upload"
)

// Path variables. Each matches one non-empty path segment (mux's default
// pattern, [^/]+); the service validates them (names, semantic versions), so a
// segment such as ".." is a module that does not exist, not a way out.
const (
	varNS      = "ns"
	varName    = "name"
	varSystem  = "system"
	varVersion = "version"

	// slash lets a parameterised path end in one '/', as the hand-written parser
	// before mux did. It is a pattern, not StrictSlash: StrictSlash answers with a
	// redirect, and clients of this protocol get the answer itself.
	slash = "{slash:/?}"
)

var (
	readMethods   = []string{http.MethodGet, http.MethodHead}
	uploadMethods = []string{http.MethodPost, http.MethodPut}
)

// newRouter returns the registry's routes over h's endpoint handlers.
//
// Paths are matched as they arrive, decoded but not cleaned (SkipClean): a
// path with "//", "." or ".." segments is not redirected to a cleaned form but
// matched as is, where an empty segment matches no route (404) and a dot
// segment reaches the service as a name it refuses. Encoded slashes are decoded
// before matching (the default, not UseEncodedPath), so "a%2Fb" is two
// segments, as it always was; neither form can name anything outside the
// module's own keys.
//
// Routes are tried in order: literal paths before the variables that would also
// match them (search before {ns}, versions and download before {version}), and
// the endpoints every `tofu init` calls first within their prefix.
func newRouter(h *Handler) *mux.Router {
	r := mux.NewRouter().SkipClean(true).StrictSlash(false)
	r.NotFoundHandler = http.HandlerFunc(h.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(h.methodNotAllowed)
	r.Use(h.nameRoute)

	modules := r.PathPrefix("/v1/modules/").Subrouter()
	mod := "/{" + varNS + "}/{" + varName + "}/{" + varSystem + "}"
	ver := mod + "/{" + varVersion + "}"
	modules.Handle(mod+"/versions"+slash, h.api(h.versions)).Methods(readMethods...).Name(routeVersions)
	modules.Handle(ver+"/download"+slash, h.api(h.download)).Methods(readMethods...).Name(routeDownload)
	modules.Handle(mod+"/download"+slash, h.api(h.download)).Methods(readMethods...).Name(routeDownloadLt)
	modules.Handle(ver+slash, h.api(h.details)).Methods(readMethods...).Name(routeDetails)
	modules.Handle(mod+slash, h.api(h.details)).Methods(readMethods...).Name(routeLatest)
	modules.Handle("/search", h.api(h.list)).Methods(readMethods...).Name(routeSearch)
	modules.Handle("/{"+varNS+"}"+slash, h.api(h.list)).Methods(readMethods...).Name(routeListNS)

	r.Handle("/v1/archives"+mod+"/{"+varVersion+"}.tar.gz"+slash, h.api(h.archive)).Methods(readMethods...).Name(routeArchive)
	r.Handle("/api/v1/modules"+ver+slash, h.api(h.upload)).Methods(uploadMethods...).Name(routeUpload)
	r.Handle("/v1/modules"+slash, h.api(h.list)).Methods(readMethods...).Name(routeList)
	r.HandleFunc("/.well-known/terraform.json", h.discovery).Methods(readMethods...).Name(routeDiscovery)
	r.HandleFunc("/healthz", h.healthz).Name(routeHealth)
	r.Handle("/metrics", h.metrics.handler).Name(routeMetrics)
	return r
}

// nameRoute is the router's middleware: it labels the request's record with the
// matched route's name for the metrics and the access log.
func (h *Handler) nameRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			if rt := mux.CurrentRoute(r); rt != nil {
				rec.route = rt.GetName()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// allowed returns the route that would serve r with another method, and that
// route's methods; "" if there is none.
func (h *Handler) allowed(r *http.Request) (string, []string) {
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		other := r.WithContext(r.Context())
		other.Method = m
		var match mux.RouteMatch
		if h.router.Match(other, &match) && match.Route != nil {
			methods, _ := match.Route.GetMethods()
			return match.Route.GetName(), methods
		}
	}
	return "", nil
}
