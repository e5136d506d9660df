package watch

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/platdev/plat/drift"
)

// health says whether passes keep completing, for /healthz: a service whose
// passes hang (issue 17, finding 4) must not look healthy to its supervisor.
type health struct {
	mu        sync.Mutex
	started   time.Time     // when the service started
	running   bool          // a pass is running
	passStart time.Time     // when the running pass started
	bound     time.Duration // the longest the running (or last) pass may take
	stacks    int           // stacks in the running (or last) pass
	lastDone  time.Time     // when the last pass completed; zero: none yet
	lastErr   string        // why the last pass could not run, if it could not
}

// passBound is the longest a pass over n stacks may take: every round of
// Parallel stacks running into its timeout and the grace drift.Run gives a check
// that ignores it.
func (c *Config) passBound(n int) time.Duration {
	parallel, timeout := max(1, c.Parallel), c.timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rounds := max(1, (n+parallel-1)/parallel)
	return time.Duration(rounds) * (timeout + drift.DefaultGrace)
}

func (h *health) passStarted(now time.Time, stacks int, bound time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.passStart, h.stacks, h.bound, h.lastErr = true, now, stacks, bound, ""
}

func (h *health) passEnded(now time.Time, completed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
	if completed {
		h.lastDone = now
	}
}

func (h *health) passFailed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.lastErr = false, err.Error()
}

// check returns why the service is unhealthy at now, or "" when it is healthy:
// the running pass has taken longer than its bound, or no pass is running and
// none has completed by the next scheduled time after the last one (or after
// start) plus the larger of the pass bound and the schedule's gap, which is
// max(2*interval, interval+bound) for an interval schedule.
func (h *health) check(now time.Time, cfg *Config) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running {
		if d := now.Sub(h.passStart); d > h.bound {
			return fmt.Sprintf("drift pass running for %s, longer than its bound of %s (%d stacks, parallel %d, timeout %s each)",
				d.Round(time.Second), h.bound, h.stacks, cfg.Parallel, cfg.timeout)
		}
		return ""
	}
	ref, since := h.lastDone, "the last completed pass at "+h.lastDone.UTC().Format(time.RFC3339)
	if ref.IsZero() {
		ref, since = h.started, "start at "+h.started.UTC().Format(time.RFC3339)
	}
	bound := h.bound
	if bound == 0 {
		bound = cfg.passBound(1)
	}
	next := cfg.schedule.Next(ref)
	deadline := next.Add(max(bound, next.Sub(ref)))
	if !now.After(deadline) {
		return ""
	}
	msg := fmt.Sprintf("no drift pass completed since %s (the next was due by %s)", since, deadline.UTC().Format(time.RFC3339))
	if h.lastErr != "" {
		msg += "; the last pass could not run: " + h.lastErr
	}
	return msg
}

// serveHealthz answers 200 "ok" or 503 "unhealthy: REASON".
func (s *service) serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if reason := s.health.check(s.now(), s.cfg); reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "unhealthy: "+reason+"\n")
		return
	}
	io.WriteString(w, "ok\n")
}
