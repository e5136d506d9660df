package cli

import "github.com/spf13/cobra"

// newValidateCmd is a placeholder until the compile work lands.
func newValidateCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("validate", "Check stack files without writing anything")
}
