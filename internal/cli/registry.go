package cli

import "github.com/spf13/cobra"

// newRegistryCmd is a placeholder until the registry work lands.
func newRegistryCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("registry", "Serve the module registry and mint tokens")
}
