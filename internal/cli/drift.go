package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/drift/kube"
	"github.com/platdev/plat/drift/terraform"
	"github.com/platdev/plat/drift/watch"
	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/pipeline"
	"github.com/platdev/plat/internal/startheap"
	"github.com/platdev/plat/internal/userfile"
)

// Exit codes of plat drift check (docs/product.md).
const (
	driftExitClean   = 0
	driftExitError   = 1
	driftExitDrifted = 2
)

func newDriftCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Detect drift between declared and live infrastructure",
		Long: `Detect drift between what stacks declare and what is live.

Terraform stacks are checked with a refresh-only plan (never applied, never
written back); Crossplane stacks against the live objects of a cluster.
See docs/drift.md.`,
	}
	cmd.AddCommand(newDriftCheckCmd(env), newDriftWatchCmd(env), newDriftMergeCmd(env), newDriftAcceptCmd(env))
	return cmd
}

// checkerFlags are the flags check and watch share for building checkers.
type checkerFlags struct {
	tofu        string
	lockTimeout time.Duration
	kubeconfig  string
	catalog     string
}

func (f *checkerFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.tofu, "tofu", "", "tofu or terraform binary (default: $PLAT_TF_BINARY, then tofu, then terraform on PATH)")
	cmd.Flags().DurationVar(&f.lockTimeout, "lock-timeout", terraform.DefaultLockTimeout, "how long to wait for a state lock held by someone else")
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig for Crossplane stacks (default: $KUBECONFIG)")
	cmd.Flags().StringVar(&f.catalog, "catalog", "", "catalog `DIR` the stacks were rendered with, for guardrails on live values and accept (default: the shipped one)")
}

// tracer follows drift back to the stack files through each stack's render
// record, and checks guardrails on live values with the catalog. PLAT_DRIFT_TRACE=off
// turns it off (for the benchmark that measures what tracing costs).
func (f *checkerFlags) tracer(env *Env) *drift.Tracer {
	if env.Getenv("PLAT_DRIFT_TRACE") == "off" {
		return nil
	}
	return &drift.Tracer{
		Resolvers: map[drift.Kind]drift.Resolver{
			drift.KindTerraform:  &terraform.Resolver{},
			drift.KindCrossplane: kube.Resolver{},
		},
		Guardrails: &pipeline.DriftGuardrails{Dir: f.catalog},
		Log:        env.Log,
	}
}

// checkers builds the checker for each kind of stack. The returned func releases
// their resources.
func (f *checkerFlags) checkers(env *Env) (map[drift.Kind]drift.Checker, func()) {
	var tfc drift.Checker
	closeFn := func() {}
	bin, err := terraform.FindBinary(f.tofu, env.Getenv("PLAT_TF_BINARY"))
	if err != nil {
		tfc = drift.ErrorChecker(err)
	} else {
		c := terraform.New(terraform.Options{Binary: bin, LockTimeout: f.lockTimeout, Log: env.Log})
		tfc = c
		closeFn = func() { c.Close() }
	}
	kubeconfig := f.kubeconfig
	if kubeconfig == "" {
		kubeconfig = env.Getenv("KUBECONFIG")
	}
	return map[drift.Kind]drift.Checker{
		drift.KindTerraform:  tfc,
		drift.KindCrossplane: &lazyChecker{newChecker: func() (drift.Checker, error) { return kubeChecker(kubeconfig) }},
	}, closeFn
}

// lazyChecker builds its checker on first use, so a pass without Crossplane
// stacks never connects to a cluster.
type lazyChecker struct {
	newChecker func() (drift.Checker, error)
	once       sync.Once
	c          drift.Checker
}

func (l *lazyChecker) Check(ctx context.Context, dir string) drift.StackReport {
	l.once.Do(func() {
		c, err := l.newChecker()
		if err != nil {
			c = drift.ErrorChecker(err)
		}
		l.c = c
	})
	return l.c.Check(ctx, dir)
}

func newDriftCheckCmd(env *Env) *cobra.Command {
	var (
		cf       checkerFlags
		format   string
		output   string
		parallel int
		timeout  time.Duration
		ignore   string
		quiet    bool
		shard    string
		pass     string
	)
	cmd := &cobra.Command{
		Use:   "check [DIR...]",
		Short: "Run one drift pass over stack directories (exit 0 clean, 2 drift, 1 error)",
		Long: `Run one drift pass over stack directories (default: the current directory).

Each DIR is a Terraform working directory or a Crossplane stack. Nothing is
changed: Terraform stacks get a refresh-only plan saved outside the directory,
which never writes state. Sensitive values are masked in every format.

With --shard I/N only the stacks that hash to shard I of N are checked (I may
be "env": $JOB_COMPLETION_INDEX of a Kubernetes Indexed Job); plat drift merge
combines the shards' JSON reports. Give every shard the same DIR arguments and
the same --pass (default $PLAT_DRIFT_PASS).

Exit status: 0 no drift, 2 drift found, 1 any stack could not be checked
(errors win over drift). Usage errors exit 1 too, so a typo never reads as drift.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// A check reads plans as large as the stacks: collect as usual
			// rather than run up to the start-up heap goal.
			startheap.Stop()
			f, err := drift.ParseFormat(format)
			if err != nil {
				return usageErr(err)
			}
			if parallel < 0 {
				return usageErr(fmt.Errorf("--parallel must be at least 1, got %d", parallel))
			}
			if parallel == 0 {
				parallel = runtime.NumCPU()
			}
			if timeout < 0 {
				return usageErr(fmt.Errorf("--timeout must not be negative"))
			}
			var rules *drift.IgnoreRules
			if ignore != "" {
				b, err := userfile.ReadFile(ignore)
				if err != nil {
					return usageErr(fmt.Errorf("--ignore: %w", err))
				}
				rules, err = drift.ParseIgnore(ignore, bytes.NewReader(b))
				if err != nil {
					return usageErr(err)
				}
			}
			if len(args) == 0 {
				args = []string{"."}
			}
			sp, err := shardPass(env, cmd.Flags().Changed("shard"), shard, cmd.Flags().Changed("pass"), pass)
			if err != nil {
				return usageErr(err)
			}
			dirs := args
			if sp.shard != nil {
				wd, err := os.Getwd()
				if err != nil {
					return exit(driftExitError, err)
				}
				dirs = drift.Select(args, *sp.shard, wd)
				if !quiet {
					fmt.Fprintf(env.Stderr, "drift: pass %s, shard %s: %d of %d %s\n", sp.pass, sp.shard, len(dirs), len(args), plural(len(args), "stack"))
				}
			}
			checkers, closeFn := cf.checkers(env)
			defer closeFn()
			opts := drift.RunOptions{
				Dirs:     dirs,
				Parallel: parallel,
				Timeout:  timeout,
				Checkers: checkers,
				Ignore:   rules,
				Trace:    cf.tracer(env),
			}
			if !quiet {
				p := newProgress(env.Stderr)
				defer p.finish()
				opts.Progress = p.event
			}
			report := drift.Run(cmd.Context(), opts)
			report.Pass = sp.pass
			if sp.shard != nil {
				report.Shard = &drift.ShardInfo{Index: sp.shard.Index, Count: sp.shard.Count, Stacks: dirs, PassStacks: args}
			}
			return writeDriftReport(env, report, f, output)
		},
	}
	setUsageExit(cmd, driftExitError)
	cf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "report format: text, json or markdown")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the report to FILE (atomically) instead of stdout")
	cmd.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "stacks checked at once")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "time limit per stack (0: none)")
	cmd.Flags().StringVar(&ignore, "ignore", "", "ignore rules FILE applied to every stack, besides each stack's .platdriftignore")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output on stderr")
	cmd.Flags().StringVar(&shard, "shard", "", "check only shard I of N (I/N, 0 <= I < N; I may be env: $JOB_COMPLETION_INDEX)")
	cmd.Flags().StringVar(&pass, "pass", "", "name of the pass, recorded in the report (default: $PLAT_DRIFT_PASS; generated for a shard)")
	return cmd
}

// writeDriftReport writes report to output (atomically) or stdout and returns
// the exit status of drift check and merge: errors win over drift.
func writeDriftReport(env *Env, report drift.Report, f drift.Format, output string) error {
	if output != "" {
		if err := atomicfile.Write(output, 0o644, func(w io.Writer) error { return drift.Write(w, report, f) }); err != nil {
			return exit(driftExitError, fmt.Errorf("--output: %w", err))
		}
	} else if err := drift.Write(env.Stdout, report, f); err != nil {
		return exit(driftExitError, err)
	}
	switch {
	case report.Summary.Errors > 0:
		return exit(driftExitError, nil)
	case report.Summary.Drifted > 0:
		return exit(driftExitDrifted, nil)
	}
	return nil
}

// passShard is what --shard and --pass ask of a check.
type passShard struct {
	pass  string       // "" for an unnamed whole pass
	shard *drift.Shard // nil for a whole pass
}

// shardPass reads --shard and --pass: the pass is --pass, else
// $PLAT_DRIFT_PASS, else (for a shard only) a generated one.
func shardPass(env *Env, shardSet bool, shard string, passSet bool, pass string) (passShard, error) {
	var ps passShard
	if shardSet {
		s, err := drift.ParseShard(shard, env.Getenv)
		if err != nil {
			return ps, fmt.Errorf("--shard: %w", err)
		}
		ps.shard = &s
	}
	from := "--pass"
	if !passSet {
		pass, from = env.Getenv(drift.PassEnv), "$"+drift.PassEnv
		if pass == "" && ps.shard != nil {
			pass = drift.NewPassID(time.Now())
		}
	}
	if pass != "" || passSet {
		if err := drift.ValidPassID(pass); err != nil {
			return ps, fmt.Errorf("%s: %w", from, err)
		}
	}
	ps.pass = pass
	return ps, nil
}

// progress shows how a pass is going on stderr: one rewritten line on a terminal,
// one plain line per finished stack otherwise.
type progress struct {
	w       io.Writer
	tty     bool
	running map[int]string
	drawn   bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, running: map[int]string{}}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progress) event(ev drift.Event) {
	if ev.Stack == nil {
		p.running[ev.Index] = ev.Dir
	} else {
		delete(p.running, ev.Index)
	}
	if !p.tty {
		if ev.Stack != nil {
			fmt.Fprintf(p.w, "drift: [%d/%d] %s: %s (%s)\n", ev.Done, ev.Total, ev.Dir, stackSummary(*ev.Stack), time.Duration(ev.Stack.DurationMS)*time.Millisecond)
		}
		return
	}
	if ev.Stack != nil && ev.Stack.Status != drift.StatusClean {
		// Keep problems visible above the status line.
		fmt.Fprintf(p.w, "\r\033[K%s: %s\n", ev.Dir, stackSummary(*ev.Stack))
	}
	line := fmt.Sprintf("checking stacks: %d/%d done, %d running", ev.Done, ev.Total, len(p.running))
	for _, d := range p.running {
		line += " (" + d + ")"
		break
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
}

func (p *progress) finish() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func stackSummary(s drift.StackReport) string {
	switch s.Status {
	case drift.StatusDrifted:
		return fmt.Sprintf("drifted (%d %s)", len(s.Resources), plural(len(s.Resources), "resource"))
	case drift.StatusError:
		first := s.Error
		if i := indexNewline(first); i >= 0 {
			first = first[:i]
		}
		return "error: " + first
	}
	return string(s.Status)
}

func indexNewline(s string) int {
	for i := range len(s) {
		if s[i] == '\n' {
			return i
		}
	}
	return -1
}

func newDriftWatchCmd(env *Env) *cobra.Command {
	var (
		cf         checkerFlags
		configPath string
	)
	cmd := &cobra.Command{
		Use:   "watch --config FILE",
		Short: "Run drift passes on a schedule, serve metrics, notify webhooks",
		Long: `Run drift passes on a schedule as a long-running service.

The config file (YAML, see docs/drift.md) names the schedule (interval or cron),
the stack globs, where to keep the latest report per stack, the address for
/metrics and /healthz, and webhooks that receive Slack-compatible messages when
a stack's drift status or content changes. Stops cleanly on SIGINT/SIGTERM.
Configuration errors exit 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return usageErr(errors.New("--config FILE is required"))
			}
			cfg, err := watch.LoadConfig(configPath)
			if err != nil {
				return usageErr(err)
			}
			if cf.kubeconfig == "" {
				cf.kubeconfig = cfg.Kubeconfig
			}
			checkers, closeFn := cf.checkers(env)
			defer closeFn()
			err = watch.Run(cmd.Context(), watch.Options{Config: cfg, Checkers: checkers, Trace: cf.tracer(env), Log: env.Log})
			if err != nil {
				return exit(driftExitError, err)
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVarP(&configPath, "config", "c", "", "watch configuration FILE (YAML)")
	return cmd
}
