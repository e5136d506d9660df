package cli

import "github.com/spf13/cobra"

// newCatalogCmd is a placeholder until the compile work lands.
func newCatalogCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("catalog", "List and show golden-path templates")
}
