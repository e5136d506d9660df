package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/registry/module"
)

// newLifecycleCmd builds `plat module deprecate|yank` (module true) or
// `plat catalog deprecate|yank`.
func newLifecycleCmd(env *Env, kind string, isModule bool) *cobra.Command {
	var regURL, reason string
	var undo bool
	subject, ref := "catalog", "NS/NAME"
	if isModule {
		subject, ref = "module", "NS/NAME/SYSTEM"
	}
	what := map[string]string{
		"deprecate": "Mark a version deprecated (it is still listed and downloads; renders through a catalog that uses it warn)",
		"yank":      "Yank a version (it leaves the versions list, so no constraint picks it; exact pins still download)",
	}[kind]
	cmd := &cobra.Command{
		Use:   kind + " " + ref + " VERSION --registry URL [--reason R] [--undo]",
		Short: what,
		Long: what + `.
Needs a publish token of the namespace (PLAT_TOKEN, or TF_TOKEN_<host>); --undo
reverses it. Exit codes: 0 done, 1 refused by the registry (no such version, not
authorized), 2 usage error or registry unreachable.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr(fmt.Errorf("%s %s: want %s VERSION, got %d arguments", subject, kind, ref, len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			parts := strings.Split(args[0], "/")
			want := 2
			if isModule {
				want = 3
			}
			if len(parts) != want {
				return usageErr(fmt.Errorf("%s %s: %q: want %s", subject, kind, args[0], ref))
			}
			for _, p := range parts {
				if !module.ValidName(p) {
					return usageErr(fmt.Errorf("%s %s: %q is not a valid name", subject, kind, p))
				}
			}
			version := args[1]
			if !module.ValidVersion(version) {
				return usageErr(fmt.Errorf("%s %s: %q is not a semantic version X.Y.Z", subject, kind, version))
			}
			if regURL == "" {
				return usageErr(fmt.Errorf("%s %s: --registry is required", subject, kind))
			}
			c, err := registryClient(env, regURL)
			if err != nil {
				return usageErr(fmt.Errorf("%s %s: %w", subject, kind, err))
			}
			if isModule {
				err = c.MarkModule(cmd.Context(), parts[0], parts[1], parts[2], version, kind, reason, undo)
			} else {
				err = c.MarkCatalog(cmd.Context(), parts[0], parts[1], version, kind, reason, undo)
			}
			if err := registryErr(subject+" "+kind, args[0]+" "+version, err); err != nil {
				return err
			}
			done := map[string]string{"deprecate": "deprecated", "yank": "yanked"}[kind]
			if undo {
				done = "no longer " + done
			}
			fmt.Fprintf(env.Stdout, "%s %s %s is %s\n", subject, args[0], version, done)
			return nil
		},
	}
	cmd.Flags().StringVar(&regURL, "registry", "", "registry URL, e.g. https://registry.example.com (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown to those who use the version")
	cmd.Flags().BoolVar(&undo, "undo", false, "reverse an earlier "+kind)
	return cmd
}
