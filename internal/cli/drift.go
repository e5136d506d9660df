package cli

import "github.com/spf13/cobra"

// newDriftCmd is a placeholder until the drift work lands.
func newDriftCmd(env *Env) *cobra.Command {
	_ = env
	return notImplemented("drift", "Detect drift between declared and live infrastructure")
}
