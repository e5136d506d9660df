package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
)

// Module versions: publishing (archive, then row), the version lists, details,
// the module list, archives and download counts.

// Publish implements store.Store: archive first (under a key unique to this
// attempt), then the row; if the row cannot be inserted the archive is deleted.
func (s *Store) Publish(ctx context.Context, v store.NewVersion, archive []byte) error {
	if s.blobs == nil {
		return store.ErrNoBlobs
	}
	var one int
	err := s.exists.QueryRowContext(ctx, v.Namespace, v.Name, v.System, v.Version).Scan(&one)
	switch {
	case err == nil:
		return fmt.Errorf("%s: %w", v.Key, store.ErrExists)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	prefix := fmt.Sprintf("modules/%s/%s/%s/%s", v.Namespace, v.Name, v.System, v.Version)
	return s.putRecorded(ctx, prefix, archive, "record version", fmt.Sprint(v.Key), func(key string) (bool, error) {
		return s.insert(ctx, v, key, int64(len(archive)))
	})
}

// putRecorded stores archive as a new blob (prefix-RANDOM.tar.gz), then
// records it with record, which reports whether it inserted. When record
// fails, or finds the version already there, the blob is deleted again, so a
// refused publish leaves nothing behind; the latter is name: store.ErrExists.
func (s *Store) putRecorded(ctx context.Context, prefix string, archive []byte, recordWhat, name string, record func(key string) (bool, error)) error {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	key := prefix + "-" + hex.EncodeToString(rnd[:]) + ".tar.gz"
	if err := s.blobs.Put(ctx, key, archive); err != nil {
		return fmt.Errorf("store archive: %w", err)
	}
	inserted, err := record(key)
	if err != nil || !inserted {
		// Use a fresh context: the caller's may be what failed.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.blobs.Delete(dctx, key)
		if err != nil {
			return fmt.Errorf("%s: %w", recordWhat, err)
		}
		return fmt.Errorf("%s: %w", name, store.ErrExists)
	}
	return nil
}

func (s *Store) insert(ctx context.Context, v store.NewVersion, key string, size int64) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	existing, err := s.lockVersions(ctx, tx, v.Ref)
	if err != nil {
		return false, err
	}
	for _, x := range existing {
		if module.Same(x, v.Version) {
			return false, nil
		}
	}
	res, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO module_versions
		(namespace, name, system, version, blob_key, size, sha256, published_at, description, readme, doc, downloads)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (namespace, name, system, version) DO NOTHING`),
		v.Namespace, v.Name, v.System, v.Version, key, size, v.SHA256, v.PublishedAt.UnixNano(),
		v.Description, v.Readme, string(v.Doc))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	if module.Latest(append(existing, v.Version)) == len(existing) {
		// The new version is the module's latest.
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO modules (namespace, name, system, address, latest, search, downloads)
			VALUES (?, ?, ?, ?, ?, ?, 0)
			ON CONFLICT (namespace, name, system) DO UPDATE SET latest = excluded.latest, search = excluded.search`),
			v.Namespace, v.Name, v.System, v.Ref.String(), v.Version, searchText(v.Key, v.Description)); err != nil {
			return false, err
		}
	}
	return true, tx.Commit()
}

// lockVersions returns the versions of ref, serialising publishes of ref
// until tx ends (SQLite: the immediate transaction holds the write lock;
// PostgreSQL: an advisory lock on the module), so that two versions equal up
// to build metadata cannot both be inserted and the module's latest version
// is decided by one publish at a time.
func (s *Store) lockVersions(ctx context.Context, tx *sql.Tx, ref store.Ref) ([]string, error) {
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110302, hashtext($1))`, ref.String()); err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT version FROM module_versions WHERE namespace = ? AND name = ? AND system = ?`), ref.Namespace, ref.Name, ref.System)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanVersion(r scanner, extra ...any) (store.Version, error) {
	var v store.Version
	var published int64
	dst := append([]any{&v.Namespace, &v.Name, &v.System, &v.Key.Version, &v.BlobKey, &v.Size, &v.SHA256, &published, &v.Description, &v.Downloads}, extra...)
	if err := r.Scan(dst...); err != nil {
		return v, err
	}
	v.PublishedAt = time.Unix(0, published).UTC()
	return v, nil
}

func collect(rows *sql.Rows, err error) ([]store.Version, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Versions implements store.Store.
func (s *Store) Versions(ctx context.Context, ref store.Ref) ([]store.Version, error) {
	return collect(s.versions.QueryContext(ctx, ref.Namespace, ref.Name, ref.System))
}

// Details implements store.Store.
func (s *Store) Details(ctx context.Context, k store.Key) (store.Details, error) {
	var d store.Details
	var doc string
	v, err := scanVersion(s.details.QueryRowContext(ctx, k.Namespace, k.Name, k.System, k.Version), &d.Readme, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%s: %w", k, store.ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	d.Version = v
	if doc != "" {
		d.Doc = []byte(doc)
	}
	return d, nil
}

// moduleCols are versionCols of the latest version, then the module's downloads.
const moduleCols = `v.namespace, v.name, v.system, v.version, v.blob_key, v.size, v.sha256, v.published_at, v.description, v.downloads, m.downloads`

// Modules implements store.Store: one indexed read of the modules table,
// joined to each module's latest version row.
func (s *Store) Modules(ctx context.Context, q store.ModuleQuery) ([]store.Module, error) {
	var where []string
	var args []any
	if q.Namespace != "" {
		where = append(where, `m.namespace = ?`)
		args = append(args, q.Namespace)
	}
	if q.System != "" {
		where = append(where, `m.system = ?`)
		args = append(args, q.System)
	}
	if q.Query != "" {
		find := `instr(m.search, ?) > 0`
		if s.postgres {
			find = `strpos(m.search, ?) > 0`
		}
		where = append(where, find)
		args = append(args, strings.ToLower(q.Query))
	}
	query := `SELECT ` + moduleCols + ` FROM modules m JOIN module_versions v
		ON v.namespace = m.namespace AND v.name = m.name AND v.system = m.system AND v.version = m.latest`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	limit := int64(math.MaxInt32)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	query += ` ORDER BY m.address LIMIT ? OFFSET ?`
	args = append(args, limit, max(q.Offset, 0))
	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Module{}
	for rows.Next() {
		var m store.Module
		v, err := scanVersion(rows, &m.Downloads)
		if err != nil {
			return nil, err
		}
		m.Latest = v
		out = append(out, m)
	}
	return out, rows.Err()
}

// OpenArchive implements store.Store.
func (s *Store) OpenArchive(ctx context.Context, v store.Version) (store.Archive, error) {
	if s.blobs == nil {
		return nil, store.ErrNoBlobs
	}
	if v.BlobKey == "" {
		return nil, fmt.Errorf("%s: %w", v.Key, store.ErrNotFound)
	}
	return s.blobs.Open(ctx, v.BlobKey)
}

// AddDownloads implements store.Store.
func (s *Store) AddDownloads(ctx context.Context, counts map[store.Key]int64) error {
	if len(counts) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := s.rebind(`UPDATE module_versions SET downloads = downloads + ? WHERE namespace = ? AND name = ? AND system = ? AND version = ?`)
	qm := s.rebind(`UPDATE modules SET downloads = downloads + ? WHERE namespace = ? AND name = ? AND system = ?`)
	for k, n := range counts {
		res, err := tx.ExecContext(ctx, q, n, k.Namespace, k.Name, k.System, k.Version)
		if err != nil {
			return err
		}
		if c, err := res.RowsAffected(); err != nil {
			return err
		} else if c == 0 {
			continue // no such version
		}
		if _, err := tx.ExecContext(ctx, qm, n, k.Namespace, k.Name, k.System); err != nil {
			return err
		}
	}
	return tx.Commit()
}
