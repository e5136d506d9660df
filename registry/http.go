package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
}

// Handler is the registry's HTTP transport: the module registry protocol v1, the
// list/search/details extensions, the upload API, /healthz and /metrics.
type Handler struct {
	svc     *Service
	log     *slog.Logger
	alog    *slog.Logger
	access  bool
	metrics *metrics
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
	return &Handler{svc: svc, log: lg, alog: alog, access: o.AccessLog, metrics: newMetrics()}
}

// discoveryBody is the service discovery document.
var discoveryBody = []byte(`{"modules.v1":"/v1/modules/"}` + "\n")

// recorder captures the status and size of a response for logs and metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
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

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rt := parseRoute(r.URL.Path)
	rec := &recorder{ResponseWriter: w}
	h.serve(rec, r, rt)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	d := time.Since(start)
	h.metrics.requests.WithLabelValues(string(rt.kind), codeLabels[rec.status]).Inc()
	h.metrics.latency.WithLabelValues(string(rt.kind)).Observe(d.Seconds())
	if h.access {
		h.alog.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", string(rt.kind)),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr),
		)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, rt route) {
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch rt.kind {
	case routeNone:
		h.fail(w, r, fmt.Errorf("%w: no such endpoint %s", ErrNotFound, r.URL.Path))
		return
	case routeDiscovery:
		if !read {
			h.fail(w, r, ErrMethod)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(discoveryBody)
		return
	case routeHealth:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
		return
	case routeMetrics:
		h.metrics.handler.ServeHTTP(w, r)
		return
	}
	if rt.kind == routeUpload {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			h.fail(w, r, ErrMethod)
			return
		}
	} else if !read {
		h.fail(w, r, ErrMethod)
		return
	}
	tok, err := h.svc.Authenticate(r.Context(), auth.BearerToken(r.Header.Get("Authorization")))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	key := store.Key{Ref: store.Ref{Namespace: rt.ns, Name: rt.name, System: rt.system}, Version: rt.version}
	switch rt.kind {
	case routeVersions:
		body, err := h.svc.VersionsJSON(r.Context(), tok, key.Ref)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	case routeDownload, routeDownloadLt:
		loc, err := h.svc.Download(r.Context(), tok, key)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.metrics.downloads.Inc()
		w.Header().Set("X-Terraform-Get", loc)
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			writeJSON(w, http.StatusOK, map[string]string{"location": loc})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case routeArchive:
		q := r.URL.Query()
		a, v, err := h.svc.Archive(r.Context(), tok, key, q.Get("expires"), q.Get("grant"))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		defer a.Close()
		if r.Method == http.MethodGet {
			h.metrics.archives.Inc()
		}
		w.Header().Set("Content-Type", "application/gzip")
		w.Header().Set("ETag", `"`+v.SHA256+`"`)
		w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
		http.ServeContent(w, r, "", v.PublishedAt, a)
	case routeDetails, routeLatest:
		d, err := h.svc.Details(r.Context(), tok, key)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, d)
	case routeList, routeSearch, routeListNS:
		q := r.URL.Query()
		lq := ListQuery{Namespace: rt.ns, Query: q.Get("q")}
		if rt.kind == routeSearch {
			lq.Namespace = q.Get("namespace")
		}
		lq.Offset, _ = strconv.Atoi(q.Get("offset"))
		lq.Limit, _ = strconv.Atoi(q.Get("limit"))
		list, err := h.svc.List(r.Context(), tok, lq)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, list)
	case routeUpload:
		status := http.StatusCreated
		defer func() { h.metrics.uploads.WithLabelValues(uploadResult(status)).Inc() }()
		if max := h.svc.cfg.Limits.MaxCompressed; r.ContentLength > max {
			err := fmt.Errorf("%w: archive of %d bytes exceeds the limit of %d", ErrTooLarge, r.ContentLength, max)
			status = statusOf(err)
			h.fail(w, r, err)
			return
		}
		v, err := h.svc.Publish(r.Context(), tok, key, r.Body)
		if err != nil {
			status = statusOf(err)
			h.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{
			"id": v.Key.String(), "namespace": v.Namespace, "name": v.Name, "provider": v.System,
			"version": v.Version, "sha256": v.SHA256, "size": v.Size,
		})
	}
}

// errorBody is the registry protocol's error shape.
type errorBody struct {
	Errors []string `json:"errors"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInternalServerError {
		h.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		msg = "internal error"
	}
	if errors.Is(err, ErrUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="plat registry"`)
	}
	if errors.Is(err, ErrMethod) {
		msg = fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)
	}
	writeJSON(w, status, errorBody{Errors: []string{msg}})
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
