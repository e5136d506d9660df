package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
)

// addWaiverWarningFlag adds --waiver-warning to cmd (validate, render) and
// returns a func that parses its value; a bad value is a usage error.
func addWaiverWarningFlag(cmd *cobra.Command) func() (time.Duration, error) {
	var s string
	cmd.Flags().StringVar(&s, "waiver-warning", "14d", "warn about waivers that run out within `D` (a duration such as 336h, or days such as 14d; 0: never)")
	return func() (time.Duration, error) {
		d, err := compiler.ParseWaiverWarning(s)
		if err != nil {
			return 0, usageErr(err)
		}
		return d, nil
	}
}
