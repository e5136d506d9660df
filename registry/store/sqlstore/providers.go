package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/platdev/plat/registry/store"
)

var _ store.ProviderStore = (*Store)(nil)

// providerSchema holds the network mirror's providers: one row per provider
// address with the namespace that owns it, one per version, one per archive.
const providerSchema = `
CREATE TABLE IF NOT EXISTS providers (
	hostname  TEXT NOT NULL,
	namespace TEXT NOT NULL,
	type      TEXT NOT NULL,
	owner     TEXT NOT NULL,
	PRIMARY KEY (hostname, namespace, type)
);
CREATE TABLE IF NOT EXISTS provider_versions (
	hostname     TEXT NOT NULL,
	namespace    TEXT NOT NULL,
	type         TEXT NOT NULL,
	version      TEXT NOT NULL,
	published_at BIGINT NOT NULL,
	PRIMARY KEY (hostname, namespace, type, version)
);
CREATE TABLE IF NOT EXISTS provider_archives (
	hostname  TEXT NOT NULL,
	namespace TEXT NOT NULL,
	type      TEXT NOT NULL,
	version   TEXT NOT NULL,
	platform  TEXT NOT NULL,
	filename  TEXT NOT NULL,
	blob_key  TEXT NOT NULL,
	size      BIGINT NOT NULL,
	zh        TEXT NOT NULL,
	h1        TEXT NOT NULL,
	PRIMARY KEY (hostname, namespace, type, version, platform)
);
`

// migrateProviders creates the provider tables (within migrate's transaction).
func (s *Store) migrateProviders(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range strings.Split(providerSchema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// PublishProvider implements store.ProviderStore: archives first (under keys
// unique to this attempt), then the rows in one transaction; if they cannot
// be inserted the archives are deleted.
func (s *Store) PublishProvider(ctx context.Context, v store.ProviderVersion, data [][]byte) error {
	if s.blobs == nil {
		return store.ErrNoBlobs
	}
	if len(data) != len(v.Archives) {
		return fmt.Errorf("publish provider: %d archives, %d zips", len(v.Archives), len(data))
	}
	if owner, err := s.providerOwner(ctx, s.db, v.ProviderAddr); err != nil {
		return err
	} else if owner != "" && owner != v.Owner {
		return fmt.Errorf("%s %w %q", v.ProviderAddr, store.ErrOwner, owner)
	}
	if _, err := s.ProviderVersion(ctx, v.ProviderKey); err == nil {
		return fmt.Errorf("%s: %w", v.ProviderKey, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	var put []string
	cleanup := func() {
		// A fresh context: the caller's may be what failed.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, k := range put {
			_ = s.blobs.Delete(dctx, k)
		}
	}
	archives := make([]store.ProviderArchive, len(v.Archives))
	for i, a := range v.Archives {
		a.BlobKey = fmt.Sprintf("providers/%s/%s/%s/%s-%s/%s", strings.ReplaceAll(v.Hostname, ":", "_"), v.Namespace, v.Type,
			v.Version, hex.EncodeToString(rnd[:]), a.Filename)
		a.Size = int64(len(data[i]))
		if err := s.blobs.Put(ctx, a.BlobKey, data[i]); err != nil {
			cleanup()
			return fmt.Errorf("store provider archive: %w", err)
		}
		put = append(put, a.BlobKey)
		archives[i] = a
	}
	v.Archives = archives
	if err := s.insertProvider(ctx, v); err != nil {
		cleanup()
		return err
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// providerOwner returns the namespace owning a, or "" if it has none yet.
func (s *Store) providerOwner(ctx context.Context, q queryer, a store.ProviderAddr) (string, error) {
	var owner string
	err := q.QueryRowContext(ctx, s.rebind(`SELECT owner FROM providers WHERE hostname = ? AND namespace = ? AND type = ?`),
		a.Hostname, a.Namespace, a.Type).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return owner, err
}

func (s *Store) insertProvider(ctx context.Context, v store.ProviderVersion) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The first publisher of an address owns it; concurrent first publishes
	// from two namespaces: one row wins, the other sees its owner below.
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO providers (hostname, namespace, type, owner) VALUES (?, ?, ?, ?)
		ON CONFLICT (hostname, namespace, type) DO NOTHING`), v.Hostname, v.Namespace, v.Type, v.Owner); err != nil {
		return fmt.Errorf("record provider: %w", err)
	}
	owner, err := s.providerOwner(ctx, tx, v.ProviderAddr)
	if err != nil {
		return err
	}
	if owner != v.Owner {
		return fmt.Errorf("%s %w %q", v.ProviderAddr, store.ErrOwner, owner)
	}
	res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO provider_versions (hostname, namespace, type, version, published_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (hostname, namespace, type, version) DO NOTHING`), v.Hostname, v.Namespace, v.Type, v.Version, v.PublishedAt.UnixNano())
	if err != nil {
		return fmt.Errorf("record provider version: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%s: %w", v.ProviderKey, store.ErrExists)
	}
	for _, a := range v.Archives {
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO provider_archives
			(hostname, namespace, type, version, platform, filename, blob_key, size, zh, h1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			v.Hostname, v.Namespace, v.Type, v.Version, a.Platform, a.Filename, a.BlobKey, a.Size, a.ZH, a.H1); err != nil {
			return fmt.Errorf("record provider archive: %w", err)
		}
	}
	return tx.Commit()
}

// ProviderVersions implements store.ProviderStore.
func (s *Store) ProviderVersions(ctx context.Context, a store.ProviderAddr) ([]store.ProviderVersion, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT v.version, v.published_at, p.owner FROM provider_versions v
		JOIN providers p ON p.hostname = v.hostname AND p.namespace = v.namespace AND p.type = v.type
		WHERE v.hostname = ? AND v.namespace = ? AND v.type = ?`), a.Hostname, a.Namespace, a.Type)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.ProviderVersion
	for rows.Next() {
		v := store.ProviderVersion{ProviderKey: store.ProviderKey{ProviderAddr: a}}
		var published int64
		if err := rows.Scan(&v.Version, &published, &v.Owner); err != nil {
			return nil, err
		}
		v.PublishedAt = time.Unix(0, published).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// ProviderVersion implements store.ProviderStore.
func (s *Store) ProviderVersion(ctx context.Context, k store.ProviderKey) (store.ProviderVersion, error) {
	v := store.ProviderVersion{ProviderKey: k}
	var published int64
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT v.published_at, p.owner FROM provider_versions v
		JOIN providers p ON p.hostname = v.hostname AND p.namespace = v.namespace AND p.type = v.type
		WHERE v.hostname = ? AND v.namespace = ? AND v.type = ? AND v.version = ?`),
		k.Hostname, k.Namespace, k.Type, k.Version).Scan(&published, &v.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("provider %s: %w", k, store.ErrNotFound)
	}
	if err != nil {
		return v, err
	}
	v.PublishedAt = time.Unix(0, published).UTC()
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT platform, filename, blob_key, size, zh, h1 FROM provider_archives
		WHERE hostname = ? AND namespace = ? AND type = ? AND version = ? ORDER BY platform`),
		k.Hostname, k.Namespace, k.Type, k.Version)
	if err != nil {
		return v, err
	}
	defer rows.Close()
	for rows.Next() {
		var a store.ProviderArchive
		if err := rows.Scan(&a.Platform, &a.Filename, &a.BlobKey, &a.Size, &a.ZH, &a.H1); err != nil {
			return v, err
		}
		v.Archives = append(v.Archives, a)
	}
	return v, rows.Err()
}

// OpenProviderArchive implements store.ProviderStore.
func (s *Store) OpenProviderArchive(ctx context.Context, a store.ProviderArchive) (store.Archive, error) {
	if s.blobs == nil {
		return nil, store.ErrNoBlobs
	}
	if a.BlobKey == "" {
		return nil, fmt.Errorf("provider archive %s: %w", a.Filename, store.ErrNotFound)
	}
	return s.blobs.Open(ctx, a.BlobKey)
}
