package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/pipeline"
)

// newCostCmd builds `plat cost`.
func newCostCmd(env *Env) *cobra.Command {
	var format, base string
	cmd := &cobra.Command{
		Use:   "cost [STACK...|DIR...]",
		Short: "Estimate the monthly cost of stacks from the catalog's price data",
		Long: `Cost estimates the monthly cost of each resource and stack from the
catalog's price tables, before anything is rendered (the same figure for both
targets), with what is priced, what is assumed and what is not priced, and
totals per team and per environment. Each PATH is a stack file or a directory
searched for stack files; without PATH the current directory is searched.

With --base REF-or-DIR it shows the monthly change per stack against a base:
a directory holding the same relative paths, or a git revision of this
repository (read with git archive). See docs/cost.md.

Formats: text, json (schema plat.cost/v1, or plat.cost-delta/v1 with --base)
and markdown, on stdout; diagnostics go to stderr.
Exit status: 0 ok, 1 budget guardrail (org.budget) or other errors, 2 usage.`,
		Example: `  plat cost examples/
  plat cost --format markdown stacks/
  plat cost --base origin/main --format markdown stacks/`,
	}
	catalogDir := addCatalogFlag(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json or markdown")
	cmd.Flags().StringVar(&base, "base", "", "show the monthly change against `REF-or-DIR`: a git revision or a directory with the same paths")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		switch format {
		case "text", "json", "markdown":
		default:
			return usageErr(fmt.Errorf("cost: --format %q: want text, json or markdown", format))
		}
		if len(args) == 0 {
			args = []string{"."}
		}
		paths, err := findStacks(args)
		if err != nil {
			return err
		}
		srcs, err := readStacks(paths)
		if err != nil {
			return err
		}
		c, err := loadCompiler(*catalogDir)
		if err != nil {
			return err
		}
		res, diags := c.Compile(cmd.Context(), compiler.Input{Stacks: srcs, Validate: true, Cost: true})
		printText(env, diags)
		if len(srcs) == 0 {
			fmt.Fprintln(env.Stderr, "plat: no stack files found")
		}
		if base != "" {
			bsrcs, err := pipeline.BaseStacks(cmd.Context(), base, args)
			if err != nil {
				if errors.Is(err, pipeline.ErrBase) {
					return usageErr(err)
				}
				return exit(ExitUsage, fmt.Errorf("cost: %w", err))
			}
			bres, bdiags := c.Compile(cmd.Context(), compiler.Input{Stacks: bsrcs, Validate: true, Cost: true})
			for _, d := range bdiags {
				if d.Severity == compiler.SeverityError && d.ID != compiler.IDBudget {
					fmt.Fprintf(env.Stderr, "plat: base %s does not compile; its estimate is left out of the change\n", compiler.HeaderName(d.File))
				}
			}
			d := compiler.NewCostDelta(base, bres.Costs, res.Costs)
			switch format {
			case "text":
				d.WriteText(env.Stdout)
			case "markdown":
				d.WriteMarkdown(env.Stdout)
			case "json":
				if err := d.WriteJSON(env.Stdout); err != nil {
					return exit(ExitUsage, err)
				}
			}
		} else {
			err = writeCost(env.Stdout, format, compiler.NewCostReport(srcs, res.Costs))
		}
		if err != nil {
			return exit(ExitUsage, err)
		}
		if diags.HasErrors() {
			return exit(ExitFail, nil)
		}
		return nil
	}
	return cmd
}

// writeCost writes a cost report in format text, json or markdown.
func writeCost(w io.Writer, format string, r *compiler.CostReport) error {
	switch format {
	case "json":
		return r.WriteJSON(w)
	case "markdown":
		r.WriteMarkdown(w)
	default:
		r.WriteText(w)
	}
	return nil
}

// appendStepSummary appends a Markdown cost report to the GitHub Actions job
// summary file named by GITHUB_STEP_SUMMARY, if set.
func appendStepSummary(env *Env, r *compiler.CostReport) error {
	p := env.Getenv("GITHUB_STEP_SUMMARY")
	if p == "" {
		return nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
	}
	r.WriteMarkdown(f)
	return f.Close()
}
