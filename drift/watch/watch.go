package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/userfile"
)

// Options configure a watch service.
type Options struct {
	Config   *Config
	Checkers map[drift.Kind]drift.Checker
	// Trace, if set, traces drift back to the stack files and checks
	// guardrails on live values (drift.RunOptions.Trace).
	Trace *drift.Tracer
	// Log receives what the service does; nil discards it.
	Log *slog.Logger
	// Client posts webhooks; nil means a client with a 10s timeout.
	Client *http.Client
	// RetryBase is the first backoff between webhook attempts, doubled on each
	// retry; 0 means 1s. MaxAttempts bounds attempts per message; 0 means 5.
	RetryBase   time.Duration
	MaxAttempts int
	// Listening, if set, is called with the address /metrics is served on.
	Listening func(addr string)
	// PassDone, if set, is called after each completed pass.
	PassDone func(drift.Report)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Run serves until ctx is done: a pass at start, then one per scheduled time. It
// returns an error only when it cannot start (the listen address is taken, the
// reports directory cannot be created); failures of stacks or webhooks are
// reported, logged and counted, never fatal. On cancellation it stops the
// running pass (tofu is interrupted and releases its locks), stops serving and
// gives queued webhook messages a few seconds to go out.
func Run(ctx context.Context, opts Options) error {
	s, err := newService(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.log.Info("drift watch serving /metrics and /healthz", "addr", ln.Addr().String())
	if opts.Listening != nil {
		opts.Listening(ln.Addr().String())
	}

	s.out.start(ctx)

	s.loop(ctx)

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	s.out.stop(shutdownCtx)
	if e := <-serveErr; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

type service struct {
	opts    Options
	cfg     *Config
	log     *slog.Logger
	now     func() time.Time
	reports string
	client  *http.Client
	out     *dispatcher // one delivery queue per webhook
	m       *metrics
	waivers *waiverWatch

	mu   sync.Mutex
	last map[string]stackState // by stack name

	health health
}

type stackState struct {
	status      drift.Status
	fingerprint string
}

func newService(opts Options) (*service, error) {
	s := &service{
		opts:    opts,
		cfg:     opts.Config,
		log:     opts.Log,
		now:     opts.Now,
		reports: opts.Config.ReportsDir(),
		client:  opts.Client,
		m:       newMetrics(),
		last:    map[string]stackState{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.health.started = s.now()
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second}
	}
	if s.opts.RetryBase <= 0 {
		s.opts.RetryBase = time.Second
	}
	if s.opts.MaxAttempts <= 0 {
		s.opts.MaxAttempts = 5
	}
	s.out = newDispatcher(s)
	if err := os.MkdirAll(s.reports, 0o755); err != nil {
		return nil, fmt.Errorf("reports directory: %w", err)
	}
	s.waivers = newWaiverWatch(s.m.reg, s.reports, s.cfg.waiverWarning, s.log)
	s.loadPrevious()
	return s, nil
}

// maxReportSize bounds a previous report read back at start; reports are plat's
// own, but the directory is the user's, and a named pipe or a huge file there
// must not stop the service from starting.
const maxReportSize = 64 << 20

// loadPrevious seeds what was last seen of each stack from the reports a
// previous run left, so a restart does not announce unchanged drift again.
func (s *service) loadPrevious() {
	files, _ := filepath.Glob(filepath.Join(s.reports, "*.json"))
	for _, f := range files {
		b, err := userfile.Read(f, maxReportSize)
		if err != nil {
			continue
		}
		var r drift.Report
		if json.Unmarshal(b, &r) != nil || r.SchemaVersion != drift.SchemaVersion || len(r.Stacks) != 1 {
			continue
		}
		st := r.Stacks[0]
		s.last[st.Dir] = stackState{status: st.Status, fingerprint: fingerprint(st)}
	}
}

func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	return mux
}

func (s *service) loop(ctx context.Context) {
	for {
		s.pass(ctx)
		next := s.cfg.schedule.Next(s.now())
		s.log.Info("next drift pass", "at", next.Format(time.RFC3339))
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *service) pass(ctx context.Context) {
	dirs, err := s.cfg.StackDirs()
	if err != nil {
		s.log.Error("expand stack globs", "err", err)
		s.health.passFailed(fmt.Errorf("expand stack globs: %w", err))
		return
	}
	if len(dirs) == 0 {
		s.log.Warn("no stack directories match the configured globs", "stacks", s.cfg.Stacks)
	}
	s.log.Info("drift pass starting", "stacks", len(dirs))
	s.health.passStarted(s.now(), len(dirs), s.cfg.passBound(len(dirs)))
	r := drift.Run(ctx, drift.RunOptions{
		Dirs:     dirs,
		Parallel: s.cfg.Parallel,
		Timeout:  s.cfg.timeout,
		Checkers: s.opts.Checkers,
		Trace:    s.opts.Trace,
	})
	if ctx.Err() != nil {
		s.health.passEnded(s.now(), false)
		s.log.Info("drift pass interrupted; results discarded")
		return
	}
	seen := map[string]bool{}
	for i := range r.Stacks {
		st := &r.Stacks[i]
		st.Dir = s.cfg.StackName(st.Dir)
		seen[st.Dir] = true
		s.record(*st, r.StartedAt)
	}
	s.m.forgetExcept(seen)
	for _, m := range s.waivers.check(s.now(), s.cfg, dirs, len(s.cfg.Webhooks) > 0) {
		s.out.send(m)
	}
	s.health.passEnded(s.now(), true)
	s.m.passes.Inc()
	s.m.lastPass.Set(float64(s.now().Unix()))
	s.log.Info("drift pass done", "stacks", r.Summary.Stacks, "drifted", r.Summary.Drifted,
		"errors", r.Summary.Errors, "duration", time.Duration(r.DurationMS)*time.Millisecond)
	if s.opts.PassDone != nil {
		s.opts.PassDone(r)
	}
}

// record updates metrics, writes the stack's report files and queues a webhook
// message when the stack's status or drift content changed.
func (s *service) record(st drift.StackReport, started time.Time) {
	s.m.observe(st)
	lvl := slog.LevelInfo
	if st.Status != drift.StatusClean {
		lvl = slog.LevelWarn
	}
	s.log.Log(context.Background(), lvl, "stack checked", "stack", st.Dir, "status", st.Status,
		"resources", len(st.Resources), "duration", time.Duration(st.DurationMS)*time.Millisecond)

	single := drift.Report{SchemaVersion: drift.SchemaVersion, StartedAt: started, DurationMS: st.DurationMS,
		Summary: drift.Summarize([]drift.StackReport{st}), Stacks: []drift.StackReport{st}}
	base := filepath.Join(s.reports, fileName(st.Dir))
	if err := atomicfile.Write(base+".json", 0o644, func(w io.Writer) error { return drift.WriteJSON(w, single) }); err != nil {
		s.log.Error("write report", "stack", st.Dir, "err", err)
	}
	if err := atomicfile.Write(base+".md", 0o644, func(w io.Writer) error { return drift.WriteMarkdown(w, single) }); err != nil {
		s.log.Error("write report", "stack", st.Dir, "err", err)
	}

	now := stackState{status: st.Status, fingerprint: fingerprint(st)}
	s.mu.Lock()
	prev, known := s.last[st.Dir]
	s.last[st.Dir] = now
	s.mu.Unlock()
	if !known {
		// First sight since start: assume it was clean, so an already drifted or
		// failing stack is announced once and a clean one stays quiet.
		prev = stackState{status: drift.StatusClean, fingerprint: fingerprint(drift.StackReport{Status: drift.StatusClean})}
	}
	if prev == now || len(s.cfg.Webhooks) == 0 {
		return
	}
	s.out.send(slackMessage(st, prev.status))
}

// fingerprint identifies what a notification is about: status, drifted
// resources with their changes, and the error. Durations are left out.
func fingerprint(st drift.StackReport) string {
	b, _ := json.Marshal(struct {
		Status    drift.Status
		Resources []drift.ResourceDrift
		Error     string
	}{st.Status, st.Resources, st.Error})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var (
	unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	slashes    = regexp.MustCompile(`/+`)
)

// fileName turns a stack name into a report file name: stacks/a/out -> stacks__a__out.
func fileName(stack string) string {
	n := unsafeName.ReplaceAllString(slashes.ReplaceAllString(filepath.ToSlash(stack), "__"), "_")
	if n == "" || n == "." {
		n = "_root"
	}
	return n
}
