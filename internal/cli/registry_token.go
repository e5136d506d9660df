package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// openTokenStore opens the metadata of an existing registry for token
// management; unlike token create, it never starts an empty one.
func openTokenStore(cmd *cobra.Command, name string, sc serve.StoreConfig) (store.Store, error) {
	if err := needStore(name, sc, true); err != nil {
		return nil, err
	}
	if sc.DB == "" {
		if _, err := os.Stat(filepath.Join(sc.DataDir, "registry.db")); err != nil {
			return nil, usageErr(fmt.Errorf("%s: no registry in %s (registry.db: %v)", name, sc.DataDir, errors.Unwrap(err)))
		}
	}
	st, err := serve.OpenStore(cmd.Context(), sc, true)
	if err != nil {
		return nil, usageErr(fmt.Errorf("%s: %w", name, err))
	}
	return st, nil
}

// needStore refuses (exit 2) a command whose store flags name too little
// storage (serve.StoreConfig.Check: metadata for token commands, archives too
// to serve).
func needStore(name string, sc serve.StoreConfig, metadataOnly bool) error {
	if err := sc.Check(metadataOnly); err != nil {
		return usageErr(fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), serve.ErrNoStore.Error()+": ")))
	}
	return nil
}

// newTokenListCmd builds `plat registry token list`.
func newTokenListCmd(env *Env) *cobra.Command {
	var (
		sc        serve.StoreConfig
		namespace string
		format    string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens by ID (never their secrets)",
		Long: `List prints every stored token of the registry, or of one namespace: its ID
(the first 12 hex digits of the SHA-256 of its secret), namespace, scope and
creation time, oldest first. Secrets are never stored, so they cannot be shown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return usageErr(fmt.Errorf("registry token list: --format %q: want text or json", format))
			}
			if namespace != "" && !registry.ValidName(namespace) {
				return usageErr(fmt.Errorf("registry token list: invalid namespace %q", namespace))
			}
			st, err := openTokenStore(cmd, "registry token list", sc)
			if err != nil {
				return err
			}
			defer st.Close()
			toks, err := st.Tokens(cmd.Context(), namespace)
			if err != nil {
				return exit(ExitFail, fmt.Errorf("registry token list: %w", err))
			}
			if format == "json" {
				type row struct {
					ID        string    `json:"id"`
					Namespace string    `json:"namespace"`
					Scope     string    `json:"scope"`
					CreatedAt time.Time `json:"createdAt"`
				}
				rows := make([]row, 0, len(toks))
				for _, t := range toks {
					rows = append(rows, row{t.ID(), t.Namespace, string(t.Scope), t.CreatedAt})
				}
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAMESPACE\tSCOPE\tCREATED")
			for _, t := range toks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID(), t.Namespace, t.Scope, t.CreatedAt.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	addStoreFlags(env, cmd, &sc)
	cmd.Flags().StringVar(&namespace, "namespace", "", "only the tokens of this namespace")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// newTokenRevokeCmd builds `plat registry token revoke`.
func newTokenRevokeCmd(env *Env) *cobra.Command {
	var sc serve.StoreConfig
	cmd := &cobra.Command{
		Use:   "revoke ID|TOKEN...",
		Short: "Revoke API tokens",
		Long: `Revoke deletes tokens, named by the ID that plat registry token list shows
(or a longer prefix of the hash), or by the token itself (plat_...). Every
replica refuses a revoked token from its next request on.

Exit status: 0 all revoked, 1 some token not found (the others are revoked),
2 usage.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if !strings.HasPrefix(a, "plat_") && !isHexID(a) {
					return usageErr(fmt.Errorf("registry token revoke: %q is neither a token ID (12 or more hex digits) nor a token (plat_...)", a))
				}
			}
			st, err := openTokenStore(cmd, "registry token revoke", sc)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			toks, err := st.Tokens(ctx, "")
			if err != nil {
				return exit(ExitFail, fmt.Errorf("registry token revoke: %w", err))
			}
			failed := 0
			for _, a := range args {
				// A token (plat_...) matches by its hash, an ID by prefix.
				match := func(t store.Token) bool { return strings.HasPrefix(t.Hash, a) }
				name := "with ID " + a
				if strings.HasPrefix(a, "plat_") {
					h := auth.Hash(a)
					match = func(t store.Token) bool { return t.Hash == h }
					name = "matches the given plat_ token"
				}
				var found []store.Token
				for _, t := range toks {
					if match(t) {
						found = append(found, t)
					}
				}
				if len(found) > 1 {
					fmt.Fprintf(env.Stderr, "plat: registry token revoke: %s names %d tokens; give more of the hash\n", a, len(found))
					failed++
					continue
				}
				err := store.ErrNotFound
				if len(found) == 1 {
					err = st.DeleteToken(ctx, found[0].Hash) // ErrNotFound if revoked meanwhile
				}
				if errors.Is(err, store.ErrNotFound) {
					fmt.Fprintf(env.Stderr, "plat: registry token revoke: no token %s\n", name)
					failed++
					continue
				}
				if err != nil {
					return exit(ExitFail, fmt.Errorf("registry token revoke: %w", err))
				}
				t := found[0]
				fmt.Fprintf(env.Stdout, "revoked %s (namespace %s, scope %s)\n", t.ID(), t.Namespace, t.Scope)
			}
			if failed > 0 {
				return exit(ExitFail, nil)
			}
			return nil
		},
	}
	addStoreFlags(env, cmd, &sc)
	return cmd
}

func isHexID(s string) bool {
	if len(s) < 12 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
