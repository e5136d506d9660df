package registry

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/platdev/plat/registry/store"
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

	routeModuleDeprecate  = "module_deprecate"
	routeModuleYank       = "module_yank"
	routeCatalogUpload    = "catalog_upload"
	routeCatalogVersions  = "catalog_versions"
	routeCatalogDownload  = "catalog_download"
	routeCatalogDeprecate = "catalog_deprecate"
	routeCatalogYank      = "catalog_yank"
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

// Methods of the routes. (*mux.Route).Methods upper-cases the slice it is given
// in place, so each route gets its own copy: a shared slice would be written by
// every new Handler while others read it.
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
// The routes are one flat list, tried in order: the lookups every `tofu init`
// makes first, and literal paths before the variables that would also match
// them (versions and download before {version}, search before {ns}). A
// Subrouter per prefix would test the prefix three more times on each hot
// request, and 13 routes do not need it.
func newRouter(h *Handler) *mux.Router {
	r := mux.NewRouter().SkipClean(true).StrictSlash(false)
	r.NotFoundHandler = http.HandlerFunc(h.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(h.methodNotAllowed)

	// A module's path segments, and a version's.
	mod := "/{" + varNS + "}/{" + varName + "}/{" + varSystem + "}"
	ver := mod + "/{" + varVersion + "}"
	route := func(name, path string, hd http.Handler, methods ...string) {
		rt := r.Handle(path, named(name, hd)).Name(name)
		if len(methods) > 0 {
			rt.Methods(slices.Clone(methods)...)
		}
	}
	route(routeVersions, "/v1/modules"+mod+"/versions"+slash, h.api(h.apiResp(h.versions)), readMethods...)
	route(routeDownload, "/v1/modules"+ver+"/download"+slash, h.api(h.apiResp(h.download)), readMethods...)
	route(routeDownloadLt, "/v1/modules"+mod+"/download"+slash, h.api(h.apiResp(h.download)), readMethods...)
	route(routeArchive, "/v1/archives"+ver+".tar.gz"+slash, h.api(h.apiResp(h.archive)), readMethods...)
	route(routeDetails, "/v1/modules"+ver+slash, h.api(h.details), readMethods...)
	route(routeLatest, "/v1/modules"+mod+slash, h.api(h.details), readMethods...)
	route(routeSearch, "/v1/modules/search", h.api(h.search), readMethods...)
	providerRoutes(h, route) // the provider network mirror, /v1/providers/ (providers_http.go)
	route(routeListNS, "/v1/modules/{"+varNS+"}"+slash, h.api(h.list), readMethods...)
	route(routeList, "/v1/modules"+slash, h.api(h.list), readMethods...)
	route(routeDiscovery, "/.well-known/terraform.json", http.HandlerFunc(h.discovery), readMethods...)
	route(routeHealth, "/healthz", http.HandlerFunc(h.healthz))
	route(routeMetrics, "/metrics", h.metrics.handler)
	route(routeModuleDeprecate, "/api/v1/modules"+ver+"/deprecate"+slash, h.api(h.moduleMark(store.MarkDeprecated)), http.MethodPost)
	route(routeModuleYank, "/api/v1/modules"+ver+"/yank"+slash, h.api(h.moduleMark(store.MarkYanked)), http.MethodPost)
	route(routeUpload, "/api/v1/modules"+ver+slash, h.api(h.upload), uploadMethods...)
	// Catalogs: /api/v1/catalogs/{ns}/{name}[/{version}[/download|/deprecate|/yank]].
	cat := "/api/v1/catalogs/{" + varNS + "}/{" + varName + "}"
	cver := cat + "/{" + varVersion + "}"
	route(routeCatalogDownload, cver+"/download"+slash, h.catalogAPI(h.catalogDownload), readMethods...)
	route(routeCatalogDeprecate, cver+"/deprecate"+slash, h.catalogMark(store.MarkDeprecated), http.MethodPost)
	route(routeCatalogYank, cver+"/yank"+slash, h.catalogMark(store.MarkYanked), http.MethodPost)
	route(routeCatalogUpload, cver+slash, h.catalogAPI(h.catalogUpload), uploadMethods...)
	route(routeCatalogVersions, cat+slash, h.catalogAPI(h.catalogVersions), readMethods...)
	h.addUsage(route)     // usage_http.go
	h.addBackstage(route) // backstage.go
	if h.portal != nil {
		for _, p := range PortalPaths {
			name := "portal_" + strings.Trim(p.Path, "/")
			switch p.Path {
			case "/":
				name = "portal_home"
			case "/favicon.ico":
				name = "portal_favicon"
			}
			if p.Prefix {
				r.PathPrefix(p.Path).Handler(named(name, h.portal)).Name(name)
			} else {
				r.Handle(p.Path, named(name, h.portal)).Name(name)
			}
		}
	}
	return r
}

// PortalPath is a path the web UI answers: exactly, and with Prefix every
// path below it too.
type PortalPath struct {
	Path   string
	Prefix bool
}

// PortalPaths are the paths HandlerOptions.Portal is mounted on, after every
// API route (docs/portal.md). The portal answers other methods and unknown
// pages below them itself.
var PortalPaths = []PortalPath{
	{Path: "/"},
	{Path: "/paths", Prefix: true},
	{Path: "/modules", Prefix: true},
	{Path: "/stacks", Prefix: true},
	{Path: "/drift", Prefix: true},
	{Path: "/login"},
	{Path: "/logout"},
	{Path: "/assets/", Prefix: true},
	{Path: "/favicon.ico"},
}

// named labels the request's record with the route's name for the metrics and
// the access log. The name is bound when the route is built rather than looked
// up per request (mux.CurrentRoute in a router middleware): mux builds the
// middleware chain anew on every request, an allocation on the hot path.
func named(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec, ok := w.(*recorder); ok {
			rec.route = name
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
