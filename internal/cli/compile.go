package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
)

// addCatalogFlag adds --catalog to cmd and returns where its value lands.
func addCatalogFlag(cmd *cobra.Command) *string {
	var dir string
	cmd.Flags().StringVar(&dir, "catalog", "", "use the catalog in `DIR` (platform.cue and TEMPLATE/template.cue) instead of the shipped one")
	return &dir
}

// loadCompiler builds a compiler over the shipped catalog, or over dir.
func loadCompiler(dir string) (*compiler.Compiler, error) {
	var fsys fs.FS = catalog.FS
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, usageErr(fmt.Errorf("catalog: %w", err))
		}
		if !st.IsDir() {
			return nil, usageErr(fmt.Errorf("catalog: %s is not a directory", dir))
		}
		fsys = os.DirFS(dir)
	}
	c, err := compiler.New(fsys)
	if err != nil {
		return nil, usageErr(err)
	}
	return c, nil
}

// displayName is how a stack file is named in diagnostics and headers, always
// with slashes: an absolute path inside the working directory relative to it,
// any other path as the user gave it (cleaned), so that it resolves from where
// the user stands.
func displayName(path string) string {
	if filepath.IsAbs(path) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(path))
}

// readStacks reads stack files; any I/O problem is a usage error (exit 2).
func readStacks(paths []string) ([]compiler.Source, error) {
	var srcs []compiler.Source
	seen := map[string]bool{}
	for _, p := range paths {
		name := displayName(p)
		if seen[name] {
			continue
		}
		seen[name] = true
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, usageErr(fmt.Errorf("%s: no such file", name))
			}
			return nil, usageErr(err)
		}
		if st.IsDir() {
			return nil, usageErr(fmt.Errorf("%s is a directory; name stack files", name))
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, usageErr(err)
		}
		srcs = append(srcs, compiler.Source{Name: name, Data: b})
	}
	return srcs, nil
}

// isStackFile reports whether a file found in a directory is a stack file.
func isStackFile(name string) bool {
	return name == "platform.yaml" || name == "platform.yml" || strings.HasSuffix(name, ".platform.yaml")
}

// findStacks expands directories to the stack files below them (sorted, hidden
// directories skipped); files are taken as they are.
func findStacks(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, usageErr(fmt.Errorf("%s: no such file or directory", displayName(p)))
			}
			return nil, usageErr(err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "vendor") {
					return filepath.SkipDir
				}
				return nil
			}
			if isStackFile(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, usageErr(err)
		}
	}
	return out, nil
}

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
