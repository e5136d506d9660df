package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/inventory"
	"github.com/platdev/plat/registry/client"
)

// newInventoryCmd builds `plat inventory`.
func newInventoryCmd(env *Env) *cobra.Command {
	var (
		format, out, regURL, repo, renderReg, today string
		push, withDiff                              bool
	)
	cmd := &cobra.Command{
		Use:   "inventory [PATH...]",
		Short: "List every stack: owner, catalog and module versions, waivers, output state",
		Long: `Inventory finds every stack file under the PATHs (default: the current
directory) and reports, per stack: team, environment, cost centre, the catalog
it compiles with, each resource's template and the module version it pins,
every waiver with its owner and days to expiry, and whether its rendered
output (OUT/<stack name>/, as plat render -o OUT writes it) is up to date
with a fresh render, stale, or not rendered.

With --push the inventory is sent to a plat registry (a publish token in
PLAT_TOKEN), which then answers which stacks use each module and catalog
version (docs/inventory.md). Exit status: 0, or 2 for usage and I/O errors
(a stack that does not compile is listed with its errors).`,
		Example: `  plat inventory
  plat inventory --format csv stacks > inventory.csv
  plat inventory --push --registry https://registry.example.com stacks`,
	}
	catalogDir := addCatalogFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&format, "format", "text", "output format: text, json, csv or markdown")
	f.StringVar(&out, "out", "rendered", "output `DIR` holding the rendered stacks, as plat render -o DIR")
	f.StringVar(&renderReg, "render-registry", "", "module registry `HOST[:PORT]/NAMESPACE` the output was rendered with (render --registry)")
	f.BoolVar(&withDiff, "diff", false, "add a unified diff of each stale output file (json)")
	f.StringVar(&today, "today", "", "count waiver expiry from this `YYYY-MM-DD` (default: today, UTC)")
	f.BoolVar(&push, "push", false, "send the inventory to the registry given by --registry")
	f.StringVar(&regURL, "registry", "", "registry `URL` to push to, e.g. https://registry.example.com")
	f.StringVar(&repo, "repository", "", "repository `KEY` a push replaces (default: git's remote.origin.url, else the directory's name)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !slices.Contains(inventory.Formats, format) {
			return usageErr(fmt.Errorf("inventory: --format %q: want text, json, csv or markdown", format))
		}
		if push && regURL == "" {
			return usageErr(errors.New("inventory: --push needs --registry URL"))
		}
		if !push && regURL != "" {
			return usageErr(errors.New("inventory: --registry is where --push sends the inventory; add --push"))
		}
		opts := inventory.Options{Out: out, Diff: withDiff}
		if today != "" {
			day, err := time.Parse("2006-01-02", today)
			if err != nil {
				return usageErr(fmt.Errorf("inventory: --today %q: want YYYY-MM-DD", today))
			}
			opts.Now = day
		}
		if renderReg != "" {
			r, err := compiler.ParseRegistry(renderReg)
			if err != nil {
				return usageErr(fmt.Errorf("inventory: --render-registry: %w", err))
			}
			opts.Registry = &r
		}
		resolve, err := stackCatalogs(cmd, env, *catalogDir)
		if err != nil {
			return err
		}
		opts.Catalog = resolve
		if len(args) == 0 {
			args = []string{"."}
		}
		paths, err := findStacks(args)
		if err != nil {
			return err
		}
		raiseHeap(len(paths))
		inv, err := inventory.Build(cmd.Context(), paths, opts)
		if err != nil {
			return exit(ExitUsage, fmt.Errorf("inventory: %w", err))
		}
		if push {
			if repo == "" {
				repo = inventory.RepositoryKey(cmd.Context(), ".")
			}
			inv.Repository = repo
			doc, err := json.Marshal(inv)
			if err != nil {
				return exit(ExitUsage, fmt.Errorf("inventory: %w", err))
			}
			if err := pushInventory(cmd, env, regURL, doc); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "plat: pushed the inventory of %d %s (repository %s) to %s\n", len(inv.Stacks), plural(len(inv.Stacks), "stack"), repo, regURL)
		}
		if err := inv.Write(env.Stdout, format); err != nil {
			return exit(ExitUsage, fmt.Errorf("inventory: %w", err))
		}
		return nil
	}
	return cmd
}

// stackCatalogs is the catalog of each stack, as render and validate choose
// it: --catalog DIR for every stack when given, else the version the
// stack's repository pins (fetched once into the cache), else the embedded
// catalog.
func stackCatalogs(cmd *cobra.Command, env *Env, dir string) (inventory.Resolver, error) {
	if dir != "" {
		c, err := inventory.DirCatalog(dir)
		if err != nil {
			return nil, usageErr(err)
		}
		return inventory.Fixed(c), nil
	}
	cache, err := catalogCache(env)
	if err != nil {
		return nil, usageErr(err)
	}
	return inventory.PinResolver(cmd.Context(), cache, inventory.Embedded()), nil
}

// pushInventory POSTs doc to the registry with the token in PLAT_TOKEN (or
// TF_TOKEN_<host>), trusting SSL_CERT_FILE as module publish does.
func pushInventory(cmd *cobra.Command, env *Env, regURL string, doc []byte) error {
	u, err := url.Parse(regURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErr(fmt.Errorf("inventory: --registry %q: want http(s)://HOST[:PORT]", regURL))
	}
	c, err := tokenClient(env, regURL, u.Hostname())
	if err != nil {
		return usageErr(fmt.Errorf("inventory: %w", err))
	}
	err = c.PushInventory(cmd.Context(), bytes.TrimSpace(doc))
	var se *client.StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
		return usageErr(fmt.Errorf("inventory: %s does not look like a plat registry: %v", regURL, se))
	case errors.As(err, &se):
		return usageErr(fmt.Errorf("inventory: push refused: %v", se))
	default:
		return usageErr(fmt.Errorf("inventory: push: %v", strings.TrimSpace(err.Error())))
	}
}
