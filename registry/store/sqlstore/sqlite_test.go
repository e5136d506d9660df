package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/platdev/plat/registry/store"
	"github.com/platdev/plat/registry/store/blobs"
	"github.com/platdev/plat/registry/store/sqlstore"
	"github.com/platdev/plat/registry/store/storetest"
)

// TestSQLiteFilesConformance runs the conformance suite on the embedded default:
// SQLite metadata plus archive files.
func TestSQLiteFilesConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func() (store.Store, error) {
			b, err := blobs.NewFiles(filepath.Join(dir, "archives"))
			if err != nil {
				return nil, err
			}
			return sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "registry.db"), b)
		}
	})
}

// TestSQLiteCachedFilesConformance runs it again with the in-memory archive
// cache in front of the files, as `plat registry serve` runs by default.
func TestSQLiteCachedFilesConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		dir := t.TempDir()
		return func() (store.Store, error) {
			f, err := blobs.NewFiles(filepath.Join(dir, "archives"))
			if err != nil {
				return nil, err
			}
			b, err := blobs.NewCache(f, 1<<20)
			if err != nil {
				return nil, err
			}
			return sqlstore.OpenSQLite(context.Background(), filepath.Join(dir, "registry.db"), b)
		}
	})
}
