package cli

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
)

// newCatalogCmd builds `plat catalog` and its subcommands.
func newCatalogCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List and show golden-path templates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the catalog's templates",
		Args:  cobra.NoArgs,
	}
	listCatalog := addCatalogFlag(list)
	list.RunE = func(*cobra.Command, []string) error {
		c, err := loadCompiler(*listCatalog)
		if err != nil {
			return err
		}
		names, err := c.TemplateNames()
		if err != nil {
			return usageErr(err)
		}
		tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TEMPLATE\tMODULE\tDESCRIPTION")
		for _, n := range names {
			t, err := c.Template(n)
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(tw, "%s\t%s/%s %s\t%s\n", t.Name, t.Module, t.System, t.Version, t.Description)
		}
		return tw.Flush()
	}
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a template's parameters, defaults and guardrails",
		Args:  cobra.ExactArgs(1),
	}
	showCatalog := addCatalogFlag(show)
	show.RunE = func(_ *cobra.Command, args []string) error {
		c, err := loadCompiler(*showCatalog)
		if err != nil {
			return err
		}
		t, err := c.Template(args[0])
		if errors.Is(err, compiler.ErrUnknownTemplate) {
			names, _ := c.TemplateNames()
			return usageErr(fmt.Errorf("catalog show: unknown template %q; templates: %s", args[0], strings.Join(names, ", ")))
		}
		if err != nil {
			return usageErr(err)
		}
		printTemplate(env, c, t)
		return nil
	}
	cmd.AddCommand(list, show, newCatalogXRDCmd(env), newCatalogPublishCmd(env), newCatalogPinCmd(env), newCatalogBackstageCmd(env),
		newLifecycleCmd(env, "deprecate", false), newLifecycleCmd(env, "yank", false))
	return cmd
}

func printTemplate(env *Env, c *compiler.Compiler, t *compiler.Template) {
	w := env.Stdout
	p := c.Platform()
	fmt.Fprintf(w, "%s: %s\n", t.Name, t.Description)
	fmt.Fprintf(w, "module: %s/%s/%s/%s version %s\n", p.Registry.Host, p.Registry.Namespace, t.Module, t.System, t.Version)
	fmt.Fprintf(w, "targets: terraform, crossplane\n\nParameters (under with:):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tTYPE\tDEFAULT\tDESCRIPTION")
	for _, f := range t.Parameters.Fields {
		def := "-"
		if f.Shape.HasDefault {
			def = literal(f.Shape.Default)
		} else if !f.Required {
			def = "(depends on the stack)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Name, f.Shape.TypeName(), def, f.Shape.Doc)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nGuardrails:\n")
	for _, g := range append(append([]compiler.Guardrail{}, t.Guardrails...), c.OrgGuardrails()...) {
		waiver := "waivable"
		if !g.Waivable {
			waiver = "not waivable"
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n      %s\n      hint: %s\n", g.ID, g.Severity, waiver, g.Message, g.Hint)
	}
	fmt.Fprintf(w, "\nOutputs (terraform): %s\n", strings.Join(t.Outputs, ", "))
}

func literal(x any) string {
	switch x := x.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(x)
}
