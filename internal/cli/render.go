package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
)

// newRenderCmd builds `plat render`.
func newRenderCmd(env *Env) *cobra.Command {
	var (
		files    []string
		out      string
		check    bool
		format   string
		registry string
	)
	cmd := &cobra.Command{
		Use:   "render -f STACK... -o DIR",
		Short: "Render stacks to Terraform or Crossplane",
		Long: `Render compiles stack files through the catalog's golden-path templates and
writes each stack to DIR/<stack name>/: a Terraform root module, or Crossplane
manifests. If any stack breaks a guardrail or is invalid, nothing is written.
With --check nothing is written either: render reports, as a unified diff, the
files in DIR that differ from a fresh render.`,
		Example: `  plat render -f platform.yaml -o out
  plat render -f examples/*/platform.yaml -o out
  plat render --check -f platform.yaml -o out`,
	}
	catalogDir := addCatalogFlag(cmd)
	crdsDir := addCRDsFlag(cmd)
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "stack `FILE` to render (repeatable; further arguments are stack files too)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output `DIR`; each stack goes to DIR/<stack name>/")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 with a diff if DIR is not up to date")
	cmd.Flags().StringVar(&format, "format", "hcl", "Terraform syntax: hcl (.tf) or json (.tf.json)")
	cmd.Flags().StringVar(&registry, "registry", "", "module registry `HOST[:PORT]/NAMESPACE` (default: the catalog's)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		files = append(files, args...)
		if len(files) == 0 {
			return usageErr(errors.New("render: no stack files; use -f STACK"))
		}
		if out == "" {
			return usageErr(errors.New("render: no output directory; use -o DIR"))
		}
		in := compiler.Input{}
		switch format {
		case "hcl":
		case "json":
			in.Format = compiler.FormatJSON
		default:
			return usageErr(fmt.Errorf("render: --format %q: want hcl or json", format))
		}
		if registry != "" {
			r, err := compiler.ParseRegistry(registry)
			if err != nil {
				return usageErr(err)
			}
			in.Registry = &r
		}
		srcs, err := readStacks(files)
		if err != nil {
			return err
		}
		c, err := loadCompiler(*catalogDir)
		if err != nil {
			return err
		}
		in.Stacks = srcs
		res, diags, err := compileAndCheck(cmd, c, in, *crdsDir)
		if err != nil {
			return err
		}
		printText(env, diags)
		if diags.HasErrors() {
			fmt.Fprintln(env.Stderr, "plat: nothing written")
			return exit(ExitFail, nil)
		}
		if check {
			return checkRendered(env, res, out)
		}
		if err := writeRendered(res, out); err != nil {
			return exit(ExitUsage, fmt.Errorf("render: %w", err))
		}
		for _, s := range res.Stacks {
			fmt.Fprintf(env.Stderr, "plat: rendered %s (%s) into %s\n", s.Source, s.Target, filepath.ToSlash(filepath.Join(out, s.Name)))
		}
		return nil
	}
	return cmd
}

// writeRendered writes every stack or none: all files are first written into a
// staging directory beside the stack folders, then each stack folder is swapped in
// by rename, so stale files of a previous render disappear too.
func writeRendered(res *compiler.Result, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(out, ".plat-render-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	for _, f := range res.Files() {
		p := filepath.Join(stage, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	for _, s := range res.Stacks {
		dst := filepath.Join(out, s.Name)
		old := filepath.Join(stage, ".old-"+s.Name)
		if _, err := os.Stat(dst); err == nil {
			if err := os.Rename(dst, old); err != nil {
				return err
			}
		}
		if err := os.Rename(filepath.Join(stage, s.Name), dst); err != nil {
			return err
		}
	}
	return nil
}

// checkRendered compares a fresh render with the files in out.
func checkRendered(env *Env, res *compiler.Result, out string) error {
	var stale []string
	for _, s := range res.Stacks {
		want := map[string][]byte{}
		for _, f := range s.Files {
			want[f.Path] = f.Data
		}
		have := map[string]bool{}
		dir := filepath.Join(out, s.Name)
		_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(out, p)
			have[filepath.ToSlash(rel)] = true
			return nil
		})
		paths := make([]string, 0, len(want))
		for p := range want {
			paths = append(paths, p)
		}
		for p := range have {
			if _, ok := want[p]; !ok {
				paths = append(paths, p)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			shown := filepath.ToSlash(filepath.Join(out, p))
			data, ok := want[p]
			if !ok {
				stale = append(stale, shown+" (extra: not rendered any more)")
				fmt.Fprintf(env.Stdout, "extra file %s\n", shown)
				continue
			}
			got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
			if err != nil {
				stale = append(stale, shown+" (missing)")
				fmt.Fprint(env.Stdout, string(diff.Diff(shown, nil, shown+" (rendered)", data)))
				continue
			}
			if !bytes.Equal(got, data) {
				stale = append(stale, shown+" (differs)")
				fmt.Fprint(env.Stdout, string(diff.Diff(shown, got, shown+" (rendered)", data)))
			}
		}
	}
	if len(stale) == 0 {
		fmt.Fprintf(env.Stderr, "plat: %s is up to date\n", filepath.ToSlash(out))
		return nil
	}
	fmt.Fprintf(env.Stderr, "plat: %d %s out of date:\n  %s\nrun plat render without --check to update them\n",
		len(stale), plural(len(stale), "file"), strings.Join(stale, "\n  "))
	return exit(ExitFail, nil)
}
