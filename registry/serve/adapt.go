package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"

	"github.com/valyala/fasthttp"
)

// The converter serves a fasthttp request with a net/http handler: the
// upload API, the portal, Backstage, /metrics and the rest. It is ours
// rather than fasthttpadaptor's because the adaptor reads every request body
// whole into memory (ctx.PostBody) and holds every response body whole until
// the handler returns, and neither is bounded here: an upload is as large as
// --max-archive-bytes, and a provider zip or a catalog download as large as
// its archive. This one streams both ways:
//
//   - r.Body reads the request body from the connection as the handler asks
//     for it (fasthttp prefetches at most 8 KiB: newServer);
//   - the answer is buffered up to maxBuffered bytes, then streamed: the
//     headers go out, and the handler's writes feed fasthttp's body stream
//     through a pipe, with the Content-Length the handler set (chunked
//     without one).
//
// So a request holds at most maxBuffered bytes of its answer and 8 KiB of its
// body, whatever the sizes involved, and the number of requests is that of
// the connections.

// maxBuffered is how much of an answer the converter holds before streaming
// it: a page of the portal, a JSON answer, an error. Answers that fit go out
// with a Content-Length, as net/http sends those that fit its buffer.
const maxBuffered = 32 << 10

// errBadRequestURI is the answer to a target net/url refuses, as net/http's.
var errBadRequestURI = errors.New("malformed request target")

// netRequest builds the net/http form of ctx's request with context c; with
// body, its Body streams the request body from the connection. The strings
// are copies: the handler may outlive fasthttp's use of its buffers.
func netRequest(ctx *fasthttp.RequestCtx, c context.Context, body bool) (*http.Request, error) {
	uri := string(ctx.Request.Header.RequestURI())
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, errBadRequestURI
	}
	r := &http.Request{
		Method:     string(ctx.Method()),
		URL:        u,
		RequestURI: uri,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       string(ctx.Host()),
		RemoteAddr: ctx.RemoteAddr().String(),
		TLS:        ctx.TLSConnectionState(),
		Close:      ctx.Request.Header.ConnectionClose(),
		Body:       http.NoBody,
	}
	if !ctx.Request.Header.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	for k, v := range ctx.Request.Header.All() {
		switch key := string(k); key {
		case "Host", "Trailer":
			// net/http keeps Host in r.Host, not the header map; no
			// handler reads trailers.
		default:
			r.Header.Add(key, string(v))
		}
	}
	switch n := ctx.Request.Header.ContentLength(); {
	case n == -1:
		r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
	case n > 0:
		r.ContentLength = int64(n)
	}
	if body && r.ContentLength != 0 {
		if s := ctx.RequestBodyStream(); s != nil {
			r.Body = io.NopCloser(s)
		}
	}
	return r.WithContext(c), nil
}

// adapt serves ctx with the net/http handler. The handler runs in a goroutine
// of its own so that a long answer can be streamed while it writes: fasthttp
// writes a response only after its handler returns.
func (f *front) adapt(ctx *fasthttp.RequestCtx) {
	c, cancel := context.WithCancel(f.base)
	r, err := netRequest(ctx, c, true)
	if err != nil {
		cancel()
		ctx.Error("Bad Request: "+err.Error(), fasthttp.StatusBadRequest)
		ctx.SetConnectionClose()
		return
	}
	w := &writer{head: ctx.IsHead(), h: make(http.Header), declared: -1, streaming: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer cancel() // as net/http: the context ends with the handler
		defer func() {
			if p := recover(); p != nil {
				w.panicked = true
				if p != http.ErrAbortHandler {
					f.log.Error("panic serving request", "remote", r.RemoteAddr, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				}
			}
			if w.pw != nil {
				if w.panicked {
					// A cut stream tells the client the answer is incomplete.
					w.pw.CloseWithError(errAborted)
				} else {
					w.pw.Close()
				}
			}
		}()
		f.next.ServeHTTP(w, r)
	}()
	select {
	case <-w.done:
	case <-w.streaming:
	}
	if w.pr != nil {
		// Streaming: the handler has committed its headers and may still be
		// writing (w.sent, status, declared are fixed from here on).
		w.header(ctx, w.sent)
		ctx.Response.ImmediateHeaderFlush = w.flushed
		n := -1
		if w.declared >= 0 {
			n = int(w.declared)
		}
		ctx.Response.SetBodyStream(&pipeBody{pr: w.pr, done: w.done}, n)
		return
	}
	if w.panicked {
		// As net/http: no answer, the connection is closed.
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(net.Conn) {})
		return
	}
	hd := w.sent
	if hd == nil {
		hd = w.h
	}
	w.header(ctx, hd)
	switch {
	case w.head && (w.truncated || len(w.buf) == 0):
		// HEAD keeps the handler's Content-Length, or the length of a body
		// it wrote that fits, as net/http computes it.
		if w.declared >= 0 {
			ctx.Response.Header.SetContentLength(int(w.declared))
		} else if w.truncated {
			ctx.Response.Header.SetContentLength(-1)
		}
	default:
		ctx.Response.SetBodyRaw(w.buf)
	}
}

var errAborted = errors.New("handler aborted")

// pipeBody is a streamed answer as fasthttp reads it. Close (fasthttp calls
// it once the answer is sent or the connection fails) stops the handler's
// writes and waits for the handler to return: until then it may read the
// request body, which fasthttp recycles with the request.
type pipeBody struct {
	pr   *io.PipeReader
	done chan struct{}
}

func (b *pipeBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *pipeBody) Close() error {
	b.pr.Close()
	<-b.done
	return nil
}

// writer is the http.ResponseWriter of the converter (and an http.Flusher).
// Until streaming starts it is the handler goroutine's alone; fasthttp's
// goroutine reads it after done, or after streaming for the fields fixed by
// then.
type writer struct {
	head bool
	h    http.Header
	sent http.Header // h as committed by WriteHeader
	// status is the committed status, 0 until WriteHeader or Write.
	status    int
	declared  int64 // the Content-Length the handler set, -1 for none
	buf       []byte
	written   int64
	truncated bool // a HEAD body beyond maxBuffered, left out
	panicked  bool
	flushed   bool

	pr        *io.PipeReader
	pw        *io.PipeWriter
	streaming chan struct{} // closed when the answer streams (pr, pw set)
	done      chan struct{} // closed when the handler returned
}

func (w *writer) Header() http.Header { return w.h }

// WriteHeader commits the status and a copy of the headers, as net/http
// does: later header changes are not sent. A 1xx other than 101 is interim
// in net/http; here it is not sent at all, which RFC 9110 (15.2) allows.
func (w *writer) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.status != 0 || (code < 200 && code != http.StatusSwitchingProtocols) {
		return
	}
	w.status = code
	w.sent = w.h.Clone()
	if cl := w.sent.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
		}
	}
}

// bodyAllowed reports whether the committed status may carry a body.
func (w *writer) bodyAllowed() bool {
	return !(w.status >= 100 && w.status < 200 || w.status == http.StatusNoContent || w.status == http.StatusNotModified)
}

func (w *writer) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if w.declared >= 0 && w.written+int64(len(p)) > w.declared {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.pw != nil {
		return w.pw.Write(p)
	}
	if len(w.buf)+len(p) <= maxBuffered {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	if w.head {
		// net/http discards a HEAD body; what fits gave the length.
		w.truncated = true
		return len(p), nil
	}
	if err := w.stream(); err != nil {
		return 0, err
	}
	return w.pw.Write(p)
}

// Flush sends what is buffered and streams the rest, as net/http's Flush
// sends the headers and the buffer at once.
func (w *writer) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.pw != nil || w.head || !w.bodyAllowed() {
		return
	}
	w.flushed = true
	w.stream()
}

// stream starts the streamed answer: it hands the pipe to fasthttp's
// goroutine and writes what was buffered into it.
func (w *writer) stream() error {
	w.sniff(w.sent)
	w.pr, w.pw = io.Pipe()
	close(w.streaming)
	buf := w.buf
	w.buf = nil
	if len(buf) == 0 {
		return nil
	}
	_, err := w.pw.Write(buf)
	return err
}

// sniff sets Content-Type from the body's first bytes when the handler set
// none and has a body, as net/http's Write does.
func (w *writer) sniff(hd http.Header) {
	if _, ok := hd["Content-Type"]; ok || len(w.buf) == 0 {
		return
	}
	hd.Set("Content-Type", http.DetectContentType(w.buf[:min(len(w.buf), 512)]))
}

// header puts the status and hd onto ctx's response. Framing headers
// (Content-Length, Transfer-Encoding) are fasthttp's to write.
func (w *writer) header(ctx *fasthttp.RequestCtx, hd http.Header) {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	ctx.SetStatusCode(status)
	if w.pr == nil && w.bodyAllowed() {
		w.sniff(hd)
	}
	h := &ctx.Response.Header
	for k, vv := range hd {
		switch k {
		case "Content-Length", "Transfer-Encoding":
			continue
		}
		for _, v := range vv {
			h.Add(k, v)
		}
	}
}

var _ http.Flusher = (*writer)(nil)
