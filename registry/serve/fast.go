package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/platdev/plat/registry"
)

// The registry listens with fasthttp rather than net/http (issue 16): on a
// version lookup net/http's own reading, parsing and writing was ~85% of the
// CPU, and a bare net/http server reached only 0.78 of nginx on the
// benchmark's 2-core machine, a bare fasthttp server 1.3x. The three
// requests of every `tofu init` (registry.Handler.Respond) are written from
// the handler's decision straight onto fasthttp's response; every other
// request goes to the net/http handler through a converter (adapt.go).

// maxHeaderBytes is the largest request head (request line and headers) the
// server reads: fasthttp holds it in one per-connection buffer, so it is a
// memory bound per connection too. 16 KiB holds any OIDC ID token and the
// portal's cookies; a larger head is answered 431.
const maxHeaderBytes = 16 << 10

// front is the fasthttp request handler: the hot routes of hot, everything
// else through next.
type front struct {
	hot  *registry.Handler // nil when the handler is not the registry's
	next http.Handler
	base context.Context // requests' parent context: not cancelled on shutdown
	log  *slog.Logger
}

// newServer returns the fasthttp server of h with o's settings (defaults
// filled in).
func newServer(ctx context.Context, h http.Handler, o Options) *fasthttp.Server {
	f := &front{next: h, base: context.WithoutCancel(ctx), log: o.Log}
	f.hot, _ = h.(*registry.Handler)
	return &fasthttp.Server{
		Handler: f.serve,
		// fasthttp's ReadTimeout runs from a request's first byte; it is the
		// header timeout, and HeaderReceived then gives the body its own.
		ReadTimeout: o.ReadHeaderTimeout,
		HeaderReceived: func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
			return fasthttp.RequestConfig{ReadTimeout: o.ReadTimeout}
		},
		WriteTimeout:   o.WriteTimeout,
		IdleTimeout:    o.IdleTimeout,
		ReadBufferSize: maxHeaderBytes,
		// Request bodies are streamed to the handler, as net/http does:
		// fasthttp reads at most 8 KiB of a body before the handler runs,
		// whatever its size, so no upload is held whole by the server. The
		// handlers bound what they read (--max-archive-bytes, the provider
		// and catalog limits), with uploads taken a few at a time
		// (registry.Config.MaxConcurrentUploads). MaxRequestBodySize is
		// only where fasthttp switches from that prefetch to the stream.
		StreamRequestBody:  true,
		MaxRequestBodySize: 8 << 10,
		// fasthttp would otherwise read a multipart body (a provider
		// upload) whole before the handler, which reads it as a stream.
		DisablePreParseMultipartForm: true,
		// Answers carry the headers the handler set, as with net/http: no
		// Server header, no default Content-Type (the converter sniffs as
		// net/http does), and Connection: close while shutting down.
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		CloseOnShutdown:       true,
		Logger:                fastLogger{o.Log},
	}
}

// serve answers one request. A panic is logged and answered 500 on a closed
// connection, as net/http recovers a handler's panic: fasthttp would let it
// end the process.
func (f *front) serve(ctx *fasthttp.RequestCtx) {
	defer func() {
		if p := recover(); p != nil {
			f.log.Error("panic serving request", "remote", ctx.RemoteAddr().String(), "path", string(ctx.Path()), "panic", p, "stack", string(debug.Stack()))
			ctx.ResetBody()
			ctx.Response.Header.Reset()
			ctx.Error("Internal Server Error", fasthttp.StatusInternalServerError)
			ctx.SetConnectionClose()
		}
	}()
	if len(ctx.Host()) == 0 && ctx.Request.Header.IsHTTP11() {
		// net/http refuses an HTTP/1.1 request without Host (RFC 9112,
		// 3.2) before any handler; so does this server.
		ctx.Error("Bad Request: missing required Host header", fasthttp.StatusBadRequest)
		ctx.SetConnectionClose()
		return
	}
	if f.hot != nil && plainPath(ctx.Request.Header.RequestURI()) {
		r := fastRequests.Get().(*fastRequest)
		r.ctx, r.base = ctx, f.base
		if resp, ok := f.hot.Respond(r); ok {
			f.write(ctx, r, resp)
			r.release()
			return
		}
		r.release()
	}
	f.adapt(ctx)
}

// plainPath reports whether a request target is a path whose bytes are its
// decoded form, printable ASCII without '%', so that the hot routes can match
// it as received. Anything else (escapes, an absolute URI, bytes net/url
// refuses) goes through the converter, where net/url decodes it exactly as
// net/http did.
func plainPath(uri []byte) bool {
	if len(uri) == 0 || uri[0] != '/' {
		return false
	}
	query := false
	for _, c := range uri {
		switch {
		case c <= ' ' || c >= 0x7f:
			// net/url refuses control bytes anywhere in the target.
			return false
		case c == '?':
			query = true
		case c == '%' && !query:
			return false
		}
	}
	return true
}

// write copies resp onto ctx's response and finishes it: at once for a
// buffered body, once sent for a stream (fasthttp writes it after the
// handler returns, and closes it then, on success or failure).
func (f *front) write(ctx *fasthttp.RequestCtx, r *fastRequest, resp *registry.Response) {
	ctx.SetStatusCode(resp.Status)
	h := &ctx.Response.Header
	for k, vv := range resp.Header {
		if k == "Content-Length" {
			continue // from the body, or from Size
		}
		for _, v := range vv {
			h.Add(k, v)
		}
	}
	switch {
	case resp.Stream != nil && !ctx.IsHead():
		ctx.Response.SetBodyStream(&sentStream{f: f, r: r.detach(), resp: resp, start: ctx.Time()}, int(resp.Size))
		return
	case resp.Body != nil:
		// The body is the handler's (for versions, the cache's own bytes)
		// and stays unchanged until it is written.
		ctx.Response.SetBodyRaw(resp.Body)
	default:
		// A HEAD answer keeps the Content-Length of the body it leaves out.
		if n, err := strconv.Atoi(resp.Header.Get("Content-Length")); err == nil {
			h.SetContentLength(n)
		}
	}
	f.hot.Finish(r, resp, int64(len(resp.Body)), time.Since(ctx.Time()))
}

// sentStream is an archive on its way out: it counts the bytes fasthttp
// reads, and finishes the response when fasthttp closes it.
type sentStream struct {
	f     *front
	r     registry.Request
	resp  *registry.Response
	n     int64
	start time.Time
	once  sync.Once
}

func (s *sentStream) Read(p []byte) (int, error) {
	n, err := s.resp.Stream.Read(p)
	s.n += int64(n)
	return n, err
}

func (s *sentStream) Close() error {
	s.once.Do(func() { s.f.hot.Finish(s.r, s.resp, s.n, time.Since(s.start)) })
	return nil
}

// fastRequest is the registry.Request of a fasthttp request. Its strings
// point into fasthttp's buffers: they are valid only while the handler runs.
type fastRequest struct {
	ctx  *fasthttp.RequestCtx
	base context.Context
	http *http.Request // built by HTTP, for archives
}

var fastRequests = sync.Pool{New: func() any { return new(fastRequest) }}

func (r *fastRequest) release() {
	*r = fastRequest{}
	fastRequests.Put(r)
}

func (r *fastRequest) Context() context.Context { return r.base }
func (r *fastRequest) Method() string           { return b2s(r.ctx.Method()) }

// Path is the target up to '?': serve sends only plain paths here (plainPath),
// which are their own decoded form.
func (r *fastRequest) Path() string {
	path, _, _ := bytes.Cut(r.ctx.Request.Header.RequestURI(), []byte{'?'})
	return b2s(path)
}

// RawQuery is the target after '?'.
func (r *fastRequest) RawQuery() string {
	_, query, _ := bytes.Cut(r.ctx.Request.Header.RequestURI(), []byte{'?'})
	return b2s(query)
}

func (r *fastRequest) Header(name string) string { return b2s(r.ctx.Request.Header.Peek(name)) }
func (r *fastRequest) RemoteAddr() string        { return r.ctx.RemoteAddr().String() }

// HTTP builds the net/http form of the request, for http.ServeContent: the
// converter's, without a body (the hot routes read none).
func (r *fastRequest) HTTP() *http.Request {
	if r.http == nil {
		hr, err := netRequest(r.ctx, r.base, false)
		if err != nil {
			// plainPath let through only targets net/url parses.
			panic(fmt.Sprintf("hot route target %q: %v", r.ctx.Request.Header.RequestURI(), err))
		}
		r.http = hr
	}
	return r.http
}

// detach returns a Request that outlives the fasthttp handler, for the access
// record written when a stream has been sent.
func (r *fastRequest) detach() registry.Request {
	return &doneRequest{method: string(r.ctx.Method()), path: strings.Clone(r.Path()), remote: r.RemoteAddr(), ctx: r.base}
}

// doneRequest is what Finish reads of a request whose answer was streamed.
type doneRequest struct {
	method, path, remote string
	ctx                  context.Context
}

func (r *doneRequest) Context() context.Context { return r.ctx }
func (r *doneRequest) Method() string           { return r.method }
func (r *doneRequest) Path() string             { return r.path }
func (r *doneRequest) Header(string) string     { return "" }
func (r *doneRequest) HTTP() *http.Request      { return nil }
func (r *doneRequest) RemoteAddr() string       { return r.remote }
func (r *doneRequest) RawQuery() string         { return "" }

// b2s returns b as a string without copying; the string is valid as long as
// b is left unchanged.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// fastLogger is fasthttp's error log (bad requests, failed writes) through
// slog, as net/http's ErrorLog was.
type fastLogger struct{ log *slog.Logger }

func (l fastLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...), "server", "fasthttp")
}

var _ io.Closer = (*sentStream)(nil)
