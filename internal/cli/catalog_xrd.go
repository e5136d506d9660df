package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/compiler/xrd"
)

// newCatalogXRDCmd builds `plat catalog xrd NAME`.
func newCatalogXRDCmd(env *Env) *cobra.Command {
	var opts xrd.Options
	var output string
	cmd := &cobra.Command{
		Use:   "xrd NAME",
		Short: "Print a template as a Crossplane v2 CompositeResourceDefinition",
		Long: `Print the Crossplane v2 CompositeResourceDefinition (namespaced) that offers a
template as a self-service API. Its schema comes from the template's parameters
(types, enums, ranges, defaults, docs); guardrails that depend only on the
request become CEL rules the API server enforces. Guardrails it cannot carry
are listed in the header.`,
		Example: `  plat catalog xrd postgres | kubectl apply -f -
  plat catalog xrd bucket --group platform.example.com -o bucket-xrd.yaml`,
		Args: cobra.ExactArgs(1),
	}
	catalogDir := addCatalogFlag(cmd)
	cmd.Flags().StringVar(&opts.Group, "group", xrd.DefaultGroup, "API `GROUP` of the composite resources")
	cmd.Flags().StringVar(&opts.Version, "version", xrd.DefaultVersion, "API `VERSION` of the composite resources")
	cmd.Flags().StringVar(&opts.Kind, "kind", "", "composite resource `KIND` (default: the template name in CamelCase)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to `FILE` instead of stdout")
	cmd.RunE = func(_ *cobra.Command, args []string) error {
		name := args[0]
		c, err := loadCompiler(*catalogDir)
		if err != nil {
			return err
		}
		// The compiler checks the template meets the contract and names it.
		if _, err := c.Template(name); errors.Is(err, compiler.ErrUnknownTemplate) {
			names, _ := c.TemplateNames()
			return usageErr(fmt.Errorf("catalog xrd: unknown template %q; templates: %s", name, strings.Join(names, ", ")))
		} else if err != nil {
			return usageErr(err)
		}
		res, err := c.XRD(name, opts)
		if err != nil {
			return exit(ExitFail, fmt.Errorf("catalog xrd: %w", err))
		}
		b, err := res.YAML()
		if err != nil {
			return exit(ExitFail, fmt.Errorf("catalog xrd: %w", err))
		}
		if output != "" {
			if err := os.WriteFile(output, b, 0o644); err != nil {
				return usageErr(fmt.Errorf("catalog xrd: %w", err))
			}
			return nil
		}
		_, err = env.Stdout.Write(b)
		return err
	}
	return cmd
}
