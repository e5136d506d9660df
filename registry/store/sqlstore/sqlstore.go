// Package sqlstore implements store.Store with a SQL database for metadata (SQLite
// through modernc.org/sqlite for the embedded default, PostgreSQL through pgx for
// replicas) and a blobs.Blobs for archives (local files or an S3-compatible bucket).
// Version lists always come from the database, never from listing the blob store.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

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

	versions, details, exists, token *sql.Stmt

	usage  lazyTable // usage.go
	stacks lazyTable // stacks.go
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
CREATE TABLE IF NOT EXISTS modules (
	namespace TEXT NOT NULL,
	name      TEXT NOT NULL,
	system    TEXT NOT NULL,
	address   TEXT {{collate}} NOT NULL,
	latest    TEXT NOT NULL,
	search    TEXT NOT NULL,
	downloads BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (namespace, name, system)
);
CREATE UNIQUE INDEX IF NOT EXISTS modules_address ON modules (address);
CREATE INDEX IF NOT EXISTS modules_namespace ON modules (namespace, address);
CREATE INDEX IF NOT EXISTS modules_system ON modules (system, address);
`

// The modules table holds one row per module: its address (ns/name/system,
// the list order), its latest version, the lower-case text searches match
// (address with version, and description) and the downloads of all versions.
// Publish and AddDownloads keep it current; lists read it instead of every
// version (#17 finding 13). modulesBackfilled marks a database whose modules
// table was filled from module_versions, for databases made before it existed.
const modulesBackfilled = "modules_table_v1"

const versionCols = `namespace, name, system, version, blob_key, size, sha256, published_at, description, downloads`

func open(ctx context.Context, db *sql.DB, b blobs.Blobs, postgres bool) (*Store, error) {
	s := &Store{db: db, blobs: b, postgres: postgres}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema: %w", err)
	}
	if err := s.migrateLifecycle(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("create lifecycle schema: %w", err)
	}
	prep := []struct {
		dst   **sql.Stmt
		query string
	}{
		{&s.versions, `SELECT ` + versionCols + ` FROM module_versions WHERE namespace = ? AND name = ? AND system = ?`},
		{&s.details, `SELECT ` + versionCols + `, readme, doc FROM module_versions WHERE namespace = ? AND name = ? AND system = ? AND version = ?`},
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
	collate := "" // SQLite compares TEXT as bytes
	if s.postgres {
		collate = `COLLATE "C"`
	}
	for _, stmt := range strings.Split(strings.ReplaceAll(schema, "{{collate}}", collate), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	if err := s.migrateProviders(ctx, tx); err != nil {
		return fmt.Errorf("provider tables: %w", err)
	}
	if err := s.backfillModules(ctx, tx); err != nil {
		return fmt.Errorf("fill modules table: %w", err)
	}
	return tx.Commit()
}

// backfillModules fills the modules table from module_versions once.
func (s *Store) backfillModules(ctx context.Context, tx *sql.Tx) error {
	var v string
	err := tx.QueryRowContext(ctx, s.rebind(`SELECT value FROM settings WHERE key = ?`), modulesBackfilled).Scan(&v)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT namespace, name, system, version, description, downloads FROM module_versions`)
	if err != nil {
		return err
	}
	type ver struct {
		version, description string
	}
	type agg struct {
		versions  []ver
		downloads int64
	}
	mods := map[store.Ref]*agg{}
	for rows.Next() {
		var ref store.Ref
		var x ver
		var dl int64
		if err := rows.Scan(&ref.Namespace, &ref.Name, &ref.System, &x.version, &x.description, &dl); err != nil {
			rows.Close()
			return err
		}
		a := mods[ref]
		if a == nil {
			a = &agg{}
			mods[ref] = a
		}
		a.versions = append(a.versions, x)
		a.downloads += dl
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM modules`); err != nil {
		return err
	}
	for ref, a := range mods {
		names := make([]string, len(a.versions))
		for i, x := range a.versions {
			names[i] = x.version
		}
		l := a.versions[module.Latest(names)]
		k := store.Key{Ref: ref, Version: l.version}
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO modules (namespace, name, system, address, latest, search, downloads) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			ref.Namespace, ref.Name, ref.System, ref.String(), l.version, searchText(k, l.description), a.downloads); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO settings (key, value) VALUES (?, ?)`), modulesBackfilled, "1")
	return err
}

// searchText is what ModuleQuery.Query is matched against.
func searchText(k store.Key, description string) string {
	return strings.ToLower(k.String() + " " + description)
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

// Close implements store.Store.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.versions, s.details, s.exists, s.token} {
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
