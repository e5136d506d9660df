package registry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

// The hot routes (hotroute.go) are answered by deciding a Response first and
// writing it second, so that two servers can write the same decision: net/http
// through ServeHTTP, and the fasthttp front of registry/serve, which serves
// them without net/http's per-request machinery (issue 16). Everything a hot
// route does, authentication, the service call, the error mapping, the
// headers, metrics and the access log, is in Respond and Finish; a server only
// copies the Response onto its wire.

// Request is what a hot route reads of a request. ServeHTTP implements it over
// *http.Request; the fasthttp front over its own request type.
type Request interface {
	// Context is the request's context; it must stay valid until Finish, since
	// a streamed archive is read after Respond returns.
	Context() context.Context
	Method() string
	// Path is the request path, decoded as url.URL.Path is.
	Path() string
	// Header returns the first value of the named header, "" if none.
	Header(name string) string
	// HTTP returns the request as net/http's: the archive route hands it to
	// http.ServeContent (conditional and range requests). Only archives call
	// it, so a server without an *http.Request builds one only for them.
	HTTP() *http.Request
	// RemoteAddr is the client's address (host:port), for the access log.
	RemoteAddr() string
	// RawQuery is the target's query, without '?', as url.URL.RawQuery.
	RawQuery() string
}

// Response is the answer a hot route decided: a status, headers and either
// Body or a Stream of Size bytes. A Response comes from Respond and goes back
// through Finish, which closes the Stream.
type Response struct {
	Status int
	// Header holds the response headers, Content-Length included. Its value
	// slices may be shared with other responses: never modify one in place.
	Header http.Header
	// Body is the whole body when Stream is nil; it may be shared (the
	// versions list is the cache's own bytes): never modify it.
	Body []byte
	// Stream, when not nil, is the body: exactly Size bytes, read after the
	// headers are written. It reads from the archive storage; nothing holds
	// the archive in memory on its way out.
	Stream io.Reader
	Size   int64

	route  string
	closer io.Closer // the archive behind Stream (also for HEAD, with no Stream)
	over   bool      // ServeContent wrote more than a buffered answer holds
}

var responses = sync.Pool{New: func() any { return &Response{Header: make(http.Header, 4)} }}

func newResponse(route string) *Response {
	resp := responses.Get().(*Response)
	resp.route = route
	return resp
}

// reset clears resp for another answer.
func (resp *Response) reset() {
	resp.Status = 0
	clear(resp.Header)
	resp.Body, resp.Stream, resp.Size, resp.over = nil, nil, 0, false
	if resp.closer != nil {
		resp.closer.Close()
		resp.closer = nil
	}
}

// Respond decides the answer to r when it is one of the hot routes (the
// requests hotRoute matches, answered exactly as the router would) and
// reports false otherwise, leaving r to ServeHTTP. The caller writes the
// Response, then calls Finish with the body bytes it wrote.
func (h *Handler) Respond(r Request) (*Response, bool) {
	name, key, ok := hotRoute(r.Method(), r.Path())
	if !ok {
		return nil, false
	}
	resp := newResponse(name)
	h.respond(resp, r, h.hot[name], key)
	return resp, true
}

// Finish records a Response that was written (its route's metrics and, with
// AccessLog, the access record), closes its Stream and recycles it; written
// is the body bytes sent, d the time since the request was read.
func (h *Handler) Finish(r Request, resp *Response, written int64, d time.Duration) {
	h.record(r, resp.route, resp.Status, written, d)
	resp.reset()
	responses.Put(resp)
}

// record counts one request and, with AccessLog, logs it: the one place both
// servers do so.
func (h *Handler) record(r Request, route string, status int, written int64, d time.Duration) {
	h.metrics.observe(route, status, d)
	if h.access {
		h.alog.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method()),
			slog.String("path", r.Path()),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", written),
			slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr()),
		)
	}
}

// respFunc is a hot route's endpoint: like apiFunc, but it decides resp
// instead of writing to a ResponseWriter.
type respFunc func(resp *Response, r Request, tok *store.Token, key store.Key) error

// respond authenticates the caller for key's namespace, calls f and maps its
// error to the registry's error answer, as serveAPI does for the router.
func (h *Handler) respond(resp *Response, r Request, f respFunc, key store.Key) {
	tok, err := h.svc.AuthenticateFor(r.Context(), auth.BearerToken(r.Header("Authorization")), key.Namespace)
	if err == nil {
		err = f(resp, r, tok, key)
	}
	if err != nil {
		resp.reset()
		status, body := h.failure(r.Context(), r.Method(), r.Path(), err)
		if errors.Is(err, ErrUnauthorized) {
			resp.Header.Set("WWW-Authenticate", wwwAuthenticate)
		}
		resp.Header["Content-Type"] = jsonType
		resp.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
		resp.Status, resp.Body = status, body
	}
}

// apiResp adapts a hot route's endpoint to the router (download_latest, and
// the method-mismatch lookups that match the hot routes' paths).
func (h *Handler) apiResp(f respFunc) apiFunc {
	return func(w http.ResponseWriter, r *http.Request, _ *store.Token, key store.Key) error {
		resp := newResponse("")
		h.respond(resp, netRequest{r}, f, key)
		resp.write(w)
		resp.reset()
		responses.Put(resp)
		return nil
	}
}

// write copies resp onto a net/http ResponseWriter.
func (resp *Response) write(w http.ResponseWriter) {
	hd := w.Header()
	for k, v := range resp.Header {
		hd[k] = v
	}
	w.WriteHeader(resp.Status)
	switch {
	case resp.Stream != nil:
		if lr, ok := resp.Stream.(*io.LimitedReader); !ok || !isFile(lr.R) {
			// An archive from a bucket goes out through Write: through
			// ReadFrom, net/http would write the first 512 bytes, flush,
			// then write the rest. A file keeps ReadFrom (sendfile). (An
			// archive in memory is Body, not Stream.)
			w = writeOnly{w}
		}
		io.Copy(w, resp.Stream)
	case resp.Body != nil:
		w.Write(resp.Body)
	}
}

func isFile(r io.Reader) bool {
	_, ok := r.(*os.File)
	return ok
}

// netRequest is the Request of ServeHTTP. A struct of one pointer goes into
// an interface without an allocation.
type netRequest struct{ r *http.Request }

func (r netRequest) Context() context.Context  { return r.r.Context() }
func (r netRequest) Method() string            { return r.r.Method }
func (r netRequest) Path() string              { return r.r.URL.Path }
func (r netRequest) Header(name string) string { return r.r.Header.Get(name) }
func (r netRequest) HTTP() *http.Request       { return r.r }
func (r netRequest) RemoteAddr() string        { return r.r.RemoteAddr }
func (r netRequest) RawQuery() string          { return r.r.URL.RawQuery }

// maxServedBody bounds what http.ServeContent may write into a Response
// through Write: its own short error texts. The archive itself reaches the
// Response through ReadFrom as a reader (contentWriter); were ServeContent
// ever to copy it through Write instead, the answer fails rather than
// buffering an archive.
const maxServedBody = 64 << 10

// errNotStreamed is the internal error of an archive that ServeContent wrote
// through Write: see maxServedBody.
var errNotStreamed = errors.New("archive answer was written, not streamed")

// contentWriter is the ResponseWriter http.ServeContent writes an archive's
// answer to: it keeps the status and headers ServeContent decides (200, 206,
// 304, 412, 416, Content-Length, Content-Range, Last-Modified) and takes the
// body ServeContent copies (io.CopyN, hence ReadFrom) as the Response's
// Stream, to be read when the server writes it, or, for an archive in
// memory (store.InMemory), as its Body.
type contentWriter struct{ resp *Response }

func (w contentWriter) Header() http.Header { return w.resp.Header }

func (w contentWriter) WriteHeader(code int) {
	if w.resp.Status == 0 {
		w.resp.Status = code
	}
}

func (w contentWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	if len(w.resp.Body)+len(p) > maxServedBody {
		w.resp.over = true
		return 0, errNotStreamed
	}
	w.resp.Body = append(w.resp.Body, p...)
	return len(p), nil
}

// ReadFrom takes src (the archive, limited to the bytes to send) as the body
// without reading it. It reports nothing copied: ServeContent ignores the
// count, and the bytes are counted when they are sent.
func (w contentWriter) ReadFrom(src io.Reader) (int64, error) {
	w.WriteHeader(http.StatusOK)
	if w.resp.Stream != nil || w.resp.Body != nil {
		w.resp.over = true
		return 0, errNotStreamed
	}
	n, err := strconv.ParseInt(w.resp.Header.Get("Content-Length"), 10, 64)
	if err != nil {
		w.resp.over = true
		return 0, errNotStreamed
	}
	if lr, ok := src.(*io.LimitedReader); ok && lr.N == n {
		if b, ok := inMemory(lr.R, n); ok {
			// A cached archive is the body as it is: it goes out with the
			// headers in one write.
			w.resp.Body = b
			return 0, nil
		}
	}
	w.resp.Stream, w.resp.Size = src, n
	return 0, nil
}

// inMemory returns the next n bytes of r, without copying them, when r is an
// archive in memory (store.InMemory) with that many unread; n < 0 is all that
// is unread. The slice's capacity is cut to its length, so that nothing
// appends into the cache's bytes.
func inMemory(r io.Reader, n int64) ([]byte, bool) {
	m, ok := r.(store.InMemory)
	if !ok {
		return nil, false
	}
	b := m.Unread()
	if n < 0 {
		n = int64(len(b))
	}
	if int64(len(b)) < n {
		return nil, false
	}
	return b[:n:n], true
}
