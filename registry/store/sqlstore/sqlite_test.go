package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/store/blobs"
	"github.com/platdev/plat/registry/store/sqlstore"
	"github.com/platdev/plat/registry/store/storetest"
)

// TestSQLiteFilesConformance runs the conformance suite on the embedded default:
// SQLite metadata plus archive files.
func TestSQLiteFilesConformance(t *testing.T) { storetest.Run(t, sqliteFiles(0)) }

// TestSQLiteCachedFilesConformance runs it again with the in-memory archive
// cache in front of the files, as `plat registry serve` runs by default.
func TestSQLiteCachedFilesConformance(t *testing.T) { storetest.Run(t, sqliteFiles(1<<20)) }

// sqliteFiles opens SQLite plus archive files in a new directory, with an
// archive cache of cache bytes in front of the files unless cache is 0.
func sqliteFiles(cache int64) func(t *testing.T) storetest.Opener {
	return func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func() (store.Store, error) {
			var b blobs.Blobs
			b, err := blobs.NewFiles(filepath.Join(dir, "archives"))
			if err != nil {
				return nil, err
			}
			if cache > 0 {
				if b, err = blobs.NewCache(b, cache); err != nil {
					return nil, err
				}
			}
			return sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "registry.db"), b)
		}
	}
}

// TestSQLiteModulesBackfill opens a database made before the modules table
// existed (here: one whose table was emptied and its marker removed) and
// expects lists to be filled from the stored versions.
func TestSQLiteModulesBackfill(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "registry.db")
	open := func() *sqlstore.Store {
		b, err := blobs.NewFiles(filepath.Join(dir, "archives"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := sqlstore.OpenSQLite(ctx, path, b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	for _, v := range []string{"1.0.0", "2.0.0+b", "3.0.0-rc.1"} {
		k := store.Key{Ref: store.Ref{Namespace: "acme", Name: "net", System: "aws"}, Version: v}
		if err := s.Publish(ctx, store.NewVersion{Key: k, Description: "d " + v}, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddDownloads(ctx, map[store.Key]int64{{Ref: store.Ref{Namespace: "acme", Name: "net", System: "aws"}, Version: "1.0.0"}: 4}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE modules; DELETE FROM settings WHERE key = 'modules_table_v1'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s = open()
	defer s.Close()
	ms, err := s.Modules(ctx, store.ModuleQuery{Query: "d 2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Latest.Version != "2.0.0+b" || ms[0].Downloads != 4 {
		t.Fatalf("modules after backfill = %+v", ms)
	}
}
