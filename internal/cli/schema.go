package cli

import (
	"github.com/spf13/cobra"
)

// newSchemaCmd builds `plat schema`.
func newSchemaCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the stack file's JSON Schema",
		Long: `Schema prints the JSON Schema of the stack file, for editors' YAML language
servers (for example a "# yaml-language-server: $schema=stack.json" comment).
It refuses unknown fields and carries every template's parameters with their
allowed values, ranges, defaults and documentation.`,
		Args: cobra.NoArgs,
	}
	catalogDir := addCatalogFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := loadCompiler(*catalogDir)
		if err != nil {
			return err
		}
		b, err := c.JSONSchema()
		if err != nil {
			return usageErr(err)
		}
		_, err = env.Stdout.Write(b)
		return err
	}
	return cmd
}
