package cli

import "github.com/spf13/cobra"

// newSchemaCmd is a placeholder until the compile work lands.
func newSchemaCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("schema", "Print the stack file's JSON Schema")
}
