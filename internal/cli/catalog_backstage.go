package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/atomicfile"
	"github.com/platdev/plat/internal/backstage"
	"github.com/platdev/plat/internal/backstage/compiled"
	"github.com/platdev/plat/internal/pipeline"
)

// newCatalogBackstageCmd builds `plat catalog backstage`.
func newCatalogBackstageCmd(env *Env) *cobra.Command {
	var out, registry string
	cmd := &cobra.Command{
		Use:   "backstage [PATH...]",
		Short: "Write Backstage catalog entities (catalog-info.yaml) for stacks and golden paths",
		Long: `Backstage compiles the stack files under the PATHs (stack files or directories,
as plat validate takes them; default: the current directory) and writes
Backstage catalog entities as multi-document YAML: a System per stack, a
Resource per resource (owner group:<team>, system the stack, type the
template, annotations naming the stack file and the module), and an API per
golden-path template of the catalog the stacks compile with. Links point at
the registry's web UI under https://<registry host> (--registry overrides the
catalog's registry, as for render). docs/backstage.md describes every field.

Stacks that do not compile get the diagnostics plat validate prints, and
nothing is written. Exit status: 0 written, 1 errors, 2 usage or I/O.`,
		Example: `  plat catalog backstage -o catalog-info.yaml stacks
  plat catalog backstage --registry registry.example.com/platform examples`,
	}
	catalogDir := addCatalogFlag(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to `FILE` instead of stdout (replaced whole, or left untouched on error)")
	cmd.Flags().StringVar(&registry, "registry", "", "module registry `HOST[:PORT]/NAMESPACE` (default: the catalog's), also the base of links")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var reg *compiler.Registry
		if registry != "" {
			r, err := compiler.ParseRegistry(registry)
			if err != nil {
				return usageErr(fmt.Errorf("catalog backstage: %w", err))
			}
			reg = &r
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
		c, err := loadStackCompiler(cmd.Context(), env, *catalogDir, paths)
		if err != nil {
			return err
		}
		cat, err := catalogID(*catalogDir, paths)
		if err != nil {
			return err
		}
		var stacks []backstage.Stack
		if len(srcs) > 0 {
			res, diags, err := compileAndCheck(cmd, c, compiler.Input{Stacks: srcs, Registry: reg}, 0, "")
			if err != nil {
				return err
			}
			printText(env, diags)
			if diags.HasErrors() {
				fmt.Fprintln(env.Stderr, "plat: nothing written")
				return exit(ExitFail, nil)
			}
			if stacks, err = compiled.Stacks(res, c, reg, cat); err != nil {
				return exit(ExitUsage, fmt.Errorf("catalog backstage: %w", err))
			}
		} else {
			fmt.Fprintln(env.Stderr, "plat: no stack files found; writing the catalog's golden paths only")
		}
		paths2, err := compiled.GoldenPaths(c, cat, "")
		if err != nil {
			return exit(ExitUsage, fmt.Errorf("catalog backstage: %w", err))
		}
		host := c.Platform().Registry.Host
		if reg != nil {
			host = reg.Host
		}
		var buf bytes.Buffer
		if err := backstage.Encode(&buf, backstage.Entities(stacks, paths2, backstage.Options{BaseURL: "https://" + host})); err != nil {
			return exit(ExitUsage, fmt.Errorf("catalog backstage: %w", err))
		}
		if out == "" {
			_, err = env.Stdout.Write(buf.Bytes())
		} else {
			err = atomicfile.WriteFile(out, buf.Bytes(), 0o644)
		}
		if err != nil {
			return exit(ExitUsage, fmt.Errorf("catalog backstage: %w", err))
		}
		if out != "" {
			fmt.Fprintf(env.Stderr, "plat: wrote the Backstage entities of %d %s to %s\n", len(stacks), plural(len(stacks), "stack"), out)
		}
		return nil
	}
	return cmd
}

// catalogID names the catalog loadStackCompiler chose for the stacks.
func catalogID(dir string, stacks []string) (backstage.CatalogID, error) {
	if dir != "" {
		return backstage.CatalogID{Kind: backstage.CatalogDir}, nil
	}
	if len(stacks) == 0 {
		return backstage.CatalogID{Kind: backstage.CatalogEmbedded}, nil
	}
	pin, _, err := pipeline.ResolvePin(stacks)
	if err != nil {
		return backstage.CatalogID{}, usageErr(err)
	}
	if pin == nil {
		return backstage.CatalogID{Kind: backstage.CatalogEmbedded}, nil
	}
	if pin.Namespace == "" || pin.Name == "" {
		return backstage.CatalogID{}, usageErr(errors.New("catalog backstage: the catalog pin names no namespace or name"))
	}
	return backstage.CatalogID{Kind: backstage.CatalogPin, Namespace: pin.Namespace, Name: pin.Name, Version: pin.Version}, nil
}

// registryGoldenPaths is the registry's description of a catalog's
// templates for its Backstage entities: fsys nil is the embedded catalog.
func registryGoldenPaths(_ context.Context, fsys fs.FS) ([]backstage.GoldenPath, error) {
	var c *compiler.Compiler
	var err error
	if fsys == nil {
		c, err = pipeline.LoadCompiler("")
	} else {
		c, err = compiler.New(fsys)
	}
	if err != nil {
		return nil, err
	}
	return compiled.GoldenPaths(c, backstage.CatalogID{}, "")
}
