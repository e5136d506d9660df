// Package pipeline is what plat render and plat validate share: finding and
// reading stack files, choosing the catalog, compiling, and checking rendered
// Crossplane manifests against CRDs. The CLI parses flags, wires these
// together and prints; the decisions are made here.
package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/userfile"
)

// LoadCompiler builds a compiler over the shipped catalog, or over the catalog
// in dir when dir is not empty.
func LoadCompiler(dir string) (*compiler.Compiler, error) {
	var fsys fs.FS = catalog.FS
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("catalog: %s is not a directory", dir)
		}
		fsys = userfile.DirFS(dir, userfile.MaxSize)
	}
	return compiler.New(fsys)
}

// DisplayName is how a stack file is named in diagnostics and headers, always
// with slashes: an absolute path inside the working directory relative to it,
// any other path as the user gave it (cleaned), so that it resolves from where
// the user stands.
func DisplayName(path string) string {
	if filepath.IsAbs(path) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(path))
}

// ReadStacks reads stack files, each once, named by DisplayName.
func ReadStacks(paths []string) ([]compiler.Source, error) {
	var srcs []compiler.Source
	seen := map[string]bool{}
	for _, p := range paths {
		name := DisplayName(p)
		if seen[name] {
			continue
		}
		seen[name] = true
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: no such file", name)
			}
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s is a directory; name stack files", name)
		}
		b, err := userfile.ReadFile(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, compiler.Source{Name: name, Data: b})
	}
	return srcs, nil
}

// IsStackFile reports whether a file found in a directory is a stack file.
func IsStackFile(name string) bool {
	return name == "platform.yaml" || name == "platform.yml" || strings.HasSuffix(name, ".platform.yaml")
}

// FindStacks expands directories to the stack files below them (sorted, hidden
// directories skipped); files are taken as they are.
func FindStacks(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: no such file or directory", DisplayName(p))
			}
			return nil, err
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
			if IsStackFile(d.Name()) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
