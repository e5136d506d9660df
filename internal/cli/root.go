// Package cli builds plat's command tree. Every call to New builds a fresh tree, so
// tests (and testscript) can run commands repeatedly in one process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command (see docs/product.md).
const (
	ExitOK    = 0
	ExitFail  = 1 // validation or guardrail errors, refused uploads, drift errors
	ExitUsage = 2 // usage or I/O errors (and "drift found" for plat drift check)
)

// usageExitKey is the cobra annotation by which a command overrides ExitUsage for
// its usage errors: plat drift check exits 1 on a usage error, since 2 means
// drift found there (docs/drift.md).
const usageExitKey = "plat/usage-exit-code"

// setUsageExit makes code the exit status of cmd's usage errors (unknown flags,
// bad flag values, bad arguments).
func setUsageExit(cmd *cobra.Command, code int) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[usageExitKey] = strconv.Itoa(code)
}

// usageExit returns the exit status of a usage error of cmd.
func usageExit(cmd *cobra.Command) int {
	if cmd != nil {
		if v, ok := cmd.Annotations[usageExitKey]; ok {
			if code, err := strconv.Atoi(v); err == nil {
				return code
			}
		}
	}
	return ExitUsage
}

// Env is what commands read from and write to; tests substitute their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable.
	Getenv func(string) string
	// Log is where long-running commands write structured logs.
	Log *slog.Logger
}

// ExitError carries a process exit code out of a command. When Err is nil the
// command has already told the user what went wrong.
type ExitError struct {
	Code int
	Err  error
	// usage marks a usage error: Run replaces Code with the command's usage
	// exit status (see setUsageExit).
	usage bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exit returns an error that makes plat exit with code, printing err if non-nil.
func exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

// usageErr marks err as a usage error: exit 2, or the code the command set with
// setUsageExit.
func usageErr(err error) error { return &ExitError{Code: ExitUsage, Err: err, usage: true} }

// Main runs plat with the process's arguments and returns its exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env := &Env{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		Log:    slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	return Run(ctx, env, os.Args[1:])
}

// Run executes one plat command line and returns its exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	root := New(env)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(env.Stderr, "plat: %v\n", ee.Err)
		}
		if ee.usage {
			return usageExit(cmd)
		}
		return ee.Code
	}
	// Anything cobra reports itself (unknown command or flag, bad arguments) is usage.
	fmt.Fprintf(env.Stderr, "plat: %v\n", err)
	fmt.Fprintln(env.Stderr, "Run 'plat --help' for usage.")
	return usageExit(cmd)
}

// New builds plat's command tree.
func New(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "plat",
		Version:       version(),
		Short:         "Golden-path compiler, module registry and drift detector for platform teams",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr(err) })
	root.AddCommand(
		newRenderCmd(env),
		newValidateCmd(env),
		newCostCmd(env),
		newCatalogCmd(env),
		newSchemaCmd(env),
		newRegistryCmd(env),
		newModuleCmd(env),
		newProviderCmd(env),
		newDriftCmd(env),
		newInventoryCmd(env), newDiffCmd(env),
	)
	return root
}

// version describes the running binary: its module version when installed with
// go install, else the VCS revision it was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel-" + rev + modified
	}
	if v == "" {
		return "(devel)"
	}
	return v
}
