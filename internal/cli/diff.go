package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/inventory"
)

// newDiffCmd builds `plat diff`.
func newDiffCmd(env *Env) *cobra.Command {
	var (
		newDir, baseDir, format, registry string
		withDiff                          bool
	)
	cmd := &cobra.Command{
		Use:   "diff --catalog NEW [--base OLD] PATH...",
		Short: "Show what a new catalog would change in every stack under PATH",
		Long: `Diff compiles every stack file under the PATHs twice, in memory: with the base
catalog (--base DIR; default: the version each stack's repository pins in
plat-catalog.yaml, else the embedded catalog) and with the catalog in --catalog DIR.
It reports per stack the rendered files that would change (a unified diff
with --diff), new and resolved guardrail errors and warnings with their
positions, waivers that would start or stop mattering, and module versions
that move. Formats: text, json, markdown (a pull-request comment).
Exit status: 1 when some stack would stop compiling under the new catalog,
0 otherwise, 2 usage.`,
		Example: `  plat diff --catalog ./catalog ../apps
  plat diff --catalog ./catalog --base ./catalog-1.0.0 --format markdown --diff stacks`,
	}
	f := cmd.Flags()
	f.StringVar(&newDir, "catalog", "", "the new catalog `DIR` (required)")
	f.StringVar(&baseDir, "base", "", "the base catalog `DIR` (default: each stack's own catalog)")
	f.StringVar(&format, "format", "text", "output format: text, json or markdown")
	f.BoolVar(&withDiff, "diff", false, "show a unified diff of every file that would change")
	f.StringVar(&registry, "registry", "", "module registry `HOST[:PORT]/NAMESPACE` to render with (as render --registry)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if newDir == "" {
			return usageErr(errors.New("diff: no new catalog; use --catalog DIR"))
		}
		if len(args) == 0 {
			return usageErr(errors.New("diff: no paths; name the stack files or directories to compare"))
		}
		if !slices.Contains(inventory.DiffFormats, format) {
			return usageErr(fmt.Errorf("diff: --format %q: want text, json or markdown", format))
		}
		opts := inventory.DiffOptions{Diff: withDiff, BaseName: "each stack's catalog"}
		if registry != "" {
			r, err := compiler.ParseRegistry(registry)
			if err != nil {
				return usageErr(fmt.Errorf("diff: --registry: %w", err))
			}
			opts.Registry = &r
		}
		nc, err := inventory.DirCatalog(newDir)
		if err != nil {
			return usageErr(fmt.Errorf("diff: --catalog: %w", err))
		}
		if _, err := compiler.New(nc.FS()); err != nil {
			return usageErr(fmt.Errorf("diff: --catalog %s: %w", newDir, err))
		}
		opts.New = nc
		resolve, err := stackCatalogs(cmd, env, baseDir)
		if err != nil {
			return err
		}
		opts.Base = resolve
		if baseDir != "" {
			opts.BaseName = baseDir
		}
		paths, err := findStacks(args)
		if err != nil {
			return err
		}
		raiseHeap(len(paths))
		rep, err := inventory.Diff(cmd.Context(), paths, opts)
		if err != nil {
			return exit(ExitUsage, fmt.Errorf("diff: %w", err))
		}
		if err := rep.Write(env.Stdout, format); err != nil {
			return exit(ExitUsage, fmt.Errorf("diff: %w", err))
		}
		if rep.Breaks() {
			return exit(ExitFail, nil)
		}
		return nil
	}
	return cmd
}
