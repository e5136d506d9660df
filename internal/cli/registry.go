package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/serve"
	"github.com/platdev/plat/registry/store"
)

// newRegistryCmd builds `plat registry` (serve, token create/list/revoke).
func newRegistryCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Serve the module registry and mint tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr(errors.New("registry: missing subcommand (serve, token)"))
		},
	}
	tokenCmd := &cobra.Command{
		Use:   "token",
		Short: "Manage registry API tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageErr(errors.New("registry token: missing subcommand (create, list, revoke)"))
		},
	}
	tokenCmd.AddCommand(newTokenCreateCmd(env), newTokenListCmd(env), newTokenRevokeCmd(env))
	cmd.AddCommand(newRegistryServeCmd(env), tokenCmd)
	return cmd
}

func addStoreFlags(env *Env, cmd *cobra.Command, cfg *serve.StoreConfig) {
	cfg.Log = env.Log
	cmd.Flags().StringVar(&cfg.DataDir, "data", "", "directory for the embedded store (SQLite metadata and archive files)")
	cmd.Flags().StringVar(&cfg.DB, "db", "", "PostgreSQL URL for metadata (postgres://...) instead of SQLite in --data")
	cmd.Flags().StringVar(&cfg.Blob, "blob", "", "bucket URL for archives (s3://bucket?endpoint=...&region=...) instead of files in --data")
}

func newRegistryServeCmd(env *Env) *cobra.Command {
	var (
		sc           serve.StoreConfig
		listen       string
		cert, key    string
		readTok      bool
		accessLog    bool
		lim          = archive.DefaultLimits
		drain        time.Duration
		tokenTTL     time.Duration
		authCfg      string
		driftReports string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Terraform module registry (protocol v1) and its upload API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (cert == "") != (key == "") {
				return usageErr(errors.New("registry serve: --tls-cert and --tls-key go together"))
			}
			if err := needStore("registry serve", sc, false); err != nil {
				return err
			}
			if tokenTTL < 0 {
				return usageErr(errors.New("registry serve: --token-cache-ttl must not be negative"))
			}
			if sc.ArchiveCache < 0 {
				return usageErr(errors.New("registry serve: --archive-cache-bytes must not be negative"))
			}
			if lim.MaxCompressed <= 0 || lim.MaxUnpacked <= 0 || lim.MaxFiles <= 0 {
				return usageErr(errors.New("registry serve: limits must be positive"))
			}
			if tokenTTL == 0 {
				tokenTTL = -1 // registry.Config: negative is no caching
			}
			return runServe(cmd.Context(), env, serveArgs{sc, listen, cert, key, readTok, accessLog, lim, drain, tokenTTL, authCfg, driftReports})
		},
	}
	addStoreFlags(env, cmd, &sc)
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	f.StringVar(&cert, "tls-cert", "", "TLS certificate file (PEM); with --tls-key, serve HTTPS")
	f.StringVar(&key, "tls-key", "", "TLS private key file (PEM)")
	f.BoolVar(&readTok, "require-read-token", false, "require a read (or publish) token for the module's namespace on every read")
	f.BoolVar(&accessLog, "access-log", true, "write one structured log record per request to stderr")
	f.Int64Var(&lim.MaxCompressed, "max-archive-bytes", lim.MaxCompressed, "largest accepted upload (compressed)")
	f.Int64Var(&lim.MaxUnpacked, "max-unpacked-bytes", lim.MaxUnpacked, "largest accepted module once unpacked")
	f.IntVar(&lim.MaxFiles, "max-files", lim.MaxFiles, "most files and directories an archive may hold")
	f.DurationVar(&tokenTTL, "token-cache-ttl", registry.DefaultTokenTTL, "how long a looked-up token is trusted before asking the store again; a revoked token works this long at most (0: ask on every request)")
	f.Int64Var(&sc.ArchiveCache, "archive-cache-bytes", serve.DefaultArchiveCache, "how many bytes of module archives to keep in memory for downloads (0: none)")
	f.StringVar(&authCfg, "auth-config", "", "OIDC trust policy (YAML): accept ID tokens from CI issuers, mapped by claims to a namespace and scope (docs/registry.md)")
	f.StringVar(&driftReports, "drift-reports", "", "drift watch's reports directory: the portal shows the newest report of each stack (docs/portal.md)")
	f.DurationVar(&drain, "shutdown-timeout", 30*time.Second, "how long in-flight requests may finish after SIGINT/SIGTERM")
	return cmd
}

type serveArgs struct {
	sc        serve.StoreConfig
	listen    string
	cert, key string
	readTok   bool
	accessLog bool
	lim       archive.Limits
	drain     time.Duration
	tokenTTL  time.Duration
	authCfg   string
	// driftReports is --drift-reports.
	driftReports string
}

func runServe(ctx context.Context, env *Env, a serveArgs) error {
	lg := env.Log
	if a.cert != "" {
		// Fail before opening anything; Serve loads the pair again to use it.
		if _, err := tls.LoadX509KeyPair(a.cert, a.key); err != nil {
			return usageErr(fmt.Errorf("registry serve: load TLS certificate: %w", err))
		}
	}
	if a.driftReports != "" {
		// A directory drift watch has not created yet is fine (no reports
		// yet); a file is a mistake.
		if fi, err := os.Stat(a.driftReports); err == nil && !fi.IsDir() {
			return usageErr(fmt.Errorf("registry serve: --drift-reports %s is not a directory", a.driftReports))
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return usageErr(fmt.Errorf("registry serve: --drift-reports: %w", err))
		}
	}
	cfg := serve.Config{
		Store:        a.sc,
		Service:      registry.Config{RequireReadToken: a.readTok, Limits: a.lim, TokenTTL: a.tokenTTL, Log: lg, CheckCatalog: checkCatalog, GoldenPaths: registryGoldenPaths},
		AuthConfig:   a.authCfg,
		Log:          lg,
		DriftReports: a.driftReports,
	}
	if a.accessLog {
		cfg.AccessLog = env.Stderr
	}
	reg, err := serve.Open(ctx, cfg)
	if err != nil {
		return usageErr(fmt.Errorf("registry serve: %w", err))
	}
	defer reg.Close()
	ln, err := net.Listen("tcp", a.listen)
	if err != nil {
		return usageErr(fmt.Errorf("registry serve: %w", err))
	}
	scheme := "http"
	if a.cert != "" {
		scheme = "https"
	}
	lg.Info("plat registry listening", "url", scheme+"://"+ln.Addr().String(), "require_read_token", a.readTok)
	err = reg.Serve(ctx, ln, serve.Options{TLSCert: a.cert, TLSKey: a.key, ShutdownTimeout: a.drain, Log: lg})
	if err != nil {
		return exit(ExitFail, fmt.Errorf("registry serve: %w", err))
	}
	lg.Info("plat registry stopped")
	return nil
}

func newTokenCreateCmd(env *Env) *cobra.Command {
	var (
		sc        serve.StoreConfig
		namespace string
		scope     string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Mint a token for a namespace and print it (only its hash is stored)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := needStore("registry token create", sc, true); err != nil {
				return err
			}
			if namespace == "" {
				return usageErr(errors.New("registry token create: --namespace is required"))
			}
			if !registry.ValidName(namespace) {
				return usageErr(fmt.Errorf("registry token create: invalid namespace %q: use 1-%d lowercase letters, digits, '-' or '_'", namespace, registry.MaxNameLen))
			}
			if scope != string(store.ScopeRead) && scope != string(store.ScopePublish) {
				return usageErr(fmt.Errorf("registry token create: --scope must be publish or read, not %q", scope))
			}
			ctx := cmd.Context()
			st, err := serve.OpenStore(ctx, sc, true)
			if err != nil {
				return usageErr(fmt.Errorf("registry token create: %w", err))
			}
			defer st.Close()
			secret, hash, err := auth.NewToken()
			if err != nil {
				return exit(ExitFail, err)
			}
			if err := st.CreateToken(ctx, store.Token{Hash: hash, Namespace: namespace, Scope: store.Scope(scope), CreatedAt: time.Now().UTC()}); err != nil {
				return exit(ExitFail, fmt.Errorf("registry token create: %w", err))
			}
			fmt.Fprintln(env.Stdout, secret)
			return nil
		},
	}
	addStoreFlags(env, cmd, &sc)
	cmd.Flags().StringVar(&namespace, "namespace", "", "namespace the token is for (required)")
	cmd.Flags().StringVar(&scope, "scope", "", "publish (implies read) or read (required)")
	return cmd
}
