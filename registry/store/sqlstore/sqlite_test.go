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
