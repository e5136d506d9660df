package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/registry/client"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/provider"
)

// newProviderCmd builds `plat provider` (publish).
func newProviderCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider",
		Short: "Publish providers to the registry's network mirror",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr(errors.New("provider: missing subcommand (publish)"))
		},
	}
	cmd.AddCommand(newProviderPublishCmd(env))
	return cmd
}

func newProviderPublishCmd(env *Env) *cobra.Command {
	var regURL, ns string
	cmd := &cobra.Command{
		Use:   "publish DIR",
		Short: "Upload the providers of a mirror directory as new, immutable versions",
		Long: `Read the providers under DIR, check every archive as the registry will, and
upload each provider version to a plat registry's network mirror, owned by
registry namespace NS. DIR is the packed layout tofu providers mirror writes
(HOST/NAMESPACE/TYPE/ with index.json, VERSION.json and the zips) or a
filesystem mirror (HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/ with the unpacked
provider, zipped here deterministically). An archive that does not match the
zh: or h1: hashes its VERSION.json declares is refused. The token (publish
scope of NS) comes from PLAT_TOKEN, or TF_TOKEN_<host>.

Exit codes: 0 all published, 1 refused (invalid package, version exists,
provider owned by another namespace, not authorized), 2 usage error, unreadable
DIR or registry unreachable.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("provider publish: want exactly one mirror directory, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProviderPublish(cmd.Context(), env, args[0], regURL, ns)
		},
	}
	f := cmd.Flags()
	f.StringVar(&regURL, "registry", "", "registry URL, e.g. https://registry.example.com (required)")
	f.StringVar(&ns, "namespace", "", "registry namespace that owns the providers (required)")
	return cmd
}

func runProviderPublish(ctx context.Context, env *Env, dir, regURL, ns string) error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"--registry", regURL}, {"--namespace", ns}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usageErr(fmt.Errorf("provider publish: missing %s", strings.Join(missing, ", ")))
	}
	if !module.ValidName(ns) {
		return usageErr(fmt.Errorf("provider publish: --namespace %q: want letters, digits, '-' or '_'", ns))
	}
	u, err := url.Parse(regURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr(fmt.Errorf("provider publish: --registry %q: want http(s)://HOST[:PORT]", regURL))
	}
	if fi, err := os.Stat(dir); err != nil {
		return usageErr(fmt.Errorf("provider publish: %w", err))
	} else if !fi.IsDir() {
		return usageErr(fmt.Errorf("provider publish: %s is not a directory", dir))
	}
	pkgs, err := provider.ReadLayout(dir, provider.DefaultLimits)
	if err != nil {
		if errors.Is(err, provider.ErrInvalid) || errors.Is(err, provider.ErrTooLarge) {
			return exit(ExitFail, fmt.Errorf("provider publish: %w", err))
		}
		return usageErr(fmt.Errorf("provider publish: %w", err))
	}
	c, err := tokenClient(env, regURL, u.Hostname())
	if err != nil {
		return usageErr(fmt.Errorf("provider publish: %w", err))
	}
	for _, p := range pkgs {
		err := c.PublishProvider(ctx, ns, p)
		plats := make([]string, len(p.Archives))
		for i, a := range p.Archives {
			plats[i] = a.Platform
		}
		var se *client.StatusError
		switch {
		case err == nil:
			fmt.Fprintf(env.Stdout, "published %s %s (%s)\n", p.Addr, p.Version, strings.Join(plats, ", "))
		case errors.As(err, &se) && se.Status == http.StatusNotFound:
			return usageErr(fmt.Errorf("provider publish: %s does not look like a plat registry with a provider mirror: %v", regURL, se))
		case errors.As(err, &se):
			return exit(ExitFail, fmt.Errorf("provider publish: %s %s refused: %v", p.Addr, p.Version, se))
		default:
			return usageErr(fmt.Errorf("provider publish: %v", err))
		}
	}
	return nil
}
