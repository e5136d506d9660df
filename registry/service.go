// Package registry is plat's private Terraform module registry: the service
// (publishing, version lookups, downloads, tokens), its HTTP transport (the module
// registry protocol v1 that tofu and terraform speak, plus the upload API). Storage
// is behind store.Store; registry/serve opens the backends and serves the handler.
//
// The service is split by concern: tokens.go (token auth and its cache),
// oidc.go (ID tokens from CI under a trust policy),
// versions.go (the version cache and lookups), downloads.go (batched download
// counts), grants.go (signed archive links), publish.go (the publish
// pipeline), readme.go (descriptions from READMEs), list.go (list and search)
// and details.go.
package registry

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/platdev/plat/registry/archive"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/provider"
	"github.com/platdev/plat/registry/store"
)

// Config tunes a Service. Zero values take the defaults.
type Config struct {
	// RequireReadToken makes every read need a token for the module's namespace.
	RequireReadToken bool
	// Limits bound uploaded archives (archive.DefaultLimits when zero).
	Limits archive.Limits
	// ProviderLimits bound uploaded provider archives (provider.DefaultLimits
	// when zero).
	ProviderLimits provider.Limits
	// GrantTTL is how long a download location stays valid when reads need a
	// token (default 15 minutes).
	GrantTTL time.Duration
	// CacheTTL is how long version lists are served from memory before the store
	// is asked again (default 1 s; publishes through this Service invalidate at once,
	// the TTL bounds staleness when other replicas publish).
	CacheTTL time.Duration
	// ListCacheTTL is how long list and search answers are served from memory
	// (default 1 s; negative: not cached). Publishes through this Service clear
	// them at once.
	ListCacheTTL time.Duration
	// TokenTTL is how long a token, once looked up, is trusted before the store
	// is asked again (default 5 s; negative: every request asks). It bounds how
	// long a revoked token keeps working on a replica.
	TokenTTL time.Duration
	// FlushInterval is how often download counts are written (default 5 s).
	FlushInterval time.Duration
	// MaxConcurrentUploads bounds uploads held in memory at once (default 4);
	// further uploads wait their turn.
	MaxConcurrentUploads int
	// CheckCatalog decides whether an uploaded catalog (its files, in memory)
	// may be published; nil accepts any catalog that passes the archive checks.
	// registry/serve sets it to the compiler's check (internal/catalogcheck).
	CheckCatalog func(ctx context.Context, fsys fs.FS) error
	// GoldenPaths describes a catalog's templates for the Backstage entities
	// (backstage.go); nil serves stack entities only. registry/serve's caller
	// sets it to the compiler's (internal/backstage/compiled).
	GoldenPaths GoldenPathsFunc
	// OIDC, when set, verifies OpenID Connect ID tokens from CI against a
	// trust policy; static tokens keep working beside it.
	OIDC *auth.OIDC
	// Log receives service events; nil discards them.
	Log *slog.Logger
}

// Service implements the registry's behaviour over a store.Store.
type Service struct {
	st  store.Store
	cfg Config
	key []byte
	log *slog.Logger

	modules *otter.Cache[store.Ref, *moduleEntry]
	tokens  *otter.Cache[string, store.Token] // nil: not cached

	dlMu      sync.Mutex
	downloads map[store.Key]int64

	lists *otter.Cache[ListQuery, ModuleList] // nil: not cached

	uploads chan struct{} // semaphore

	golden goldenCache // backstage.go
}

// DefaultTokenTTL is Config.TokenTTL's default.
const DefaultTokenTTL = 5 * time.Second

// NewService returns a Service over st, loading (or creating) the signing key.
func NewService(ctx context.Context, st store.Store, cfg Config) (*Service, error) {
	if cfg.Limits == (archive.Limits{}) {
		cfg.Limits = archive.DefaultLimits
	}
	if cfg.GrantTTL <= 0 {
		cfg.GrantTTL = 15 * time.Minute
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Second
	}
	if cfg.ListCacheTTL == 0 {
		cfg.ListCacheTTL = time.Second
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Second
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.MaxConcurrentUploads <= 0 {
		cfg.MaxConcurrentUploads = 4
	}
	lg := cfg.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	key, err := st.SigningKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &Service{
		st: st, cfg: cfg, key: key, log: lg,
		modules:   newVersionCache(cfg.CacheTTL),
		tokens:    newTokenCache(cfg.TokenTTL),
		downloads: map[store.Key]int64{},
		lists:     newListCache(cfg.ListCacheTTL),
		uploads:   make(chan struct{}, cfg.MaxConcurrentUploads),
	}, nil
}
