package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/client"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/tfdoc"
)

// newModuleCmd builds `plat module` (publish).
func newModuleCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "module",
		Short: "Publish module versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr(errors.New("module: missing subcommand (publish, deprecate, yank)"))
		},
	}
	cmd.AddCommand(newModulePublishCmd(env), newLifecycleCmd(env, "deprecate", true), newLifecycleCmd(env, "yank", true))
	return cmd
}

func newModulePublishCmd(env *Env) *cobra.Command {
	var regURL string
	var k store.Key
	cmd := &cobra.Command{
		Use:   "publish DIR",
		Short: "Pack a module directory and upload it as a new, immutable version",
		Long: `Pack DIR (sorted, without timestamps or owners), check it as the registry will,
and upload it to a plat registry. The token comes from PLAT_TOKEN, or TF_TOKEN_<host>
as tofu and terraform use it.

Left out, and listed on stderr: .git/, .terraform/, .terraform.d/, *.tfstate*,
tfplan, *.tfplan, *.tfvars, *.tfvars.json, .env, .env.*, .envrc, crash.log,
crash.*.log, .terraformrc, terraform.rc, credentials.tfrc.json, and whatever
DIR/.terraformignore matches (gitignore syntax; "!name" brings a file back).

Exit codes: 0 published, 1 refused (invalid module, or by the registry: version
exists, invalid archive, not authorized), 2 usage error, packing error or registry
unreachable.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("module publish: want exactly one module directory, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPublish(cmd.Context(), env, args[0], regURL, k)
		},
	}
	f := cmd.Flags()
	f.StringVar(&regURL, "registry", "", "registry URL, e.g. https://registry.example.com (required)")
	f.StringVar(&k.Namespace, "namespace", "", "namespace (required)")
	f.StringVar(&k.Name, "name", "", "module name (required)")
	f.StringVar(&k.System, "system", "", "target system, e.g. aws (required)")
	f.StringVar(&k.Version, "version", "", "semantic version X.Y.Z (required)")
	return cmd
}

func runPublish(ctx context.Context, env *Env, dir, regURL string, k store.Key) error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"--registry", regURL}, {"--namespace", k.Namespace}, {"--name", k.Name}, {"--system", k.System}, {"--version", k.Version}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usageErr(fmt.Errorf("module publish: missing %s", strings.Join(missing, ", ")))
	}
	if err := module.CheckKey(k); err != nil {
		var invalid *module.InvalidError
		if errors.As(err, &invalid) {
			return usageErr(fmt.Errorf("module publish: %s", invalid.Detail))
		}
		return usageErr(fmt.Errorf("module publish: %w", err))
	}
	u, err := url.Parse(regURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr(fmt.Errorf("module publish: --registry %q: want http(s)://HOST[:PORT]", regURL))
	}
	if fi, err := os.Stat(dir); err != nil {
		return usageErr(fmt.Errorf("module publish: %w", err))
	} else if !fi.IsDir() {
		return usageErr(fmt.Errorf("module publish: %s is not a directory", dir))
	}
	packed, err := archive.PackModule(dir)
	if errors.Is(err, archive.ErrTooLarge) {
		return exit(ExitFail, fmt.Errorf("module publish: %s: %w", dir, err)) // refused, as Validate would
	}
	if err != nil {
		return usageErr(fmt.Errorf("module publish: pack %s: %w", dir, err))
	}
	if len(packed.Excluded) > 0 {
		fmt.Fprintf(env.Stderr, "plat: module publish: left out %s\n", strings.Join(packed.Excluded, ", "))
	}
	data, err := checkModule(dir, packed.Archive)
	if err != nil {
		return exit(ExitFail, err)
	}
	c, err := tokenClient(env, regURL, u.Hostname())
	if err != nil {
		return usageErr(fmt.Errorf("module publish: %w", err))
	}
	err = c.Publish(ctx, k, data)
	var se *client.StatusError
	switch {
	case err == nil:
		fmt.Fprintf(env.Stdout, "published %s/%s/%s %s (%d bytes)\n", k.Namespace, k.Name, k.System, k.Version, len(data))
		return nil
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		return usageErr(fmt.Errorf("module publish: %s does not look like a plat registry: %v", regURL, se))
	case errors.As(err, &se):
		return exit(ExitFail, fmt.Errorf("module publish: %s/%s/%s %s refused: %v", k.Namespace, k.Name, k.System, k.Version, se))
	default:
		return usageErr(fmt.Errorf("module publish: %v", err))
	}
}

// checkModule runs the registry's own checks on a packed module, so an invalid
// one is refused before anything is sent, with every problem at once.
func checkModule(dir string, data []byte) ([]byte, error) {
	c, err := archive.Validate(data, archive.DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("module publish: %s: %w", dir, err)
	}
	if _, diags := tfdoc.Parse(c.Root); diags.HasErrors() {
		msgs := make([]string, 0, len(diags))
		for _, e := range diags.Errs() {
			if d, ok := e.(*hcl.Diagnostic); ok && d.Subject != nil {
				d.Subject.Filename = filepath.Join(dir, d.Subject.Filename)
			}
			msgs = append(msgs, e.Error())
		}
		return nil, fmt.Errorf("module publish: %s is not a valid module:\n%s", dir, strings.Join(msgs, "\n"))
	}
	return c.Archive, nil
}

// tfTokenVar is the environment variable tofu and terraform read a host's token
// from: TF_TOKEN_ plus the host with '.' as '_' and '-' as '__'.
func tfTokenVar(host string) string {
	return "TF_TOKEN_" + strings.NewReplacer(".", "_", "-", "__").Replace(host)
}
