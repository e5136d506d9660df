package registry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/platdev/plat/registry"
)

// benchHandler returns the registry's handler with one published module.
func benchHandler(b *testing.B, cfg registry.Config) (http.Handler, *testRegistry) {
	r := newTestRegistry(b, cfg)
	if code, body := r.publish(b, r.tok["acme/publish"], "acme/network/aws/1.0.0", tarGz(b, goodArchive)); code != 201 {
		b.Fatalf("publish: %d %s", code, body)
	}
	return registry.NewHandler(r.svc, registry.HandlerOptions{}), r
}

func benchGet(b *testing.B, h http.Handler, path, token string, want int) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != want {
				b.Fatalf("%s: %d", path, w.Code)
			}
			io.Copy(io.Discard, w.Body)
		}
	})
}

// BenchmarkVersions measures the version lookup that every tofu init makes.
func BenchmarkVersions(b *testing.B) {
	h, _ := benchHandler(b, registry.Config{})
	benchGet(b, h, "/v1/modules/acme/network/aws/versions", "", http.StatusOK)
}

// BenchmarkVersionsReadToken is BenchmarkVersions with a read token to check.
func BenchmarkVersionsReadToken(b *testing.B) {
	h, r := benchHandler(b, registry.Config{RequireReadToken: true})
	benchGet(b, h, "/v1/modules/acme/network/aws/versions", r.tok["acme/read"], http.StatusOK)
}

// BenchmarkDownload measures the download endpoint (location plus grant).
func BenchmarkDownload(b *testing.B) {
	h, r := benchHandler(b, registry.Config{RequireReadToken: true})
	benchGet(b, h, "/v1/modules/acme/network/aws/1.0.0/download", r.tok["acme/read"], http.StatusNoContent)
}

// BenchmarkArchive measures serving an archive file.
func BenchmarkArchive(b *testing.B) {
	h, _ := benchHandler(b, registry.Config{})
	benchGet(b, h, "/v1/archives/acme/network/aws/1.0.0.tar.gz", "", http.StatusOK)
}

// discardWriter is a ResponseWriter that keeps only the status, so that a
// benchmark measures the handler and not httptest's recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkVersionsHandler measures the handler's own work on a version lookup
// (routing, auth, the version cache, metrics, the writes), with one request
// value reused and a writer that discards: what each lookup costs the server
// beyond net/http's reading and writing.
func BenchmarkVersionsHandler(b *testing.B) {
	h, _ := benchHandler(b, registry.Config{})
	req := httptest.NewRequest(http.MethodGet, "/v1/modules/acme/network/aws/versions", nil)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		r := req.Clone(req.Context())
		for pb.Next() {
			clear(w.h)
			w.status = 0
			h.ServeHTTP(w, r)
			if w.status != 0 && w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
	})
}
