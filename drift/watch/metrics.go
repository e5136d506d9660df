package watch

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/platdev/plat/drift"
)

// metrics are the service's Prometheus series, on a registry of their own.
type metrics struct {
	reg             *prometheus.Registry
	status          *prometheus.GaugeVec
	resources       *prometheus.GaugeVec
	duration        *prometheus.HistogramVec
	errors          *prometheus.CounterVec
	passes          prometheus.Counter
	lastPass        prometheus.Gauge
	webhookSent     prometheus.Counter
	webhookRetries  prometheus.Counter
	webhookFailures prometheus.Counter
	webhookDropped  prometheus.Counter
	guardrails      *prometheus.GaugeVec

	mu     sync.Mutex
	stacks map[string]bool
	// rails holds, per stack, the guardrail label pairs (id, severity) set in
	// the latest pass, so the ones no longer broken are removed.
	rails map[string]map[[2]string]bool
}

var statuses = []drift.Status{drift.StatusClean, drift.StatusDrifted, drift.StatusError}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plat_drift_stack_status",
			Help: "1 for the stack's status in the latest pass (clean, drifted or error), 0 for the others."}, []string{"stack", "status"}),
		resources: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plat_drift_stack_drifted_resources",
			Help: "Drifted resources in the stack in the latest pass."}, []string{"stack"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "plat_drift_check_duration_seconds",
			Help:    "Time to check one stack.",
			Buckets: []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600}}, []string{"stack"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plat_drift_check_errors_total",
			Help: "Checks of the stack that failed."}, []string{"stack"}),
		passes:   prometheus.NewCounter(prometheus.CounterOpts{Name: "plat_drift_passes_total", Help: "Completed drift passes."}),
		lastPass: prometheus.NewGauge(prometheus.GaugeOpts{Name: "plat_drift_last_pass_timestamp_seconds", Help: "Unix time the latest pass completed."}),
		webhookSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "plat_drift_webhook_deliveries_total",
			Help: "Webhook messages delivered."}),
		webhookRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "plat_drift_webhook_retries_total",
			Help: "Webhook attempts that failed and were retried."}),
		webhookFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "plat_drift_webhook_failures_total",
			Help: "Webhook messages given up on after all attempts."}),
		webhookDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "plat_drift_webhook_dropped_total",
			Help: "Webhook messages dropped unsent: the webhook's queue was full (the oldest is dropped) or shutdown came first."}),
		guardrails: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "plat_drift_guardrail_violations",
			Help: "Drifted attributes whose live value breaks a template guardrail, per stack, guardrail and severity, in the latest pass."},
			[]string{"stack", "guardrail", "severity"}),
		stacks: map[string]bool{},
		rails:  map[string]map[[2]string]bool{},
	}
	m.reg.MustRegister(m.status, m.resources, m.duration, m.errors, m.passes, m.lastPass,
		m.webhookSent, m.webhookRetries, m.webhookFailures, m.webhookDropped, m.guardrails,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(st drift.StackReport) {
	m.mu.Lock()
	m.stacks[st.Dir] = true
	m.mu.Unlock()
	for _, s := range statuses {
		v := 0.0
		if s == st.Status {
			v = 1
		}
		m.status.WithLabelValues(st.Dir, string(s)).Set(v)
	}
	m.resources.WithLabelValues(st.Dir).Set(float64(len(st.Resources)))
	m.duration.WithLabelValues(st.Dir).Observe(float64(st.DurationMS) / 1000)
	c := m.errors.WithLabelValues(st.Dir)
	if st.Status == drift.StatusError {
		c.Inc()
	}
	m.observeGuardrails(st)
}

// observeGuardrails sets the stack's guardrail violation series. A stack that
// could not be checked keeps those of its last pass.
func (m *metrics) observeGuardrails(st drift.StackReport) {
	if st.Status == drift.StatusError {
		return
	}
	counts := map[[2]string]int{}
	for _, r := range st.Resources {
		for _, c := range r.Changes {
			if g := c.Guardrail; g != nil {
				counts[[2]string{g.ID, g.Severity}]++
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.rails[st.Dir] {
		if _, ok := counts[k]; !ok {
			m.guardrails.DeleteLabelValues(st.Dir, k[0], k[1])
		}
	}
	now := map[[2]string]bool{}
	for k, n := range counts {
		m.guardrails.WithLabelValues(st.Dir, k[0], k[1]).Set(float64(n))
		now[k] = true
	}
	m.rails[st.Dir] = now
}

// forgetExcept drops the series of stacks no longer matched by the config.
func (m *metrics) forgetExcept(keep map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for st := range m.stacks {
		if keep[st] {
			continue
		}
		delete(m.stacks, st)
		for _, s := range statuses {
			m.status.DeleteLabelValues(st, string(s))
		}
		m.resources.DeleteLabelValues(st)
		m.duration.DeleteLabelValues(st)
		m.errors.DeleteLabelValues(st)
		for k := range m.rails[st] {
			m.guardrails.DeleteLabelValues(st, k[0], k[1])
		}
		delete(m.rails, st)
	}
}
