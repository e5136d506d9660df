package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/drift"
	"github.com/platdev/plat/internal/userfile"
)

// maxShardReport bounds one shard report read by drift merge: far above the
// report of thousands of drifted stacks, and still a bound.
const maxShardReport = 256 << 20

func newDriftMergeCmd(env *Env) *cobra.Command {
	var (
		format string
		output string
	)
	cmd := &cobra.Command{
		Use:   "merge REPORT...",
		Short: "Merge the JSON reports of a sharded drift pass (exit 0 clean, 2 drift, 1 error)",
		Long: `Merge the JSON reports of the shards of one pass (plat drift check --shard I/N
--format json) into one report, as one unsharded pass would have written it.

It refuses, naming the reports, reports of different passes, a missing or
duplicated shard, mismatched shard counts, shards given different stacks, and a
report that is not a shard report; nothing is written then. A stack that errored
in its shard is an error in the merged report.

Exit status as plat drift check: 0 no drift, 2 drift found, 1 any stack could
not be checked or the reports cannot be merged; usage errors exit 1.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(errors.New("give the shard reports to merge (REPORT...)"))
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := drift.ParseFormat(format)
			if err != nil {
				return usageErr(err)
			}
			reports := make([]drift.NamedReport, 0, len(args))
			var errs []error
			for _, name := range args {
				b, err := userfile.Read(name, maxShardReport)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				r, err := drift.ParseReport(name, b)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				reports = append(reports, drift.NamedReport{Name: name, Report: r})
			}
			if len(errs) > 0 {
				return exit(driftExitError, fmt.Errorf("drift merge: %w", errors.Join(errs...)))
			}
			merged, err := drift.Merge(reports)
			if err != nil {
				return exit(driftExitError, err)
			}
			return writeDriftReport(env, merged, f, output)
		},
	}
	setUsageExit(cmd, driftExitError)
	cmd.Flags().StringVar(&format, "format", "text", "report format: text, json or markdown")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the merged report to FILE (atomically) instead of stdout")
	return cmd
}
