package cli

import "github.com/spf13/cobra"

// newRenderCmd is a placeholder until the compile work lands.
func newRenderCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("render", "Render a stack to Terraform or Crossplane")
}
