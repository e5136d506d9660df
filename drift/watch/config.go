// Package watch runs drift passes on a schedule as a long-running service: it
// keeps the latest report per stack on disk, notifies webhooks when a stack's
// drift status or content changes, and serves Prometheus metrics.
package watch

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"sigs.k8s.io/yaml"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/userfile"
)

// Config is the watch configuration file (see docs/drift.md).
type Config struct {
	// Interval between passes (Go duration: 30m, 1h); exclusive with Cron.
	Interval string `json:"interval,omitempty"`
	// Cron schedule, five fields or a descriptor such as @hourly; exclusive with Interval.
	Cron string `json:"cron,omitempty"`
	// Stacks are globs of stack directories, relative to the config file.
	Stacks []string `json:"stacks"`
	// Parallel is how many stacks are checked at once (default: CPUs).
	Parallel int `json:"parallel,omitempty"`
	// Timeout bounds each stack's check (default 10m).
	Timeout string `json:"timeout,omitempty"`
	// Listen is the address for /metrics and /healthz (default 127.0.0.1:9464).
	Listen string `json:"listen,omitempty"`
	// Reports is the directory for the latest report per stack, relative to the
	// config file (default ./drift-reports).
	Reports string `json:"reports,omitempty"`
	// Kubeconfig is for Crossplane stacks; ~ is expanded.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Webhooks receive Slack-compatible messages when a stack changes.
	Webhooks []Webhook `json:"webhooks,omitempty"`
	// WaiverWarning is how long before a waiver of a watched stack runs out
	// it is announced (14d, 336h; default 14d; 0: never).
	WaiverWarning string `json:"waiverWarning,omitempty"`

	// Resolved by LoadConfig.
	dir      string
	schedule cron.Schedule
	timeout  time.Duration
	// waiverWarning is WaiverWarning parsed.
	waiverWarning time.Duration
}

// Webhook is one notification endpoint.
type Webhook struct {
	URL string `json:"url"`
}

// Defaults for optional settings.
const (
	DefaultListen  = "127.0.0.1:9464"
	DefaultReports = "./drift-reports"
	DefaultTimeout = 10 * time.Minute
)

// ErrConfig marks configuration errors (exit status 2).
var ErrConfig = errors.New("invalid drift watch config")

// LoadConfig reads and validates a config file. Every problem found is reported,
// each prefixed with the file name; the error wraps ErrConfig.
func LoadConfig(path string) (*Config, error) {
	b, err := userfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return ParseConfig(path, b)
}

// ParseConfig parses and validates config data read from path.
func ParseConfig(path string, data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		msg := err.Error()
		// sigs.k8s.io/yaml wraps encoding/json's messages; keep the useful part.
		if i := strings.Index(msg, "json: "); i >= 0 {
			msg = msg[i+len("json: "):]
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, path, msg)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	c.dir = abs
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	switch {
	case c.Interval != "" && c.Cron != "":
		bad("set either interval or cron, not both")
	case c.Interval != "":
		d, err := time.ParseDuration(c.Interval)
		if err != nil || d <= 0 {
			bad("interval %q: want a positive duration such as 30m or 1h", c.Interval)
		} else {
			c.schedule = cron.Every(d)
		}
	case c.Cron != "":
		s, err := cron.ParseStandard(c.Cron)
		if err != nil {
			bad("cron %q: %v (want five fields: minute hour day-of-month month day-of-week, or @hourly, @daily, ...)", c.Cron, err)
		} else {
			c.schedule = s
		}
	default:
		bad("missing schedule: set interval (e.g. 1h) or cron (e.g. \"0 6 * * 1-5\")")
	}
	if len(c.Stacks) == 0 {
		bad("stacks: list at least one glob of stack directories")
	}
	for _, g := range c.Stacks {
		if _, err := filepath.Match(g, ""); err != nil {
			bad("stacks: bad glob %q: %v", g, err)
		}
	}
	if c.Parallel < 0 {
		bad("parallel: must be at least 1, got %d", c.Parallel)
	}
	if c.Parallel == 0 {
		c.Parallel = runtime.NumCPU()
	}
	c.timeout = DefaultTimeout
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 {
			bad("timeout %q: want a positive duration such as 10m", c.Timeout)
		}
		c.timeout = d
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Reports == "" {
		c.Reports = DefaultReports
	}
	if strings.HasPrefix(c.Kubeconfig, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			c.Kubeconfig = filepath.Join(home, c.Kubeconfig[2:])
		}
	}
	c.waiverWarning = compiler.DefaultWaiverWarning
	if c.WaiverWarning != "" {
		d, err := compiler.ParseWaiverWarning(c.WaiverWarning)
		if err != nil {
			bad("waiverWarning: %v", err)
		}
		c.waiverWarning = d
	}
	for i, w := range c.Webhooks {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("webhooks[%d].url %q: want an http or https URL", i, w.URL)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, path, strings.Join(errs, "; "))
	}
	return &c, nil
}

// ReportsDir returns the reports directory, resolved against the config file.
func (c *Config) ReportsDir() string { return c.resolve(c.Reports) }

// StackTimeout returns the per-stack timeout.
func (c *Config) StackTimeout() time.Duration { return c.timeout }

func (c *Config) resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// StackDirs expands the stack globs into existing directories, sorted, each
// relative to the config file's directory when it lies below it.
func (c *Config) StackDirs() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, g := range c.Stacks {
		matches, err := filepath.Glob(c.resolve(g))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			if fi, err := os.Stat(m); err != nil || !fi.IsDir() || seen[m] {
				continue
			}
			seen[m] = true
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out, nil
}

// StackName is how a stack directory appears in reports, metrics and messages:
// its path relative to the config file's directory.
func (c *Config) StackName(dir string) string {
	if rel, err := filepath.Rel(c.dir, dir); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(dir)
}
