package registry_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/platdev/plat/registry"
)

// BenchmarkVersionsOIDCvsStatic compares version lookups authenticated with an
// ID token (verified once, then served from the verified-token cache) with
// lookups with a static read token, on one registry in one run. Each
// iteration makes one request of each kind, so load on the machine falls on
// both alike; it reports each kind's median time per request and their ratio.
func BenchmarkVersionsOIDCvsStatic(b *testing.B) {
	r, is := newOIDCRegistry(b, nil)
	if code, body := r.publish(b, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(b, goodArchive)); code != 201 {
		b.Fatalf("publish: %d %s", code, body)
	}
	h := registry.NewHandler(r.svc, registry.HandlerOptions{})
	const path = "/v1/modules/acme/network/aws/versions"
	static := "Bearer " + r.tok["acme/read"]
	oidc := "Bearer " + is.Sign(b, ciClaims("acme/app", "refs/heads/main"))
	get := func(auth string) time.Duration {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, req)
		d := time.Since(start)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return d
	}
	get(static) // warm both caches
	get(oidc)
	b.ReportAllocs()
	b.ResetTimer()
	ts := make([]time.Duration, b.N)
	to := make([]time.Duration, b.N)
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			ts[i], to[i] = get(static), get(oidc)
		} else {
			to[i], ts[i] = get(oidc), get(static)
		}
	}
	b.StopTimer()
	// Medians: a request that the scheduler preempted on a busy machine
	// does not move them.
	ms, mo := median(ts), median(to)
	b.ReportMetric(float64(ms.Nanoseconds()), "static-p50-ns")
	b.ReportMetric(float64(mo.Nanoseconds()), "oidc-p50-ns")
	b.ReportMetric(float64(mo)/float64(ms), "oidc/static")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
