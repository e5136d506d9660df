// Package terraform checks Terraform/OpenTofu stacks for drift with a refresh-only
// plan. It never applies, never writes state and never
// leaves a lock behind: the plan is saved to a temporary file outside the working
// directory (a saved refresh-only plan does not persist the refreshed state), the
// state lock is taken with a bounded -lock-timeout, and a timed-out run is
// interrupted so tofu releases its lock itself.
package terraform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/platdev/plat/drift"
)

// DefaultLockTimeout is how long a check waits for a state lock held by someone
// else before reporting the stack as an error.
const DefaultLockTimeout = 30 * time.Second

// Options configure a Checker.
type Options struct {
	// Binary is the tofu or terraform executable (see FindBinary). When empty every
	// check fails with ErrNoBinary.
	Binary string
	// LockTimeout bounds the wait for a state lock; 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// Env is the environment tofu runs with; nil means the process environment.
	Env map[string]string
	// TempDir is where plan files are written; empty means os.TempDir().
	TempDir string
	// InterruptGrace is how long an interrupted tofu gets to release its lock and
	// exit before it is killed; 0 means 10s.
	InterruptGrace time.Duration
	// Log receives debug lines about what runs; nil discards them.
	Log *slog.Logger
}

// Checker checks Terraform working directories. It is safe for concurrent use;
// Close removes its temporary files.
type Checker struct {
	opts   Options
	initMu sync.Mutex // tofu init is not safe to run concurrently on shared caches

	mu     sync.Mutex
	free   []*slot
	all    []*slot
	closed bool
}

var _ drift.Checker = (*Checker)(nil)

// New returns a Checker.
func New(opts Options) *Checker {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	if opts.InterruptGrace <= 0 {
		opts.InterruptGrace = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Checker{opts: opts}
}

// Sentinel errors.
var (
	// ErrNoBinary means neither tofu nor terraform could be found.
	ErrNoBinary = errors.New("no tofu or terraform binary found (install OpenTofu, or set --tofu or PLAT_TF_BINARY)")
)

// FindBinary picks the Terraform binary: flag (from --tofu), then env
// (PLAT_TF_BINARY), then tofu and terraform on PATH. A flag or env value without a
// slash is looked up on PATH too. The path returned is absolute: a relative
// value (--tofu ./bin/tofu) is resolved against the working directory here,
// since tofu runs in each stack's directory.
func FindBinary(flag, env string) (string, error) {
	for _, want := range []string{flag, env} {
		if want == "" {
			continue
		}
		p, err := exec.LookPath(want)
		if err != nil {
			return "", fmt.Errorf("terraform binary %s: %w", want, errors.Unwrap(err))
		}
		if p, err = filepath.Abs(p); err != nil {
			return "", fmt.Errorf("terraform binary %s: %w", want, err)
		}
		return p, nil
	}
	for _, name := range []string{"tofu", "terraform"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBinary
}

// slot is a private temporary directory for one check at a time, reused
// across stacks.
type slot struct {
	tmp    string // private temporary directory
	plan   string // plan file path, inside tmp
	stderr bytes.Buffer
}

func (c *Checker) acquire() (*slot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("checker closed")
	}
	if n := len(c.free); n > 0 {
		s := c.free[n-1]
		c.free = c.free[:n-1]
		return s, nil
	}
	tmp, err := os.MkdirTemp(c.opts.TempDir, "plat-drift-")
	if err != nil {
		return nil, err
	}
	s := &slot{tmp: tmp, plan: filepath.Join(tmp, "drift.tfplan")}
	c.all = append(c.all, s)
	return s, nil
}

func (c *Checker) release(s *slot) {
	os.Remove(s.plan)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		os.RemoveAll(s.tmp)
		return
	}
	c.free = append(c.free, s)
}

// Close removes the checker's temporary directories. Checks still running finish
// with an error.
func (c *Checker) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var errs []error
	for _, s := range c.free {
		errs = append(errs, os.RemoveAll(s.tmp))
	}
	c.free = nil
	return errors.Join(errs...)
}

// Check runs a refresh-only plan in dir and reports the resources that drifted.
func (c *Checker) Check(ctx context.Context, dir string) drift.StackReport {
	rs, err := c.check(ctx, dir)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (tofu was interrupted; no lock is left behind)", context.Cause(ctx))
		}
		return drift.Failed(err)
	}
	return drift.StackReport{Resources: rs}
}

func (c *Checker) check(ctx context.Context, dir string) ([]drift.ResourceDrift, error) {
	if c.opts.Binary == "" {
		return nil, ErrNoBinary
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.opts.Binary); err != nil {
		return nil, fmt.Errorf("terraform binary: %w", err)
	}
	s, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release(s)

	initialised := false
	if !c.initialised(abs) {
		if err := c.init(ctx, s, abs); err != nil {
			return nil, err
		}
		initialised = true
	}
	for {
		err := c.plan(ctx, s, abs)
		if err == nil {
			break
		}
		if !initialised && ctx.Err() == nil && needsInit(err.Error()) {
			if err := c.init(ctx, s, abs); err != nil {
				return nil, err
			}
			initialised = true
			continue
		}
		return nil, err
	}
	return c.show(ctx, s, abs)
}

// plan writes the refresh-only plan of dir to the slot's plan file.
func (c *Checker) plan(ctx context.Context, s *slot, dir string) error {
	os.Remove(s.plan)
	c.opts.Log.Debug("tofu plan -refresh-only", "dir", dir)
	err := c.run(ctx, s, dir, io.Discard, "plan", "-no-color", "-input=false", "-refresh-only",
		"-lock=true", "-lock-timeout="+c.opts.LockTimeout.String(), "-out="+s.plan)
	if err != nil {
		return c.tofuError("plan", s, err)
	}
	return nil
}

// show reads the drift of the slot's plan file from tofu show -json, as it
// streams out (ReadPlan).
func (c *Checker) show(ctx context.Context, s *slot, dir string) ([]drift.ResourceDrift, error) {
	c.opts.Log.Debug("tofu show", "dir", dir)
	pr, pw := io.Pipe()
	type result struct {
		rs  []drift.ResourceDrift
		err error
	}
	done := make(chan result, 1)
	go func() {
		rs, err := ReadPlan(pr)
		io.Copy(io.Discard, pr) // let tofu finish writing whatever ReadPlan left
		pr.CloseWithError(err)
		done <- result{rs, err}
	}()
	err := c.run(ctx, s, dir, pw, "show", "-json", "-no-color", s.plan)
	pw.Close()
	res := <-done
	if err != nil {
		return nil, c.tofuError("show", s, err)
	}
	if res.err != nil {
		return nil, fmt.Errorf("tofu show: %w", res.err)
	}
	return res.rs, nil
}

// initialised reports whether dir looks initialised: a data directory exists.
// Providers missing from it are caught when plan fails and asks for init.
func (c *Checker) initialised(dir string) bool {
	data := ".terraform"
	if d := c.env("TF_DATA_DIR"); d != "" {
		data = d
	}
	if !filepath.IsAbs(data) {
		data = filepath.Join(dir, data)
	}
	_, err := os.Stat(data)
	return !errors.Is(err, fs.ErrNotExist)
}

func (c *Checker) env(k string) string {
	if c.opts.Env != nil {
		return c.opts.Env[k]
	}
	return os.Getenv(k)
}

func (c *Checker) init(ctx context.Context, s *slot, dir string) error {
	c.initMu.Lock()
	defer c.initMu.Unlock()
	c.opts.Log.Debug("tofu init", "dir", dir)
	if err := c.run(ctx, s, dir, io.Discard, "init", "-no-color", "-input=false", "-backend=true", "-get=true", "-upgrade=false"); err != nil {
		return c.tofuError("init", s, err)
	}
	return nil
}

var needsInitRE = regexp.MustCompile(`(?i)(please run "(tofu|terraform) init"|required plugins are not installed|missing required provider|inconsistent dependency lock file|module not installed|backend initialization required|provider .* not available|could not load plugin)`)

func needsInit(msg string) bool { return needsInitRE.MatchString(msg) }

// tofuError builds the error for a failed tofu command from its stderr, cleaned of
// source snippets and expression values (which may hold secrets); it never uses
// the raw stderr.
func (c *Checker) tofuError(op string, s *slot, err error) error {
	msg := CleanDiagnostics(s.stderr.String())
	var ee *exec.ExitError
	if msg == "" {
		if errors.As(err, &ee) {
			msg = ee.String()
		} else {
			// Not a tofu failure (the binary could not start, JSON could not be
			// parsed): the first line carries no tofu output.
			msg, _, _ = strings.Cut(err.Error(), "\n")
		}
	}
	return fmt.Errorf("tofu %s: %s", op, msg)
}

var (
	snippetRE = regexp.MustCompile(`^\s*\d+:( |$)`) // "  12:   password = "...""
	exprRE    = regexp.MustCompile(`^\s*[│├╵╷┆]`)   // expression values under a snippet
	blankRE   = regexp.MustCompile(`\n{3,}`)
)

// maxDiagnosticLines bounds the tofu output carried into a report.
const maxDiagnosticLines = 30

// CleanDiagnostics keeps tofu's error summaries, positions and explanations and
// drops source snippets and expression values, which can hold literal secrets.
func CleanDiagnostics(stderr string) string {
	var keep []string
	for line := range strings.SplitSeq(stderr, "\n") {
		line = strings.TrimRight(line, " \r")
		if snippetRE.MatchString(line) || exprRE.MatchString(line) {
			continue
		}
		keep = append(keep, line)
	}
	out := strings.TrimSpace(blankRE.ReplaceAllString(strings.Join(keep, "\n"), "\n\n"))
	lines := strings.Split(out, "\n")
	if len(lines) > maxDiagnosticLines {
		lines = append(lines[:maxDiagnosticLines], fmt.Sprintf("... (%d more lines)", len(lines)-maxDiagnosticLines))
	}
	return strings.Join(lines, "\n")
}
