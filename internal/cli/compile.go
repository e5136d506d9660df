package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/pipeline"
	"github.com/platdev/plat/internal/startheap"
)

// The compile-and-check pipeline render and validate share is
// internal/pipeline; this file wires it to flags and exit codes.

// addCatalogFlag adds --catalog to cmd and returns where its value lands.
func addCatalogFlag(cmd *cobra.Command) *string {
	var dir string
	cmd.Flags().StringVar(&dir, "catalog", "", "use the catalog in `DIR` (platform.cue and TEMPLATE/template.cue) instead of the shipped one")
	return &dir
}

// addCRDsFlag adds --crds to cmd (validate, render) and returns where its value lands.
func addCRDsFlag(cmd *cobra.Command) *string {
	var dir string
	cmd.Flags().StringVar(&dir, "crds", "", "check rendered Crossplane manifests offline against the CRD files in `DIR` (e.g. a provider package's package/crds)")
	return &dir
}

// loadCompiler builds a compiler over the shipped catalog, or over dir; any
// problem is a usage error (exit 2).
func loadCompiler(dir string) (*compiler.Compiler, error) {
	c, err := pipeline.LoadCompiler(dir)
	if err != nil {
		return nil, usageErr(err)
	}
	return c, nil
}

// readStacks reads stack files; any I/O problem is a usage error (exit 2).
func readStacks(paths []string) ([]compiler.Source, error) {
	srcs, err := pipeline.ReadStacks(paths)
	if err != nil {
		return nil, usageErr(err)
	}
	return srcs, nil
}

// findStacks expands directories to the stack files below them; any problem is
// a usage error (exit 2).
func findStacks(paths []string) ([]string, error) {
	out, err := pipeline.FindStacks(paths)
	if err != nil {
		return nil, usageErr(err)
	}
	return out, nil
}

// addParallelFlag adds --parallel to cmd (validate, render) and returns where
// its value lands.
func addParallelFlag(cmd *cobra.Command) *int {
	var n int
	cmd.Flags().IntVar(&n, "parallel", 0, "stacks compiled at once (default: one per core, GOMAXPROCS); output is the same for any value")
	return &n
}

// compileAndCheck runs the shared pipeline on up to parallel cores (every
// core when 0); a --crds directory that cannot be read, or a negative
// --parallel, is a usage error (exit 2).
func compileAndCheck(cmd *cobra.Command, c *compiler.Compiler, in compiler.Input, parallel int, crdsDir string) (*compiler.Result, compiler.Diagnostics, error) {
	if parallel < 0 {
		return nil, nil, usageErr(fmt.Errorf("--parallel %d: want 1 or more (0: one per core)", parallel))
	}
	raiseHeap(len(in.Stacks))
	res, diags, err := pipeline.Check(cmd.Context(), c, in, parallel, crdsDir)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("--crds: %w", err))
	}
	return res, diags, nil
}

// compileEachAndCheck is compileAndCheck handing the stacks to emit as they
// are compiled (pipeline.CheckEach) instead of holding them in the result.
func compileEachAndCheck(cmd *cobra.Command, c *compiler.Compiler, in compiler.Input, parallel int, crdsDir string, emit func(*compiler.Stack, bool)) (*compiler.Result, compiler.Diagnostics, error) {
	if parallel < 0 {
		return nil, nil, usageErr(fmt.Errorf("--parallel %d: want 1 or more (0: one per core)", parallel))
	}
	raiseHeap(len(in.Stacks))
	res, diags, err := pipeline.CheckEach(cmd.Context(), c, in, parallel, crdsDir, emit)
	if err != nil {
		return nil, nil, usageErr(fmt.Errorf("--crds: %w", err))
	}
	return res, diags, nil
}

// raiseHeap lets a run over a tree of stacks (validate, render, diff,
// inventory) collect less often (startheap.Raise): from batchStacks stacks
// on, the heap goal is batchHeap.
// A single stack, or a few, keeps plat's start-up setting.
func raiseHeap(stacks int) {
	if stacks >= batchStacks {
		startheap.Raise(batchHeap)
	}
}

const (
	batchStacks = 8
	batchHeap   = 64 << 20
)

// printText prints diagnostics the way a compiler does, with a summary line.
func printText(env *Env, ds compiler.Diagnostics) {
	for _, d := range ds {
		fmt.Fprintln(env.Stderr, d.String())
	}
	if n := ds.Errors(); n > 0 {
		w := len(ds) - n
		msg := fmt.Sprintf("plat: %d %s", n, plural(n, "error"))
		if w > 0 {
			msg += fmt.Sprintf(", %d %s", w, plural(w, "warning"))
		}
		fmt.Fprintln(env.Stderr, msg)
	}
}

func plural(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
