package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/platdev/plat/compiler"
	"github.com/platdev/plat/internal/catalogcache"
	"github.com/platdev/plat/internal/catalogcheck"
	"github.com/platdev/plat/internal/catalogpin"
	"github.com/platdev/plat/internal/pipeline"
	"github.com/platdev/plat/internal/userfile"
	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/client"
	"github.com/platdev/plat/registry/module"
)

// checkCatalog is the registry's check of an uploaded catalog.
func checkCatalog(ctx context.Context, fsys fs.FS) error {
	_, err := catalogcheck.Check(ctx, fsys)
	return err
}

// registryClient returns a client for baseURL with the token publish reads
// (PLAT_TOKEN, else TF_TOKEN_<host>) and SSL_CERT_FILE honoured through env.
func registryClient(env *Env, baseURL string) (*client.Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("registry %q: want http(s)://HOST[:PORT]", baseURL)
	}
	c, err := tokenClient(env, baseURL, u.Hostname())
	if err != nil {
		return nil, err
	}
	c.HTTP.Timeout = 0
	return c, nil
}

// tokenClient returns a client for baseURL (already checked) with the token
// the registry commands read, PLAT_TOKEN or else TF_TOKEN_<host>, trusting
// the certificates in SSL_CERT_FILE too (read through Env, as tofu's own TLS
// reads the process environment).
func tokenClient(env *Env, baseURL, host string) (*client.Client, error) {
	token := env.Getenv("PLAT_TOKEN")
	if token == "" {
		token = env.Getenv(tfTokenVar(host))
	}
	c := client.New(baseURL, token)
	f := env.Getenv("SSL_CERT_FILE")
	if f == "" {
		return c, nil
	}
	pem, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("SSL_CERT_FILE %s holds no PEM certificates", f)
	}
	c.HTTP.Transport.(*http.Transport).TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return c, nil
}

func catalogCache(env *Env) (*catalogcache.Cache, error) {
	dir, err := catalogcache.DefaultDir(env.Getenv)
	if err != nil {
		return nil, err
	}
	return &catalogcache.Cache{Dir: dir, Client: func(p *catalogpin.Pin) (*client.Client, error) {
		return registryClient(env, p.BaseURL())
	}}, nil
}

// loadStackCompiler is the catalog of render and validate: --catalog DIR when
// given, else the pin the stack files resolve to (fetched once into the
// cache), else the shipped catalog. Problems are usage errors (exit 2).
func loadStackCompiler(ctx context.Context, env *Env, dir string, stacks []string) (*compiler.Compiler, error) {
	if dir != "" || len(stacks) == 0 {
		return loadCompiler(dir)
	}
	pin, pinPath, err := pipeline.ResolvePin(stacks)
	if err != nil {
		return nil, usageErr(err)
	}
	if pin == nil {
		return loadCompiler("")
	}
	cache, err := catalogCache(env)
	if err != nil {
		return nil, usageErr(err)
	}
	c, warns, err := pipeline.LoadPinned(ctx, cache, pin, pinPath)
	if err != nil {
		return nil, usageErr(err)
	}
	for _, w := range warns {
		fmt.Fprintf(env.Stderr, "plat: warning: %s\n", w)
	}
	return c, nil
}

func newCatalogPublishCmd(env *Env) *cobra.Command {
	var regURL, ns, name, version string
	cmd := &cobra.Command{
		Use:   "publish DIR",
		Short: "Check a catalog and upload it as a new, immutable version",
		Long: `Check the catalog in DIR (it must load, and every template must compile a stack
that uses it with its defaults, for each target it declares), pack it (sorted,
without timestamps or owners; .git/ and the other files module publish leaves
out are left out) and upload it. The token comes from PLAT_TOKEN, or
TF_TOKEN_<host>. On success the version's digest is printed; pin it with
plat catalog pin.

Exit codes: 0 published, 1 refused (the catalog fails its check, or the
registry refuses: version exists, invalid archive, not authorized), 2 usage
error or registry unreachable.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("catalog publish: want exactly one catalog directory, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if regURL == "" || ns == "" || name == "" || version == "" {
				return usageErr(errors.New("catalog publish: --registry, --namespace, --name and --version are required"))
			}
			if !module.ValidName(ns) || !module.ValidName(name) {
				return usageErr(fmt.Errorf("catalog publish: namespace %q or name %q is not a valid name (lowercase letters, digits, '-', '_')", ns, name))
			}
			if !module.ValidVersion(version) {
				return usageErr(fmt.Errorf("catalog publish: --version %q is not a semantic version X.Y.Z", version))
			}
			if fi, err := os.Stat(dir); err != nil {
				return usageErr(fmt.Errorf("catalog publish: %w", err))
			} else if !fi.IsDir() {
				return usageErr(fmt.Errorf("catalog publish: %s is not a directory", dir))
			}
			if _, err := catalogcheck.Check(cmd.Context(), userfile.DirFS(dir, userfile.MaxSize)); err != nil {
				return exit(ExitFail, fmt.Errorf("catalog publish: %s: %w", dir, err))
			}
			data, err := archive.Pack(dir)
			if err != nil {
				return usageErr(fmt.Errorf("catalog publish: pack %s: %w", dir, err))
			}
			if _, err := archive.ValidateCatalog(data, archive.CatalogLimits); err != nil {
				return exit(ExitFail, fmt.Errorf("catalog publish: %s: %w", dir, err))
			}
			c, err := registryClient(env, regURL)
			if err != nil {
				return usageErr(fmt.Errorf("catalog publish: %w", err))
			}
			digest, err := c.PublishCatalog(cmd.Context(), ns, name, version, data)
			if err := registryErr("catalog publish", ns+"/"+name+" "+version, err); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "published catalog %s/%s %s (%d bytes, %s)\n", ns, name, version, len(data), digest)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&regURL, "registry", "", "registry URL, e.g. https://registry.example.com (required)")
	f.StringVar(&ns, "namespace", "", "namespace (required)")
	f.StringVar(&name, "name", "", "catalog name (required)")
	f.StringVar(&version, "version", "", "semantic version X.Y.Z (required)")
	return cmd
}

// registryErr maps a client error: a refusal exits 1, a registry that is not
// one or cannot be reached exits 2.
func registryErr(what, subject string, err error) error {
	var se *client.StatusError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se) && se.Status == http.StatusNotFound && se.Message == "":
		return usageErr(fmt.Errorf("%s: %s: %v", what, subject, se))
	case errors.As(err, &se):
		return exit(ExitFail, fmt.Errorf("%s: %s refused: %v", what, subject, se))
	default:
		return usageErr(fmt.Errorf("%s: %v", what, err))
	}
}

func newCatalogPinCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "pin REGISTRY/NAMESPACE/NAME@VERSION",
		Short: "Pin a registry catalog version in this repository's plat-catalog.yaml",
		Long: `Pin writes (or updates) plat-catalog.yaml: the nearest one from the current
directory upward, else one at the git repository's root, else one in the current
directory. REGISTRY is HOST[:PORT] (https) or an explicit http(s)://HOST[:PORT].
The version is downloaded, checked and cached, and its digest written into the
pin, so render and validate work offline from then on.

Exit codes: 0 pinned, 1 the registry refuses (no such version, not
authorized), 2 usage error or registry unreachable.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr(fmt.Errorf("catalog pin: want one REGISTRY/NAMESPACE/NAME@VERSION, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := catalogpin.ParseRef(args[0])
			if err != nil {
				return usageErr(fmt.Errorf("catalog pin: %w", err))
			}
			c, err := registryClient(env, p.BaseURL())
			if err != nil {
				return usageErr(fmt.Errorf("catalog pin: %w", err))
			}
			vs, err := c.CatalogVersions(cmd.Context(), p.Namespace, p.Name)
			if err := registryErr("catalog pin", p.Ref(), err); err != nil {
				return err
			}
			for _, v := range vs {
				if v.Version == p.Version {
					p.Digest = v.Digest
					if v.Yanked != nil {
						fmt.Fprintf(env.Stderr, "plat: warning: catalog %s is yanked: %s\n", p.Ref(), v.Yanked.Reason)
					}
				}
			}
			if p.Digest == "" {
				return exit(ExitFail, fmt.Errorf("catalog pin: %s: the registry has no such version", p.Ref()))
			}
			cache, err := catalogCache(env)
			if err != nil {
				return usageErr(fmt.Errorf("catalog pin: %w", err))
			}
			if _, _, err := cache.Fetch(cmd.Context(), p); err != nil {
				return exit(ExitFail, fmt.Errorf("catalog pin: %w", err))
			}
			if err := cache.Refresh(cmd.Context(), p); err != nil {
				return exit(ExitFail, fmt.Errorf("catalog pin: %w", err))
			}
			path, err := pinPath()
			if err != nil {
				return usageErr(fmt.Errorf("catalog pin: %w", err))
			}
			if err := catalogpin.Write(path, p); err != nil {
				return usageErr(fmt.Errorf("catalog pin: %w", err))
			}
			fmt.Fprintf(env.Stdout, "pinned %s (%s) in %s\n", p.Ref(), p.Digest, pipeline.DisplayName(path))
			return nil
		},
	}
}

// pinPath is where plat catalog pin writes: the nearest pin upward, else the
// git root's, else the working directory's.
func pinPath() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	if p, err := catalogpin.Locate(wd); err != nil || p != "" {
		return p, err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return filepath.Join(d, catalogpin.FileName), nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return filepath.Join(wd, catalogpin.FileName), nil
}
