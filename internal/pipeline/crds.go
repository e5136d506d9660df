package pipeline

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/record"
	"github.com/platdev/plat/crd"
)

// Check compiles in on up to workers cores (every core when workers <= 0; see
// compiler.CompileParallel: the outcome does not depend on workers) and, when
// crdsDir is not empty, checks the rendered Crossplane manifests against the
// CRDs in it (see CheckCRDs). The error is CheckCRDs's: a CRD directory that
// cannot be read.
func Check(ctx context.Context, c *compiler.Compiler, in compiler.Input, workers int, crdsDir string) (*compiler.Result, compiler.Diagnostics, error) {
	res, diags := c.CompileParallel(ctx, in, workers)
	crdDiags, err := CheckCRDs(crdsDir, res)
	if err != nil {
		return nil, nil, err
	}
	return res, append(diags, crdDiags...), nil
}

// CheckEach is Check handing the stacks to emit as they are compiled, instead
// of holding them in Result.Stacks (see compiler.CompileEach): each stack that
// compiled without errors, in input order, after its Crossplane manifests were
// checked against the CRDs in crdsDir; clean reports whether no diagnostic so
// far, of the compile or of the CRDs, is an error. The diagnostics are Check's.
func CheckEach(ctx context.Context, c *compiler.Compiler, in compiler.Input, workers int, crdsDir string, emit func(st *compiler.Stack, clean bool)) (*compiler.Result, compiler.Diagnostics, error) {
	var set *crd.Set
	if crdsDir != "" {
		var err error
		if set, err = loadCRDs(crdsDir); err != nil {
			return nil, nil, err
		}
	}
	var crdDiags compiler.Diagnostics
	res, diags := c.CompileEach(ctx, in, workers, func(st *compiler.Stack, clean bool) {
		if set != nil {
			crdDiags = append(crdDiags, checkStacks(set, crdsDir, []*compiler.Stack{st})...)
		}
		emit(st, clean && !crdDiags.HasErrors())
	})
	crdDiags.Sort()
	return res, append(diags, crdDiags...), nil
}

// CheckCRDs checks the Crossplane manifests of res against the CRDs in dir,
// the way the API server would on apply, and returns one error diagnostic per
// violation. It does nothing when dir is empty or res is nil. Decoded CRDs are
// cached under the user's cache directory, for later runs (pre-commit hooks, CI
// with a cache).
func CheckCRDs(dir string, res *compiler.Result) (compiler.Diagnostics, error) {
	if dir == "" || res == nil {
		return nil, nil
	}
	set, err := loadCRDs(dir)
	if err != nil {
		return nil, err
	}
	diags := checkStacks(set, dir, res.Stacks)
	diags.Sort()
	return diags, nil
}

// loadCRDs loads the CRDs in dir through the user's cache.
func loadCRDs(dir string) (*crd.Set, error) {
	var opts []crd.Option
	if cache, err := os.UserCacheDir(); err == nil {
		opts = append(opts, crd.WithCache(filepath.Join(cache, "plat", "crds")))
	}
	return crd.LoadDir(dir, opts...)
}

// checkStacks returns the diagnostics of checking the Crossplane manifests of
// stacks against set (loaded from dir), in file order, unsorted.
func checkStacks(set *crd.Set, dir string, stacks []*compiler.Stack) compiler.Diagnostics {
	var files []crd.File
	var sources []string
	for _, s := range stacks {
		if s.Target != "crossplane" {
			continue
		}
		for _, f := range s.Files {
			if path.Base(f.Path) == record.FileName {
				continue // the render record, no manifest
			}
			files = append(files, crd.File{Path: f.Path, Data: f.Data, Objects: f.Objects})
			sources = append(sources, s.Source)
		}
	}
	var diags compiler.Diagnostics
	for i, errs := range set.CheckFiles(files) {
		f, source := files[i], sources[i]
		resource := strings.TrimSuffix(path.Base(f.Path), path.Ext(f.Path))
		for _, e := range errs {
			line, col := e.Line, e.Column
			e.File, e.Line, e.Column = "", 0, 0 // the diagnostic carries them
			diags = append(diags, compiler.Diagnostic{
				File:     f.Path,
				Line:     line,
				Col:      col,
				Severity: compiler.SeverityError,
				ID:       e.ID(),
				Message:  e.Error(),
				Hint:     fmt.Sprintf("stack %s renders a manifest the CRDs in %s refuse: fix the template in the catalog, or point --crds at the provider version the cluster runs", source, dir),
				Resource: resource,
			})
		}
	}
	return diags
}
