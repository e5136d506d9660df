package cli

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/crd"
	"github.com/platdev/plat/internal/yamlpos"
)

// addCRDsFlag adds --crds to cmd (validate, render) and returns where its value lands.
func addCRDsFlag(cmd *cobra.Command) *string {
	var dir string
	cmd.Flags().StringVar(&dir, "crds", "", "check rendered Crossplane manifests offline against the CRD files in `DIR` (e.g. a provider package's package/crds)")
	return &dir
}

// validateCRDs checks the Crossplane manifests of res against the CRDs in dir,
// the way the API server would on apply, and returns one error diagnostic per
// violation. It does nothing when dir is empty. A dir that cannot be read is a
// usage error.
func validateCRDs(dir string, res *compiler.Result) (compiler.Diagnostics, error) {
	if dir == "" || res == nil {
		return nil, nil
	}
	var opts []crd.Option
	if cache, err := os.UserCacheDir(); err == nil {
		// Decoded CRDs are reused by later runs (pre-commit hooks, CI with a cache).
		opts = append(opts, crd.WithCache(filepath.Join(cache, "plat", "crds")))
	}
	set, err := crd.LoadDir(dir, opts...)
	if err != nil {
		return nil, usageErr(fmt.Errorf("--crds: %w", err))
	}
	var objs []map[string]any
	for _, s := range res.Stacks {
		if s.Target == "crossplane" {
			for _, f := range s.Files {
				objs = append(objs, f.Objects...)
			}
		}
	}
	set.Prepare(objs) // loads the kinds used, in parallel
	var diags compiler.Diagnostics
	for _, s := range res.Stacks {
		if s.Target != "crossplane" {
			continue
		}
		for _, f := range s.Files {
			var errs []crd.Error
			for _, obj := range f.Objects {
				errs = append(errs, set.Validate(obj)...)
			}
			if len(errs) == 0 {
				continue
			}
			// Positions cost a second parse; only files with errors pay it.
			locate(f, errs)
			resource := strings.TrimSuffix(path.Base(f.Path), path.Ext(f.Path))
			for _, e := range errs {
				line, col := e.Line, e.Column
				e.File, e.Line, e.Column = "", 0, 0 // the diagnostic carries them
				diags = append(diags, compiler.Diagnostic{
					File:     f.Path,
					Line:     line,
					Col:      col,
					Severity: compiler.SeverityError,
					ID:       crdID(e.Type),
					Message:  e.Error(),
					Hint:     fmt.Sprintf("stack %s renders a manifest the CRDs in %s refuse: fix the template in the catalog, or point --crds at the provider version the cluster runs", s.Source, dir),
					Resource: resource,
				})
			}
		}
	}
	diags.Sort()
	return diags, nil
}

// locate fills in the file and position of errs from the rendered YAML of f.
func locate(f compiler.File, errs []crd.Error) {
	ms, _ := yamlpos.Parse(f.Path, f.Data)
	for i := range errs {
		errs[i].File = f.Path
		for _, m := range ms {
			if md, ok := m.Object["metadata"].(map[string]any); ok && md["name"] == errs[i].Name && m.Object["kind"] == errs[i].Kind {
				errs[i].Line, errs[i].Column = m.Position(errs[i].Field)
				break
			}
		}
	}
}

// crdID maps a CRD validation error type to a stable diagnostic id.
func crdID(typ string) string {
	switch typ {
	case crd.TypeUnknownField:
		return "crd.unknown-field"
	case crd.TypeNoSchema:
		return "crd.no-schema"
	case "FieldValueRequired":
		return "crd.required"
	case "FieldValueTypeInvalid":
		return "crd.type"
	case "FieldValueNotSupported":
		return "crd.unsupported-value"
	}
	return "crd.invalid"
}
