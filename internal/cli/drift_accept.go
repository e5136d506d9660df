package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/userfile"
)

// newDriftAcceptCmd builds `plat drift accept`.
func newDriftAcceptCmd(env *Env) *cobra.Command {
	var (
		cf       checkerFlags
		write    bool
		report   string
		parallel int
		timeout  time.Duration
		quiet    bool
	)
	cmd := &cobra.Command{
		Use:   "accept [DIR...] [--write]",
		Short: "Adopt drifted live values into the stack files (exit 0 all accepted, 1 some refused)",
		Long: `Accept runs a drift pass over the stack directories (or reads a saved JSON
report with --report) and, for each change that traces back to a stack-file
parameter, proposes the edit of the stack file that adopts the live value: a
unified diff on stdout (for git apply or a pull request), or the edit made in
place with --write. Comments, key order and formatting are kept.

Each edited stack is compiled against the catalog (--catalog, as render had
it): a live value that is not a valid parameter value or breaks a guardrail is
refused, and the answer is to revert the live side (tofu apply). Drift that
traces to nothing in the stack file is listed as such. See docs/drift.md.

Exit status: 0 every traced change accepted, 1 some refused (or a stack could
not be checked), 2 usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if report != "" && len(args) > 0 {
				return usageErr(errors.New("give stack directories or --report FILE, not both"))
			}
			if parallel < 1 {
				return usageErr(fmt.Errorf("--parallel must be at least 1, got %d", parallel))
			}
			if timeout < 0 {
				return usageErr(errors.New("--timeout must not be negative"))
			}
			c, err := loadCompiler(cf.catalog)
			if err != nil {
				return err
			}
			var rep drift.Report
			if report != "" {
				f, err := userfile.Open(report)
				if err != nil {
					return usageErr(fmt.Errorf("--report: %w", err))
				}
				rep, err = drift.DecodeReport(report, f)
				f.Close()
				if err != nil {
					return usageErr(err)
				}
			} else {
				if len(args) == 0 {
					args = []string{"."}
				}
				checkers, closeFn := cf.checkers(env)
				defer closeFn()
				opts := drift.RunOptions{Dirs: args, Parallel: parallel, Timeout: timeout, Checkers: checkers, Trace: cf.tracer(env)}
				if !quiet {
					p := newProgress(env.Stderr)
					defer p.finish()
					opts.Progress = p.event
				}
				rep = drift.Run(cmd.Context(), opts)
			}
			res := drift.Accept(cmd.Context(), rep, drift.AcceptOptions{Compiler: c})
			if write {
				for _, e := range res.Edits {
					// Write through a symlink to the file it names.
					path := e.File.Path
					if real, err := filepath.EvalSymlinks(path); err == nil {
						path = real
					}
					if err := atomicfile.WriteFile(path, e.New, e.File.Mode); err != nil {
						return exit(ExitUsage, fmt.Errorf("write %s: %w", e.File.Name, err))
					}
					fmt.Fprintf(env.Stderr, "plat: wrote %s\n", e.File.Name)
				}
			} else if err := res.WriteDiff(env.Stdout); err != nil {
				return exit(ExitUsage, err)
			}
			if err := res.WriteText(env.Stderr); err != nil {
				return exit(ExitUsage, err)
			}
			if res.Count(drift.OutcomeRefused) > 0 || res.Count(drift.OutcomeError) > 0 {
				return exit(ExitFail, nil)
			}
			return nil
		},
	}
	cf.register(cmd) // --catalog among them: the catalog render had, for compiling the edited stack
	cmd.Flags().BoolVar(&write, "write", false, "edit the stack files in place (atomically) instead of printing a diff")
	cmd.Flags().StringVar(&report, "report", "", "accept from a saved JSON drift report `FILE` instead of running a drift pass")
	cmd.Flags().IntVar(&parallel, "parallel", runtime.NumCPU(), "stacks checked at once")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "time limit per stack (0: none)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output on stderr")
	return cmd
}
