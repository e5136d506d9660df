package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

var _ store.Lifecycle = (*Store)(nil)

// lifecycleSchema holds catalog versions and the lifecycle marks of module and
// catalog versions. A mark's subject is "module" (address ns/name/system) or
// "catalog" (address ns/name).
const lifecycleSchema = `
CREATE TABLE IF NOT EXISTS catalog_versions (
	namespace    TEXT NOT NULL,
	name         TEXT NOT NULL,
	version      TEXT NOT NULL,
	blob_key     TEXT NOT NULL,
	size         BIGINT NOT NULL,
	sha256       TEXT NOT NULL,
	published_at BIGINT NOT NULL,
	PRIMARY KEY (namespace, name, version)
);
CREATE TABLE IF NOT EXISTS version_marks (
	subject TEXT NOT NULL,
	address TEXT NOT NULL,
	version TEXT NOT NULL,
	mark    TEXT NOT NULL,
	reason  TEXT NOT NULL,
	at      BIGINT NOT NULL,
	PRIMARY KEY (subject, address, version, mark)
);
`

// migrateLifecycle creates the lifecycle tables (idempotent).
func (s *Store) migrateLifecycle(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110303)`); err != nil {
			return err
		}
	}
	for _, stmt := range strings.Split(lifecycleSchema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// PublishCatalog implements store.Lifecycle: archive first under a key unique
// to this attempt, then the row; the archive is deleted if the row is not
// inserted.
func (s *Store) PublishCatalog(ctx context.Context, v store.NewCatalogVersion, archive []byte) error {
	if s.blobs == nil {
		return store.ErrNoBlobs
	}
	prefix := fmt.Sprintf("catalogs/%s/%s/%s", v.Namespace, v.Name, v.Version)
	return s.putRecorded(ctx, prefix, archive, "record catalog version", fmt.Sprint(v.CatalogKey), func(key string) (bool, error) {
		return s.insertCatalog(ctx, v, key, int64(len(archive)))
	})
}

func (s *Store) insertCatalog(ctx context.Context, v store.NewCatalogVersion, key string, size int64) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110304, hashtext($1))`, v.CatalogRef.String()); err != nil {
			return false, err
		}
	}
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT version FROM catalog_versions WHERE namespace = ? AND name = ?`), v.Namespace, v.Name)
	if err != nil {
		return false, err
	}
	for rows.Next() {
		var x string
		if err := rows.Scan(&x); err != nil {
			rows.Close()
			return false, err
		}
		if module.Same(x, v.Version) {
			rows.Close()
			return false, nil
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO catalog_versions (namespace, name, version, blob_key, size, sha256, published_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`), v.Namespace, v.Name, v.Version, key, size, v.SHA256, v.PublishedAt.UnixNano()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// marks returns the marks of subject's versions at address.
func (s *Store) marks(ctx context.Context, subject, address string) (map[string]store.Marks, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT version, mark, reason, at FROM version_marks WHERE subject = ? AND address = ?`), subject, address)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]store.Marks{}
	for rows.Next() {
		var version, kind, reason string
		var at int64
		if err := rows.Scan(&version, &kind, &reason, &at); err != nil {
			return nil, err
		}
		m := out[version]
		mk := &store.Mark{Reason: reason, At: time.Unix(0, at).UTC()}
		switch store.MarkKind(kind) {
		case store.MarkDeprecated:
			m.Deprecated = mk
		case store.MarkYanked:
			m.Yanked = mk
		}
		out[version] = m
	}
	return out, rows.Err()
}

// setMark sets or clears one mark after checking that the version exists
// (exists is a query returning a row for it).
func (s *Store) setMark(ctx context.Context, subject, address, version string, kind store.MarkKind, m *store.Mark, exists string, args ...any) error {
	if kind != store.MarkDeprecated && kind != store.MarkYanked {
		return fmt.Errorf("unknown mark %q", kind)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, s.rebind(exists), args...).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s/%s: %w", address, version, store.ErrNotFound)
	} else if err != nil {
		return err
	}
	if m == nil {
		_, err = tx.ExecContext(ctx, s.rebind(`DELETE FROM version_marks WHERE subject = ? AND address = ? AND version = ? AND mark = ?`), subject, address, version, string(kind))
	} else {
		_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO version_marks (subject, address, version, mark, reason, at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (subject, address, version, mark) DO UPDATE SET reason = excluded.reason, at = excluded.at`),
			subject, address, version, string(kind), m.Reason, m.At.UnixNano())
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// CatalogVersions implements store.Lifecycle.
func (s *Store) CatalogVersions(ctx context.Context, ref store.CatalogRef) ([]store.CatalogVersion, error) {
	marks, err := s.marks(ctx, "catalog", ref.String())
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT version, blob_key, size, sha256, published_at FROM catalog_versions WHERE namespace = ? AND name = ?`), ref.Namespace, ref.Name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CatalogVersion
	for rows.Next() {
		v := store.CatalogVersion{CatalogKey: store.CatalogKey{CatalogRef: ref}}
		var published int64
		if err := rows.Scan(&v.Version, &v.BlobKey, &v.Size, &v.SHA256, &published); err != nil {
			return nil, err
		}
		v.PublishedAt = time.Unix(0, published).UTC()
		v.Marks = marks[v.Version]
		out = append(out, v)
	}
	return out, rows.Err()
}

// Catalogs implements store.Lifecycle.
func (s *Store) Catalogs(ctx context.Context) ([]store.CatalogRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT namespace, name FROM catalog_versions ORDER BY namespace, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.CatalogRef
	for rows.Next() {
		var r store.CatalogRef
		if err := rows.Scan(&r.Namespace, &r.Name); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// OpenCatalogArchive implements store.Lifecycle.
func (s *Store) OpenCatalogArchive(ctx context.Context, v store.CatalogVersion) (store.Archive, error) {
	if s.blobs == nil {
		return nil, store.ErrNoBlobs
	}
	if v.BlobKey == "" {
		return nil, fmt.Errorf("%s: %w", v.CatalogKey, store.ErrNotFound)
	}
	return s.blobs.Open(ctx, v.BlobKey)
}

// MarkCatalog implements store.Lifecycle.
func (s *Store) MarkCatalog(ctx context.Context, k store.CatalogKey, kind store.MarkKind, m *store.Mark) error {
	return s.setMark(ctx, "catalog", k.CatalogRef.String(), k.Version, kind, m,
		`SELECT 1 FROM catalog_versions WHERE namespace = ? AND name = ? AND version = ?`, k.Namespace, k.Name, k.Version)
}

// ModuleMarks implements store.Lifecycle.
func (s *Store) ModuleMarks(ctx context.Context, ref store.Ref) (map[string]store.Marks, error) {
	return s.marks(ctx, "module", ref.String())
}

// MarkModule implements store.Lifecycle.
func (s *Store) MarkModule(ctx context.Context, k store.Key, kind store.MarkKind, m *store.Mark) error {
	return s.setMark(ctx, "module", k.Ref.String(), k.Version, kind, m,
		`SELECT 1 FROM module_versions WHERE namespace = ? AND name = ? AND system = ? AND version = ?`, k.Namespace, k.Name, k.System, k.Version)
}
