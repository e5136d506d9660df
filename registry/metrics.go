package registry

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the registry's Prometheus collectors, on a registry of their own so
// that several servers can live in one process (tests).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	downloads prometheus.Counter
	archives  prometheus.Counter
	uploads   *prometheus.CounterVec
	handler   http.Handler

	routes sync.Map // route name -> *routeStats
}

// routeStats holds one route's collectors, resolved once: WithLabelValues
// hashes the label values and takes a lock on every call, a tenth of a
// version lookup's handler time before they were kept (BENCHMARKS.md).
type routeStats struct {
	latency prometheus.Observer
	codes   [600]atomic.Pointer[prometheus.Counter] // by status code, filled on first use
}

// route returns the collectors of the route named name.
func (m *metrics) route(name string) *routeStats {
	if rm, ok := m.routes.Load(name); ok {
		return rm.(*routeStats)
	}
	rm, _ := m.routes.LoadOrStore(name, &routeStats{latency: m.latency.WithLabelValues(name)})
	return rm.(*routeStats)
}

// observe counts one request of the route named route answered with status
// after d.
func (m *metrics) observe(route string, status int, d time.Duration) {
	rm := m.route(route)
	rm.latency.Observe(d.Seconds())
	if status < 0 || status >= len(rm.codes) {
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		return
	}
	c := rm.codes[status].Load()
	if c == nil {
		n := m.requests.WithLabelValues(route, strconv.Itoa(status))
		c = &n
		rm.codes[status].Store(c)
	}
	(*c).Inc()
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plat_registry_http_requests_total",
		Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "plat_registry_http_request_duration_seconds",
		Help:    "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route"})
	m.downloads = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plat_registry_downloads_total",
		Help: "Module downloads (answered download endpoint calls).",
	})
	m.archives = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plat_registry_archive_fetches_total",
		Help: "Archive bodies served (GET on an archive location).",
	})
	m.uploads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "plat_registry_uploads_total",
		Help: "Upload attempts by result (published, exists, invalid, too_large, unauthorized, forbidden, error).",
	}, []string{"result"})
	m.reg.MustRegister(m.requests, m.latency, m.downloads, m.archives, m.uploads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

func uploadResult(status int) string {
	switch status {
	case http.StatusCreated:
		return "published"
	case http.StatusConflict:
		return "exists"
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	default:
		return "error"
	}
}
