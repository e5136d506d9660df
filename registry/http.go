package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/store"
)

// HandlerOptions configures the HTTP transport.
type HandlerOptions struct {
	// Log receives one structured access-log record per request when AccessLog is
	// set, and server-side errors always; nil discards.
	Log       *slog.Logger
	AccessLog bool
	// AccessLogger receives the access records instead of Log when set.
	AccessLogger *slog.Logger
	// Portal, when set, serves the web UI (registry/portal) on the paths
	// PortalPaths lists, in the same router as the API.
	Portal http.Handler
}

// Handler is the registry's HTTP transport: the module registry protocol v1, the
// list/search/details extensions, the upload API, /healthz and /metrics.
type Handler struct {
	svc     *Service
	log     *slog.Logger
	alog    *slog.Logger
	access  bool
	metrics *metrics
	router  *mux.Router
	hot     map[string]respFunc // the endpoints of hotRoute's routes, by route name
	portal  http.Handler
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns the HTTP transport over svc.
func NewHandler(svc *Service, o HandlerOptions) *Handler {
	lg := o.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	alog := o.AccessLogger
	if alog == nil {
		alog = lg
	}
	h := &Handler{svc: svc, log: lg, alog: alog, access: o.AccessLog, metrics: newMetrics(), portal: o.Portal}
	if svc.cfg.OIDC != nil {
		h.metrics.reg.MustRegister(svc.cfg.OIDC.Collector())
	}
	h.router = newRouter(h)
	h.hot = map[string]respFunc{routeVersions: h.versions, routeDownload: h.download, routeArchive: h.archive}
	return h
}

// jsonType is the Content-Type header value of JSON answers.
var jsonType = []string{"application/json"}

// discoveryBody is the service discovery document.
var discoveryBody = []byte(`{"modules.v1":"/v1/modules/"}` + "\n")

// recorder captures the status and size of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string // the name of the route that served the request
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's sendfile path for archives.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := io.Copy(r.ResponseWriter, src)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ServeHTTP implements http.Handler: the hot routes are decided by Respond,
// the rest by the router; every request, routed or not, is counted and (with
// AccessLog) logged under its route's name.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, route: routeNone}
	if resp, ok := h.Respond(netRequest{r}); ok {
		resp.write(rec)
		h.Finish(netRequest{r}, resp, rec.bytes, time.Since(start))
		return
	}
	h.router.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	h.record(netRequest{r}, rec.route, rec.status, rec.bytes, time.Since(start))
}

// notFound answers requests no route matched. mux reports some method
// mismatches as no match at all (a later route whose first matcher matches
// clears the mismatch, as under a Subrouter: gorilla/mux#751), so a path that
// another method would reach is answered as a method mismatch here.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if name, methods := h.allowed(r); name != "" {
		h.wrongMethod(w, r, name, methods)
		return
	}
	h.fail(w, r, fmt.Errorf("%w: no such endpoint %s", ErrNotFound, r.URL.Path))
}

// methodNotAllowed answers a path some route serves, but not with r's method.
func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	name, methods := h.allowed(r)
	h.wrongMethod(w, r, name, methods)
}

// wrongMethod answers 405 with an Allow header; the request is counted under
// the name of the route that serves the path.
func (h *Handler) wrongMethod(w http.ResponseWriter, r *http.Request, name string, methods []string) {
	if rec, ok := w.(*recorder); ok && name != "" {
		rec.route = name
	}
	if len(methods) > 0 {
		w.Header().Set("Allow", strings.Join(methods, ", "))
	}
	h.fail(w, r, ErrMethod)
}

func (h *Handler) discovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(discoveryBody)
}

func (h *Handler) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// apiFunc is an endpoint of the module API: it gets the caller's token (nil when
// none was sent) and the module key from the path variables (empty parts where
// the route has none), and returns the error that h.fail answers with.
type apiFunc func(w http.ResponseWriter, r *http.Request, tok *store.Token, key store.Key) error

// api adapts f to http.Handler: it authenticates the caller and maps errors to
// the registry's error responses.
func (h *Handler) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := mux.Vars(r)
		h.serveAPI(w, r, f, store.Key{Ref: store.Ref{Namespace: v[varNS], Name: v[varName], System: v[varSystem]}, Version: v[varVersion]})
	})
}

// serveAPI authenticates the caller for key's namespace and calls f.
func (h *Handler) serveAPI(w http.ResponseWriter, r *http.Request, f apiFunc, key store.Key) {
	ns := key.Namespace
	if ns == "" {
		ns = r.URL.Query().Get("namespace") // search
	}
	tok, err := h.svc.AuthenticateFor(r.Context(), auth.BearerToken(r.Header.Get("Authorization")), ns)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := f(w, r, tok, key); err != nil {
		h.fail(w, r, err)
	}
}

func (h *Handler) versions(resp *Response, r Request, tok *store.Token, key store.Key) error {
	e, err := h.svc.versionsEntry(r.Context(), tok, key.Ref)
	if err != nil {
		return err
	}
	// The header values are shared slices, set without canonicalising the
	// keys: servers only read them, and Set allocated both per request.
	resp.Status = http.StatusOK
	resp.Header["Content-Type"] = jsonType
	resp.Header["Content-Length"] = e.bodyLen
	resp.Body = e.body
	return nil
}

// download answers both download routes; without a version in the path it is
// the latest version's location.
func (h *Handler) download(resp *Response, r Request, tok *store.Token, key store.Key) error {
	loc, err := h.svc.Download(r.Context(), tok, key)
	if err != nil {
		return err
	}
	h.metrics.downloads.Inc()
	resp.Header["X-Terraform-Get"] = []string{loc}
	if strings.Contains(r.Header("Accept"), "application/json") {
		b, _ := json.Marshal(map[string]string{"location": loc})
		b = append(b, '\n')
		resp.Header["Content-Type"] = jsonType
		resp.Header["Content-Length"] = []string{strconv.Itoa(len(b))}
		resp.Status, resp.Body = http.StatusOK, b
		return nil
	}
	resp.Status = http.StatusNoContent
	return nil
}

// archive answers with the archive: a whole archive (no range or
// condition asked, what tofu and terraform send) directly, as Body when it is
// in memory (store.InMemory) or as a Stream read from the store as the server
// writes it; any other request through http.ServeContent, which decides the
// status and headers (conditional and range requests) on a contentWriter.
func (h *Handler) archive(resp *Response, r Request, tok *store.Token, key store.Key) error {
	var expires, grant string
	if raw := r.RawQuery(); raw != "" {
		q, _ := url.ParseQuery(raw) // as url.URL.Query: malformed pairs are left out
		expires, grant = q.Get("expires"), q.Get("grant")
	}
	a, v, err := h.svc.Archive(r.Context(), tok, key, expires, grant)
	if err != nil {
		return err
	}
	resp.closer = a
	if r.Method() == http.MethodGet {
		h.metrics.archives.Inc()
	}
	// Canonical keys, as Header.Set would store them; the constant values
	// are shared slices.
	resp.Header["Content-Type"] = gzipType
	resp.Header["Etag"] = []string{`"` + v.SHA256 + `"`}
	resp.Header["Cache-Control"] = immutable
	if wholeArchive(r) {
		return serveWhole(resp, r, a, v.PublishedAt)
	}
	hr := r.HTTP()
	if strings.Contains(hr.Header.Get("Range"), ",") {
		// Several ranges would be a multipart body that ServeContent writes
		// from a goroutine it stops on return, before a server could stream
		// it; a server may ignore Range (RFC 9110, 14.2), and tofu never asks
		// for parts of an archive: the whole archive is the answer.
		c := *hr
		c.Header = hr.Header.Clone()
		c.Header.Del("Range")
		hr = &c
	}
	http.ServeContent(contentWriter{resp}, hr, "", v.PublishedAt, a)
	if resp.over {
		return errNotStreamed
	}
	return nil
}

var (
	gzipType  = []string{"application/gzip"}
	immutable = []string{"private, max-age=31536000, immutable"}
	bytesUnit = []string{"bytes"}
)

// wholeArchive reports whether r asks for the whole archive without
// conditions: no header that http.ServeContent would act on.
func wholeArchive(r Request) bool {
	for _, name := range [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if r.Header(name) != "" {
			return false
		}
	}
	return true
}

// serveWhole answers 200 with the whole archive a and the headers
// http.ServeContent gives that answer (Last-Modified, Accept-Ranges,
// Content-Length), which TestWholeArchiveAsServeContent holds it to.
func serveWhole(resp *Response, r Request, a store.Archive, modtime time.Time) error {
	var body []byte
	var size int64
	if b, ok := inMemory(a, -1); ok {
		body, size = b, int64(len(b))
	} else {
		n, err := a.Seek(0, io.SeekEnd)
		if err != nil {
			return fmt.Errorf("archive size: %w", err)
		}
		if _, err := a.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("archive size: %w", err)
		}
		size = n
	}
	if !modtime.IsZero() && !modtime.Equal(time.Unix(0, 0)) {
		resp.Header["Last-Modified"] = []string{modtime.UTC().Format(http.TimeFormat)}
	}
	resp.Header["Accept-Ranges"] = bytesUnit
	resp.Header["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	resp.Status = http.StatusOK
	if r.Method() == http.MethodHead {
		return nil
	}
	if body != nil {
		resp.Body = body
	} else {
		resp.Stream, resp.Size = &io.LimitedReader{R: a, N: size}, size
	}
	return nil
}

// writeOnly hides the ReadFrom of a ResponseWriter.
type writeOnly struct{ http.ResponseWriter }

func (w writeOnly) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// details answers the details and latest routes.
func (h *Handler) details(w http.ResponseWriter, r *http.Request, tok *store.Token, key store.Key) error {
	d, err := h.svc.Details(r.Context(), tok, key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// list answers the list and list_namespace routes.
func (h *Handler) list(w http.ResponseWriter, r *http.Request, tok *store.Token, key store.Key) error {
	return h.listing(w, r, tok, key.Namespace)
}

// search answers the search route, whose namespace is a query parameter.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, tok *store.Token, _ store.Key) error {
	return h.listing(w, r, tok, r.URL.Query().Get("namespace"))
}

func (h *Handler) listing(w http.ResponseWriter, r *http.Request, tok *store.Token, ns string) error {
	q := r.URL.Query()
	lq := ListQuery{Namespace: ns, Provider: q.Get("provider"), Query: q.Get("q")}
	lq.Offset, _ = strconv.Atoi(q.Get("offset"))
	lq.Limit, _ = strconv.Atoi(q.Get("limit"))
	list, err := h.svc.List(r.Context(), tok, lq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request, tok *store.Token, key store.Key) (err error) {
	defer func() { h.metrics.uploads.WithLabelValues(uploadResult(statusOrCreated(err))).Inc() }()
	if max := h.svc.cfg.Limits.MaxCompressed; r.ContentLength > max {
		return fmt.Errorf("%w: archive of %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, max)
	}
	v, err := h.svc.Publish(r.Context(), tok, key, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": v.Key.String(), "namespace": v.Namespace, "name": v.Name, "provider": v.System,
		"version": v.Version, "sha256": v.SHA256, "size": v.Size,
	})
	return nil
}

func statusOrCreated(err error) int {
	if err == nil {
		return http.StatusCreated
	}
	return statusOf(err)
}

// errorBody is the registry protocol's error shape.
type errorBody struct {
	Errors []string `json:"errors"`
}

// wwwAuthenticate is the challenge of a 401 answer.
const wwwAuthenticate = `Bearer realm="plat registry"`

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := h.failure(r.Context(), r.Method, r.URL.Path, err)
	if errors.Is(err, ErrUnauthorized) {
		w.Header().Set("WWW-Authenticate", wwwAuthenticate)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// failure returns the status and the JSON body of the registry's answer to
// err, logging server-side errors; both fail and the hot routes' respond use it.
func (h *Handler) failure(ctx context.Context, method, path string, err error) (int, []byte) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		h.log.LogAttrs(ctx, slog.LevelError, "request failed",
			slog.String("path", path), slog.String("err", err.Error()))
		msg = "internal error"
	}
	if errors.Is(err, ErrMethod) {
		msg = fmt.Sprintf("method %s not allowed on %s", method, path)
	}
	b, err := json.Marshal(errorBody{Errors: []string{msg}})
	if err != nil {
		return http.StatusInternalServerError, []byte(`{"errors":["internal error"]}` + "\n")
	}
	return status, append(b, '\n')
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":["internal error"]}`)
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
