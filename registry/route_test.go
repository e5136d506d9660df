package registry

import (
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	cases := []struct {
		path string
		want route
	}{
		{"/.well-known/terraform.json", route{kind: routeDiscovery}},
		{"/v1/modules", route{kind: routeList}},
		{"/v1/modules/", route{kind: routeList}},
		{"/v1/modules/search", route{kind: routeSearch}},
		{"/v1/modules/acme", route{kind: routeListNS, ns: "acme"}},
		{"/v1/modules/acme/net/aws", route{kind: routeLatest, ns: "acme", name: "net", system: "aws"}},
		{"/v1/modules/acme/net/aws/versions", route{kind: routeVersions, ns: "acme", name: "net", system: "aws"}},
		{"/v1/modules/acme/net/aws/download", route{kind: routeDownloadLt, ns: "acme", name: "net", system: "aws"}},
		{"/v1/modules/acme/net/aws/1.2.3", route{kind: routeDetails, ns: "acme", name: "net", system: "aws", version: "1.2.3"}},
		{"/v1/modules/acme/net/aws/1.2.3/download", route{kind: routeDownload, ns: "acme", name: "net", system: "aws", version: "1.2.3"}},
		{"/v1/archives/acme/net/aws/1.2.3.tar.gz", route{kind: routeArchive, ns: "acme", name: "net", system: "aws", version: "1.2.3"}},
		{"/api/v1/modules/acme/net/aws/1.2.3", route{kind: routeUpload, ns: "acme", name: "net", system: "aws", version: "1.2.3"}},
		{"/v1/modules/acme//aws/versions", route{kind: routeNone}},
		{"/v1/modules/acme/net/aws/1.2.3/download/x", route{kind: routeNone}},
		{"/v1/archives/acme/net/aws/.tar.gz", route{kind: routeNone}},
		{"/v1/archives/acme/net/aws/1.2.3", route{kind: routeNone}},
		{"/v1/modules/a/b", route{kind: routeNone}},
		{"/", route{kind: routeNone}},
	}
	for _, tc := range cases {
		if got := parseRoute(tc.path); got != tc.want {
			t.Errorf("parseRoute(%q) = %+v, want %+v", tc.path, got, tc.want)
		}
	}
}

// FuzzParseRoute checks the path parser never panics and only yields parameters
// that are non-empty single path segments.
func FuzzParseRoute(f *testing.F) {
	for _, p := range []string{"/v1/modules/acme/net/aws/versions", "/v1/modules/acme/net/aws/1.0.0/download", "/v1/archives/a/b/c/1.0.0.tar.gz", "/api/v1/modules/a/b/c/1.0.0", "/v1/modules//", "/v1/modules/search", "//v1/modules/a/b/c/d/e/f/g/h"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := parseRoute(p)
		params := []string{r.ns, r.name, r.system, r.version}
		need := 0
		switch r.kind {
		case routeListNS:
			need = 1
		case routeLatest, routeVersions, routeDownloadLt:
			need = 3
		case routeDetails, routeDownload, routeArchive, routeUpload:
			need = 4
		}
		for i, s := range params {
			if i < need && s == "" {
				t.Fatalf("%q: %s has an empty parameter %d", p, r.kind, i)
			}
			if i >= need && s != "" {
				t.Fatalf("%q: %s has an extra parameter %q", p, r.kind, s)
			}
			if strings.Contains(s, "/") {
				t.Fatalf("%q: parameter %q holds a slash", p, s)
			}
		}
	})
}
