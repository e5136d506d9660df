package registry

import "strings"

// routeKind names a route; it is also the "route" label of the HTTP metrics.
type routeKind string

const (
	routeNone       routeKind = "not_found"
	routeDiscovery  routeKind = "discovery"
	routeHealth     routeKind = "healthz"
	routeMetrics    routeKind = "metrics"
	routeList       routeKind = "list"
	routeSearch     routeKind = "search"
	routeListNS     routeKind = "list_namespace"
	routeLatest     routeKind = "latest"
	routeVersions   routeKind = "versions"
	routeDetails    routeKind = "details"
	routeDownload   routeKind = "download"
	routeDownloadLt routeKind = "download_latest"
	routeArchive    routeKind = "archive"
	routeUpload     routeKind = "upload"
)

// route is a parsed request path. Parameters are raw path segments: non-empty and
// free of '/'; the service validates them.
type route struct {
	kind                      routeKind
	ns, name, system, version string
}

const archiveSuffix = ".tar.gz"

// parseRoute maps a request path to a route; unknown paths give routeNone. It is
// allocation-light because it runs on every request.
func parseRoute(p string) route {
	switch p {
	case "/.well-known/terraform.json":
		return route{kind: routeDiscovery}
	case "/healthz":
		return route{kind: routeHealth}
	case "/metrics":
		return route{kind: routeMetrics}
	case "/v1/modules", "/v1/modules/":
		return route{kind: routeList}
	case "/v1/modules/search":
		return route{kind: routeSearch}
	}
	var segs [7]string
	switch {
	case strings.HasPrefix(p, "/v1/modules/"):
		n, ok := split(p[len("/v1/modules/"):], segs[:])
		if !ok {
			return route{kind: routeNone}
		}
		switch n {
		case 1:
			return route{kind: routeListNS, ns: segs[0]}
		case 3:
			return route{kind: routeLatest, ns: segs[0], name: segs[1], system: segs[2]}
		case 4:
			r := route{ns: segs[0], name: segs[1], system: segs[2]}
			switch segs[3] {
			case "versions":
				r.kind = routeVersions
			case "download":
				r.kind = routeDownloadLt
			default:
				r.kind, r.version = routeDetails, segs[3]
			}
			return r
		case 5:
			if segs[4] == "download" {
				return route{kind: routeDownload, ns: segs[0], name: segs[1], system: segs[2], version: segs[3]}
			}
		}
	case strings.HasPrefix(p, "/v1/archives/"):
		n, ok := split(p[len("/v1/archives/"):], segs[:])
		if ok && n == 4 && strings.HasSuffix(segs[3], archiveSuffix) && len(segs[3]) > len(archiveSuffix) {
			return route{kind: routeArchive, ns: segs[0], name: segs[1], system: segs[2], version: strings.TrimSuffix(segs[3], archiveSuffix)}
		}
	case strings.HasPrefix(p, "/api/v1/modules/"):
		n, ok := split(p[len("/api/v1/modules/"):], segs[:])
		if ok && n == 4 {
			return route{kind: routeUpload, ns: segs[0], name: segs[1], system: segs[2], version: segs[3]}
		}
	}
	return route{kind: routeNone}
}

// split splits s at '/' into dst, allowing one trailing slash; it fails on empty
// segments or more segments than dst holds.
func split(s string, dst []string) (int, bool) {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return 0, false
	}
	n := 0
	for {
		if n == len(dst) {
			return 0, false
		}
		i := strings.IndexByte(s, '/')
		if i < 0 {
			dst[n] = s
			return n + 1, s != ""
		}
		if i == 0 {
			return 0, false
		}
		dst[n] = s[:i]
		n++
		s = s[i+1:]
	}
}
