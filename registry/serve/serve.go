// Package serve opens a registry's stores and serves its handler: it is the
// one package that links the concrete backends (SQLite, PostgreSQL, files, S3
// through gocloud), so the registry package itself depends only on
// store.Store.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/platdev/plat/registry/internal/ownerfs"
	"github.com/platdev/plat/registry/store/blobs"
	"github.com/platdev/plat/registry/store/sqlstore"
)

// DefaultArchiveCache is how many bytes of archives `plat registry serve` keeps
// in memory unless told otherwise.
const DefaultArchiveCache = 64 << 20

// StoreConfig says where a registry keeps its data: the embedded default is
// everything under DataDir (SQLite plus archive files); DB (postgres://...) and
// Blob (s3://bucket?...) move metadata and archives out so replicas are stateless.
type StoreConfig struct {
	DataDir string
	DB      string
	Blob    string
	// ArchiveCache is how many bytes of archives a server keeps in memory
	// (blobs.Cache); 0 serves every download from the archive storage.
	ArchiveCache int64
	// Log receives warnings about the data directory (files other users can
	// read); nil discards them.
	Log *slog.Logger
}

// ErrNoStore means a StoreConfig names too little to open a store.
var ErrNoStore = errors.New("no data store")

// Check reports (as an error wrapping ErrNoStore, phrased in the CLI's flags)
// whether cfg names enough storage: metadata (DataDir or DB) for token
// management (metadataOnly), and archives as well (DataDir, or DB and Blob) to
// serve. It is the one place that rule lives.
func (cfg StoreConfig) Check(metadataOnly bool) error {
	switch {
	case metadataOnly && cfg.DataDir == "" && cfg.DB == "":
		return fmt.Errorf("%w: give --data DIR or --db URL (postgres://)", ErrNoStore)
	case !metadataOnly && cfg.DataDir == "" && (cfg.DB == "" || cfg.Blob == ""):
		return fmt.Errorf("%w: give --data DIR (or both --db and --blob)", ErrNoStore)
	}
	return nil
}

// OpenStore opens the store cfg describes. With metadataOnly, no archive storage
// is opened (enough for token management).
func OpenStore(ctx context.Context, cfg StoreConfig, metadataOnly bool) (*sqlstore.Store, error) {
	if err := cfg.Check(metadataOnly); err != nil {
		return nil, err
	}
	if cfg.DataDir != "" {
		if err := ownerfs.MkdirAll(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	var b blobs.Blobs
	if !metadataOnly {
		var err error
		if cfg.Blob != "" {
			b, err = blobs.Open(ctx, cfg.Blob)
		} else {
			b, err = blobs.NewFiles(filepath.Join(cfg.DataDir, "archives"))
		}
		if err != nil {
			return nil, fmt.Errorf("archive storage: %w", err)
		}
		if cfg.ArchiveCache > 0 {
			c, err := blobs.NewCache(b, cfg.ArchiveCache)
			if err != nil {
				b.Close()
				return nil, fmt.Errorf("archive cache: %w", err)
			}
			b = c
		}
	}
	var st *sqlstore.Store
	var err error
	if cfg.DB != "" {
		st, err = sqlstore.OpenPostgres(ctx, cfg.DB, b)
	} else {
		st, err = sqlstore.OpenSQLite(ctx, filepath.Join(cfg.DataDir, "registry.db"), b)
	}
	if err != nil {
		if b != nil {
			b.Close()
		}
		return nil, fmt.Errorf("metadata database: %w", err)
	}
	if cfg.DataDir != "" {
		warnOpen(cfg.DataDir, cfg.Log)
	}
	return st, nil
}

// Options configures Serve. Zero timeouts take the defaults.
type Options struct {
	TLSCert, TLSKey   string
	ReadHeaderTimeout time.Duration // default 10 s
	ReadTimeout       time.Duration // default 5 min (uploads)
	WriteTimeout      time.Duration // default 5 min (downloads)
	IdleTimeout       time.Duration // default 2 min
	ShutdownTimeout   time.Duration // default 30 s: how long in-flight requests may drain
	Log               *slog.Logger
}

// Serve serves h on ln with fasthttp (fast.go) until ctx is cancelled, then
// stops accepting connections and waits (up to ShutdownTimeout) for in-flight
// requests to finish. A *registry.Handler's hot routes are answered natively,
// every other request through h (adapt.go). Request contexts are not
// cancelled by the shutdown: in-flight requests finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o Options) error {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, 10*time.Second)
	def(&o.ReadTimeout, 5*time.Minute)
	def(&o.WriteTimeout, 5*time.Minute)
	def(&o.IdleTimeout, 2*time.Minute)
	def(&o.ShutdownTimeout, 30*time.Second)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	lg := o.Log
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("TLS needs both a certificate and a key")
	}
	if o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		// HTTP/1.1 only: fasthttp speaks no HTTP/2, and offers none in ALPN.
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	}
	srv := newServer(ctx, h, o)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	lg.Info("shutting down", "drain_timeout", o.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), o.ShutdownTimeout)
	defer cancel()
	err := srv.ShutdownWithContext(sctx)
	if serr := <-errc; serr != nil && err == nil {
		err = serr
	}
	return err
}

// warnOpen logs a warning when the data directory or anything in it is open
// to other users: the database holds the key that signs download grants.
// Modes are left as the operator set them.
func warnOpen(dir string, lg *slog.Logger) {
	if lg == nil {
		return
	}
	paths, n, err := ownerfs.Open(dir, 5)
	if err != nil {
		lg.Warn("check data directory permissions", "dir", dir, "err", err)
		return
	}
	if n > 0 {
		lg.Warn("data directory is readable by other users; it holds the key that signs download grants: run chmod -R go-rwx on it",
			"dir", dir, "open_paths", n, "first", paths)
	}
}
