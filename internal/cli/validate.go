package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
)

// newValidateCmd builds `plat validate`.
func newValidateCmd(env *Env) *cobra.Command {
	var (
		format string
		cost   bool
	)
	cmd := &cobra.Command{
		Use:   "validate [PATH...]",
		Short: "Check stack files without writing anything",
		Long: `Validate runs every check render runs and writes nothing. Each PATH is a stack
file or a directory searched for stack files (platform.yaml, platform.yml and
*.platform.yaml); without PATH the current directory is searched.

Formats: text (diagnostics on stderr), json, sarif (SARIF 2.1.0 for code
scanning) and github (workflow annotations); the last three go to stdout.
With --cost the monthly estimate of each stack (docs/cost.md) is added: as
text on stdout, as the member cost of the JSON document, and with github as a
Markdown table appended to the job summary ($GITHUB_STEP_SUMMARY).
Exit status: 0 clean (warnings allowed), 1 errors, 2 usage.`,
	}
	catalogDir := addCatalogFlag(cmd)
	crdsDir := addCRDsFlag(cmd)
	parallel := addParallelFlag(cmd)
	waiverWarning := addWaiverWarningFlag(cmd)
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, sarif or github")
	cmd.Flags().BoolVar(&cost, "cost", false, "add each stack's monthly cost estimate to the output")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		switch format {
		case "text", "json", "sarif", "github":
		default:
			return usageErr(fmt.Errorf("validate: --format %q: want text, json, sarif or github", format))
		}
		warn, err := waiverWarning()
		if err != nil {
			return err
		}
		if len(args) == 0 {
			args = []string{"."}
		}
		paths, err := findStacks(args)
		if err != nil {
			return err
		}
		srcs, err := readStacks(paths)
		if err != nil {
			return err
		}
		c, err := loadStackCompiler(cmd.Context(), env, *catalogDir, paths)
		if err != nil {
			return err
		}
		var diags compiler.Diagnostics
		var report *compiler.CostReport
		if len(srcs) > 0 {
			var res *compiler.Result
			if res, diags, err = compileAndCheck(cmd, c, compiler.Input{Stacks: srcs, Validate: true, Cost: cost, WaiverWarning: warn}, *parallel, *crdsDir); err != nil {
				return err
			}
			if cost {
				report = compiler.NewCostReport(srcs, res.Costs)
			}
		}
		switch format {
		case "text":
			printText(env, diags)
			if len(srcs) == 0 {
				fmt.Fprintln(env.Stderr, "plat: no stack files found")
			}
			if report != nil {
				report.WriteText(env.Stdout)
			}
		case "json":
			err = compiler.WriteJSONCost(env.Stdout, srcs, diags, report)
		case "sarif":
			err = compiler.WriteSARIF(env.Stdout, c, diags)
		case "github":
			compiler.WriteGitHub(env.Stdout, diags)
			if report != nil {
				err = appendStepSummary(env, report)
			}
		}
		if err != nil {
			return exit(ExitUsage, err)
		}
		if diags.HasErrors() {
			return exit(ExitFail, nil)
		}
		return nil
	}
	return cmd
}
