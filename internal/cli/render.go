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
	"github.com/platdev/plat/internal/outtree"
)

// newRenderCmd builds `plat render`.
func newRenderCmd(env *Env) *cobra.Command {
	var (
		files    []string
		out      string
		check    bool
		format   string
		registry string
		cost     bool
	)
	cmd := &cobra.Command{
		Use:   "render -f STACK... -o DIR",
		Short: "Render stacks to Terraform or Crossplane",
		Long: `Render compiles stack files through the catalog's golden-path templates and
writes each stack to DIR/<stack name>/: a Terraform root module, or Crossplane
manifests. If any stack breaks a guardrail or is invalid, nothing is written.
An existing DIR/<stack name>/ is replaced only if plat generated it (what tofu
init leaves there is kept), and a render is all or nothing, even if killed.
With --check nothing is written either: render reports, as a unified diff, the
files in DIR that differ from a fresh render.
With --cost each stack's monthly estimate is printed after it is rendered, and
appended as Markdown to the job summary ($GITHUB_STEP_SUMMARY) when set.`,
		Example: `  plat render -f platform.yaml -o out
  plat render -f examples/*/platform.yaml -o out
  plat render --check -f platform.yaml -o out`,
	}
	catalogDir := addCatalogFlag(cmd)
	crdsDir := addCRDsFlag(cmd)
	parallel := addParallelFlag(cmd)
	waiverWarning := addWaiverWarningFlag(cmd)
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "stack `FILE` to render (repeatable; further arguments are stack files too)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output `DIR`; each stack goes to DIR/<stack name>/")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 1 with a diff if DIR is not up to date")
	cmd.Flags().StringVar(&format, "format", "hcl", "Terraform syntax: hcl (.tf) or json (.tf.json)")
	cmd.Flags().BoolVar(&cost, "cost", false, "print each stack's monthly cost estimate (docs/cost.md)")
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
		var err error
		if in.WaiverWarning, err = waiverWarning(); err != nil {
			return err
		}
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
		c, err := loadStackCompiler(cmd.Context(), env, *catalogDir, files)
		if err != nil {
			return err
		}
		in.Stacks = srcs
		in.Cost = cost
		if check {
			rc := &renderCheck{out: out}
			_, diags, err := compileEachAndCheck(cmd, c, in, *parallel, *crdsDir, rc.add)
			if err != nil {
				return err
			}
			printText(env, diags)
			if diags.HasErrors() {
				fmt.Fprintln(env.Stderr, "plat: nothing written")
				return exit(ExitFail, nil)
			}
			return rc.finish(env)
		}
		w := &stackWriter{env: env, out: out}
		res, diags, err := compileEachAndCheck(cmd, c, in, *parallel, *crdsDir, w.add)
		if err != nil {
			w.abort()
			return err
		}
		printText(env, diags)
		if diags.HasErrors() {
			w.abort()
			fmt.Fprintln(env.Stderr, "plat: nothing written")
			return exit(ExitFail, nil)
		}
		if err := w.commit(); err != nil {
			return exit(ExitUsage, fmt.Errorf("render: %w", err))
		}
		for _, s := range w.written {
			fmt.Fprintf(env.Stderr, "plat: rendered %s (%s) into %s\n", compiler.HeaderName(s.Source), s.Target, filepath.ToSlash(filepath.Join(out, s.Name)))
		}
		if cost {
			for _, sc := range res.Costs {
				fmt.Fprintf(env.Stderr, "plat: %s is estimated at %s a month\n", sc.Stack, compiler.Money(sc.Monthly))
			}
			if err := appendStepSummary(env, compiler.NewCostReport(srcs, res.Costs)); err != nil {
				return exit(ExitUsage, fmt.Errorf("render: %w", err))
			}
		}
		return nil
	}
	return cmd
}

// stackWriter writes every stack or none (internal/outtree), staging each
// stack's files in out as the compiler hands it over, so that a render holds
// one stack's files at a time: it replaces only stack folders plat generated,
// keeps what tofu init put there, never follows a symlink, and first rolls back
// a render into out that was killed. Out is not touched until a stack has
// compiled cleanly; once any stack fails, what was staged is removed.
type stackWriter struct {
	env     *Env
	out     string
	r       *outtree.Render
	written []*compiler.Stack // without their files
	failed  bool              // a stack has failed: stage nothing more
	err     error             // the first staging error, reported by commit
}

func (w *stackWriter) add(st *compiler.Stack, clean bool) {
	if !clean {
		w.failed = true
		w.abort()
	}
	if w.failed || w.err != nil {
		return
	}
	if w.r == nil {
		if w.r, w.err = outtree.Begin(w.out, w.options()); w.err != nil {
			return
		}
	}
	d := outtree.Dir{Name: st.Name, Files: make([]outtree.File, 0, len(st.Files))}
	for _, f := range st.Files {
		d.Files = append(d.Files, outtree.File{Name: strings.TrimPrefix(f.Path, st.Name+"/"), Data: f.Data})
	}
	if w.err = w.r.Add(d); w.err != nil {
		w.abort()
		return
	}
	w.written = append(w.written, &compiler.Stack{Name: st.Name, Source: st.Source, Target: st.Target})
}

func (w *stackWriter) options() outtree.Options {
	return outtree.Options{
		Generated: compiler.IsGenerated,
		Recovered: func(p string) {
			fmt.Fprintf(w.env.Stderr, "plat: restored %s, which an interrupted render had left half swapped\n", filepath.ToSlash(p))
		},
	}
}

func (w *stackWriter) abort() {
	if w.r != nil {
		w.r.Abort()
		w.r = nil
	}
}

// commit swaps the staged stacks in; with no stack to write it does what
// writing none did before: it creates out and recovers a killed render there.
func (w *stackWriter) commit() error {
	if w.err != nil {
		return w.err
	}
	if w.r == nil {
		if w.r, w.err = outtree.Begin(w.out, w.options()); w.err != nil {
			return w.err
		}
	}
	err := w.r.Commit()
	w.r = nil
	return err
}

// maxCompared bounds how much of a file in the output tree --check reads
// beyond the size of the fresh render: a larger file differs anyway.
const maxCompared = 1 << 20

// renderCheck compares each freshly rendered stack, as the compiler hands it
// over, with the files in out, so that --check holds one stack at a time, and
// keeps only what it will print: the diffs, until finish prints them (if no
// stack has errors). It reads the output tree without following symlinks and
// opens only regular files: the tree may come from a pull request, and a link
// to /proc/self/environ must not put the CI job's environment into the diff.
type renderCheck struct {
	out   string
	diffs bytes.Buffer // what goes to stdout
	stale []string
	err   error // the first I/O error
}

func (rc *renderCheck) report(shown, what string) {
	rc.stale = append(rc.stale, shown+" ("+what+")")
	fmt.Fprintf(&rc.diffs, "%s: %s\n", shown, what)
}

// add compares one stack; it is compileEachAndCheck's emit. A stack handed
// over after an error (clean false) is not compared: nothing will be shown.
func (rc *renderCheck) add(s *compiler.Stack, clean bool) {
	if !clean || rc.err != nil {
		return
	}
	dir := filepath.Join(rc.out, s.Name)
	if fi, err := os.Lstat(dir); err == nil && !fi.IsDir() {
		kind := "a file"
		if fi.Mode()&fs.ModeSymlink != 0 {
			kind = "a symlink"
		} else if !fi.Mode().IsRegular() {
			kind = "a special file"
		}
		rc.report(filepath.ToSlash(dir), "is "+kind+", expected a directory")
		return
	}
	want := map[string][]byte{}
	for _, f := range s.Files {
		want[f.Path] = f.Data
	}
	have := map[string]bool{}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p != dir && outtree.IsKept(d.Name()) && filepath.Dir(p) == dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(rc.out, p)
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
		shown := filepath.ToSlash(filepath.Join(rc.out, p))
		data, ok := want[p]
		if !ok {
			rc.stale = append(rc.stale, shown+" (extra: not rendered any more)")
			fmt.Fprintf(&rc.diffs, "extra file %s\n", shown)
			continue
		}
		got, err := outtree.ReadFile(rc.out, p, int64(len(data))+maxCompared)
		var pe *outtree.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			rc.stale = append(rc.stale, shown+" (missing)")
			fmt.Fprint(&rc.diffs, string(diff.Diff(shown, nil, shown+" (rendered)", data)))
		case errors.As(err, &pe) && errors.Is(err, outtree.ErrTooLarge):
			rc.report(shown, "differs: larger than the rendered file by over 1 MiB")
		case errors.As(err, &pe):
			rc.report(filepath.ToSlash(pe.Path), pe.What())
		case err != nil:
			rc.err = exit(ExitUsage, fmt.Errorf("render --check: %w", err))
			return
		case !bytes.Equal(got, data):
			rc.stale = append(rc.stale, shown+" (differs)")
			fmt.Fprint(&rc.diffs, string(diff.Diff(shown, got, shown+" (rendered)", data)))
		}
	}
}

// finish prints the diffs and the summary: exit 1 if anything is stale.
func (rc *renderCheck) finish(env *Env) error {
	if rc.err != nil {
		return rc.err
	}
	if _, err := env.Stdout.Write(rc.diffs.Bytes()); err != nil {
		return exit(ExitUsage, fmt.Errorf("render --check: %w", err))
	}
	if pending, _ := outtree.Pending(rc.out); len(pending) > 0 {
		fmt.Fprintf(env.Stderr, "plat: %s holds what an interrupted render left (%s); plat render there restores or removes it\n",
			filepath.ToSlash(rc.out), filepath.ToSlash(filepath.Base(pending[0])))
	}
	if len(rc.stale) == 0 {
		fmt.Fprintf(env.Stderr, "plat: %s is up to date\n", filepath.ToSlash(rc.out))
		return nil
	}
	fmt.Fprintf(env.Stderr, "plat: %d %s out of date:\n  %s\nrun plat render without --check to update them\n",
		len(rc.stale), plural(len(rc.stale), "file"), strings.Join(rc.stale, "\n  "))
	return exit(ExitFail, nil)
}
