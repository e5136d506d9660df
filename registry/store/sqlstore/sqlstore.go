// Package sqlstore implements store.Store with a SQL database for metadata (SQLite
// through modernc.org/sqlite for the embedded default, PostgreSQL through pgx for
// replicas) and a blobs.Blobs for archives (local files or an S3-compatible bucket).
// Version lists always come from the database, never from listing the blob store.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	// Registers the "pgx" database/sql driver.
	_ "github.com/jackc/pgx/v5/stdlib"
	// Registers the "sqlite" database/sql driver.
	_ "modernc.org/sqlite"

	"github.com/platdev/plat/registry/internal/ownerfs"
	"github.com/platdev/plat/registry/module"
	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/store/blobs"
)

// Store is a store.Store over database/sql and blobs.Blobs.
type Store struct {
	db       *sql.DB
	blobs    blobs.Blobs // nil when opened for metadata only
	postgres bool

	versions, details, list, listAll, exists, token *sql.Stmt
}

var _ store.Store = (*Store)(nil)

// OpenSQLite opens (creating if needed) the SQLite database at path in WAL mode.
// b may be nil for a metadata-only store (token management).
func OpenSQLite(ctx context.Context, path string, b blobs.Blobs) (*Store, error) {
	// The database holds the grant signing key: only its owner may read it.
	// SQLite gives the -wal and -shm files the database file's mode.
	if err := ownerfs.MkdirAll(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := ownerfs.CreateFile(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return open(ctx, db, b, false)
}

// OpenPostgres connects to PostgreSQL at dsn (postgres://...). b may be nil for a
// metadata-only store.
func OpenPostgres(ctx context.Context, dsn string, b blobs.Blobs) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	return open(ctx, db, b, true)
}

const schema = `
CREATE TABLE IF NOT EXISTS module_versions (
	namespace    TEXT NOT NULL,
	name         TEXT NOT NULL,
	system       TEXT NOT NULL,
	version      TEXT NOT NULL,
	blob_key     TEXT NOT NULL,
	size         BIGINT NOT NULL,
	sha256       TEXT NOT NULL,
	published_at BIGINT NOT NULL,
	description  TEXT NOT NULL DEFAULT '',
	readme       TEXT NOT NULL DEFAULT '',
	doc          TEXT NOT NULL DEFAULT '',
	downloads    BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (namespace, name, system, version)
);
CREATE TABLE IF NOT EXISTS tokens (
	hash       TEXT PRIMARY KEY,
	namespace  TEXT NOT NULL,
	scope      TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`

const versionCols = `namespace, name, system, version, blob_key, size, sha256, published_at, description, downloads`

func open(ctx context.Context, db *sql.DB, b blobs.Blobs, postgres bool) (*Store, error) {
	s := &Store{db: db, blobs: b, postgres: postgres}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	prep := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.versions, `SELECT ` + versionCols + ` FROM module_versions WHERE namespace = ? AND name = ? AND system = ?`},
		{&s.details, `SELECT ` + versionCols + `, readme, doc FROM module_versions WHERE namespace = ? AND name = ? AND system = ? AND version = ?`},
		{&s.list, `SELECT ` + versionCols + ` FROM module_versions WHERE namespace = ? ORDER BY namespace, name, system`},
		{&s.listAll, `SELECT ` + versionCols + ` FROM module_versions ORDER BY namespace, name, system`},
		{&s.exists, `SELECT 1 FROM module_versions WHERE namespace = ? AND name = ? AND system = ? AND version = ?`},
		{&s.token, `SELECT hash, namespace, scope, created_at FROM tokens WHERE hash = ?`},
	}
	for _, p := range prep {
		st, err := db.PrepareContext(ctx, s.rebind(p.query))
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p.dst = st
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.postgres {
		// Replicas starting together must not race on CREATE TABLE.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110301)`); err != nil {
			return err
		}
	}
	for _, stmt := range strings.Split(schema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Store) rebind(q string) string {
	if !s.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

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
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	key := fmt.Sprintf("modules/%s/%s/%s/%s-%s.tar.gz", v.Namespace, v.Name, v.System, v.Version, hex.EncodeToString(rnd[:]))
	if err := s.blobs.Put(ctx, key, archive); err != nil {
		return fmt.Errorf("store archive: %w", err)
	}
	inserted, err := s.insert(ctx, v, key, int64(len(archive)))
	if err != nil || !inserted {
		// Use a fresh context: the caller's may be what failed.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.blobs.Delete(dctx, key)
		if err != nil {
			return fmt.Errorf("record version: %w", err)
		}
		return fmt.Errorf("%s: %w", v.Key, store.ErrExists)
	}
	return nil
}

func (s *Store) insert(ctx context.Context, v store.NewVersion, key string, size int64) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if same, err := s.sameVersion(ctx, tx, v.Key); err != nil || same {
		return false, err
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
	return true, tx.Commit()
}

// sameVersion reports whether the module of k holds a version equal to
// k.Version up to build metadata. Publishes of one module are serialised
// until tx ends (SQLite: the immediate transaction holds the write lock;
// PostgreSQL: an advisory lock on the module), so two such versions cannot
// both be inserted.
func (s *Store) sameVersion(ctx context.Context, tx *sql.Tx, k store.Key) (bool, error) {
	if s.postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(74110302, hashtext($1))`, k.Ref.String()); err != nil {
			return false, err
		}
	}
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT version FROM module_versions WHERE namespace = ? AND name = ? AND system = ?`), k.Namespace, k.Name, k.System)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return false, err
		}
		if module.Same(v, k.Version) {
			return true, nil
		}
	}
	return false, rows.Err()
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

// List implements store.Store.
func (s *Store) List(ctx context.Context, namespace string) ([]store.Version, error) {
	if namespace == "" {
		return collect(s.listAll.QueryContext(ctx))
	}
	return collect(s.list.QueryContext(ctx, namespace))
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
	for k, n := range counts {
		if _, err := tx.ExecContext(ctx, q, n, k.Namespace, k.Name, k.System, k.Version); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// CreateToken implements store.Store.
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO tokens (hash, namespace, scope, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`),
		t.Hash, t.Namespace, string(t.Scope), t.CreatedAt.UnixNano())
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("token: %w", store.ErrExists)
	}
	return nil
}

// Token implements store.Store.
func (s *Store) Token(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(s.token.QueryRowContext(ctx, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return t, err
}

// scanToken reads a row of hash, namespace, scope, created_at.
func scanToken(row interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var scope string
	var created int64
	if err := row.Scan(&t.Hash, &t.Namespace, &scope, &created); err != nil {
		return store.Token{}, err
	}
	t.Scope = store.Scope(scope)
	t.CreatedAt = time.Unix(0, created).UTC()
	return t, nil
}

// Tokens implements store.Store.
func (s *Store) Tokens(ctx context.Context, namespace string) ([]store.Token, error) {
	q := `SELECT hash, namespace, scope, created_at FROM tokens`
	var args []any
	if namespace != "" {
		q += ` WHERE namespace = ?`
		args = append(args, namespace)
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q+` ORDER BY created_at, hash`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteToken implements store.Store.
func (s *Store) DeleteToken(ctx context.Context, hash string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM tokens WHERE hash = ?`), hash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("token: %w", store.ErrNotFound)
	}
	return nil
}

// SigningKey implements store.Store: the first caller's random key wins, and every
// later caller (on any replica) reads that one.
func (s *Store) SigningKey(ctx context.Context) ([]byte, error) {
	var rnd [32]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`),
		"grant_key", hex.EncodeToString(rnd[:])); err != nil {
		return nil, err
	}
	var v string
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT value FROM settings WHERE key = ?`), "grant_key").Scan(&v); err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// Close implements store.Store.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.versions, s.details, s.list, s.listAll, s.exists, s.token} {
		if st != nil {
			st.Close()
		}
	}
	err := s.db.Close()
	if s.blobs != nil {
		if berr := s.blobs.Close(); err == nil {
			err = berr
		}
	}
	return err
}
