package registry

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// memTestArchive is an archive in memory, as the archive cache's.
type memTestArchive struct {
	*bytes.Reader
	data []byte
}

func (memTestArchive) Close() error     { return nil }
func (a memTestArchive) Unread() []byte { return a.data[len(a.data)-a.Len():] }

// TestWholeArchiveAsServeContent holds serveWhole, the archive route's answer
// to a request for the whole archive, to what http.ServeContent answers the
// same request: status, every header, and the body, for an archive in memory
// and one in a file, GET and HEAD, and for modification times ServeContent
// treats as unknown.
func TestWholeArchiveAsServeContent(t *testing.T) {
	data := bytes.Repeat([]byte("archive bytes "), 1000)
	path := filepath.Join(t.TempDir(), "a.tar.gz")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	open := map[string]func() io.ReadSeekCloser{
		"memory": func() io.ReadSeekCloser { return memTestArchive{bytes.NewReader(data), data} },
		"file": func() io.ReadSeekCloser {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			return f
		},
	}
	for name, open := range open {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, mod := range []time.Time{time.Date(2026, 11, 30, 10, 0, 0, 0, time.FixedZone("x", 3600)), {}, time.Unix(0, 0)} {
				req := httptest.NewRequest(method, "/v1/archives/a/b/c/1.0.0.tar.gz", nil)
				if !wholeArchive(netRequest{req}) {
					t.Fatal("a plain request is not for the whole archive")
				}
				want := httptest.NewRecorder()
				want.Header()["Content-Type"] = gzipType
				a := open()
				http.ServeContent(want, req, "", mod, a)
				a.Close()

				resp := &Response{Header: http.Header{"Content-Type": gzipType}}
				a = open()
				if err := serveWhole(resp, netRequest{req}, a, mod); err != nil {
					t.Fatal(err)
				}
				body := resp.Body
				if resp.Stream != nil {
					b, err := io.ReadAll(resp.Stream)
					if err != nil {
						t.Fatal(err)
					}
					if int64(len(b)) != resp.Size {
						t.Errorf("%s %s: stream of %d bytes, Size %d", name, method, len(b), resp.Size)
					}
					body = b
				}
				a.Close()
				what := name + " " + method + " modtime " + strconv.FormatInt(mod.Unix(), 10)
				if resp.Status != want.Code {
					t.Errorf("%s: status %d, ServeContent %d", what, resp.Status, want.Code)
				}
				for k := range want.Header() {
					if got, w := resp.Header.Values(k), want.Header().Values(k); !slices.Equal(got, w) {
						t.Errorf("%s: %s %q, ServeContent %q", what, k, got, w)
					}
				}
				for k := range resp.Header {
					if _, ok := want.Header()[k]; !ok {
						t.Errorf("%s: header %s that ServeContent does not send", what, k)
					}
				}
				if !bytes.Equal(body, want.Body.Bytes()) {
					t.Errorf("%s: body of %d bytes, ServeContent %d", what, len(body), want.Body.Len())
				}
			}
		}
	}
	for _, h := range []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		req.Header.Set(h, "x")
		if wholeArchive(netRequest{req}) {
			t.Errorf("a request with %s is taken for a plain one", h)
		}
	}
}
