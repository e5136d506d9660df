package serve

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/platdev/plat/catalog"
	"github.com/platdev/plat/registry"
	"github.com/platdev/plat/registry/auth"
	"github.com/platdev/plat/registry/portal"
	"github.com/platdev/plat/registry/store/sqlstore"
)

// Config describes a registry to serve: where its data is, how the service
// behaves, and where logs go.
type Config struct {
	Store   StoreConfig
	Service registry.Config
	// AuthConfig is the path of an OIDC trust policy (auth.LoadPolicy); when
	// set, ID tokens from CI are accepted beside static tokens.
	AuthConfig string
	// AccessLog receives one record per request (through a buffer flushed every
	// 100 ms) when set.
	AccessLog io.Writer
	// Log receives server events; nil discards them.
	Log *slog.Logger
	// NoPortal leaves the web UI (registry/portal) out: the API only.
	NoPortal bool
	// DriftReports is drift watch's reports directory, shown by the portal's
	// drift and stack pages ("" for none).
	DriftReports string
}

// Registry is a registry ready to serve: its open store, service and handler.
type Registry struct {
	st     *sqlstore.Store
	svc    *registry.Service
	h      *registry.Handler
	access *registry.BufferedLog // nil without an access log
	log    *slog.Logger
}

// Open opens the store cfg describes and builds the service and handler over
// it. Its errors are configuration errors: nothing listens yet.
func Open(ctx context.Context, cfg Config) (*Registry, error) {
	lg := cfg.Log
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	if cfg.Store.Log == nil {
		cfg.Store.Log = lg
	}
	if cfg.Service.Log == nil {
		cfg.Service.Log = lg
	}
	if cfg.AuthConfig != "" {
		pol, err := auth.LoadPolicy(cfg.AuthConfig)
		if err != nil {
			return nil, err
		}
		cfg.Service.OIDC = auth.NewOIDC(pol, auth.OIDCOptions{Log: lg})
		lg.Info("oidc trust policy loaded", "file", cfg.AuthConfig, "issuers", len(pol.Issuers))
	}
	st, err := OpenStore(ctx, cfg.Store, false)
	if err != nil {
		return nil, err
	}
	svc, err := registry.NewService(ctx, st, cfg.Service)
	if err != nil {
		st.Close()
		return nil, err
	}
	r := &Registry{st: st, svc: svc, log: lg}
	o := registry.HandlerOptions{Log: lg}
	if cfg.AccessLog != nil {
		// One write per request to stderr would dominate the cost of a
		// version lookup: records go through a buffer.
		r.access = registry.NewBufferedLog(cfg.AccessLog, 100*time.Millisecond)
		o.AccessLog, o.AccessLogger = true, slog.New(slog.NewTextHandler(r.access, nil))
	}
	if !cfg.NoPortal {
		p, err := portal.New(svc, portal.Options{Catalog: catalog.FS, DriftReports: cfg.DriftReports, Log: lg})
		if err != nil {
			st.Close()
			return nil, err
		}
		o.Portal = p
	}
	r.h = registry.NewHandler(svc, o)
	return r, nil
}

// Serve serves the registry on ln until ctx ends (see Serve), writing download
// counts in the background and once more after the last request.
func (r *Registry) Serve(ctx context.Context, ln net.Listener, o Options) error {
	if o.Log == nil {
		o.Log = r.log
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { r.svc.Run(runCtx); close(done) }()
	err := Serve(ctx, ln, r.h, o)
	stopRun()
	<-done // download counts are written before the store closes
	return err
}

// Handler returns the registry's net/http handler, the one Serve puts behind
// fasthttp: tests serve it with net/http to compare the two.
func (r *Registry) Handler() http.Handler { return r.h }

// Close flushes the access log and closes the store.
func (r *Registry) Close() error {
	if r.access != nil {
		r.access.Close()
	}
	return r.st.Close()
}
