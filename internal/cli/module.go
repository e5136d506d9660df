package cli

import "github.com/spf13/cobra"

// newModuleCmd is a placeholder until the registry work lands.
func newModuleCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("module", "Publish module versions")
}
